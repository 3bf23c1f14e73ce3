#pragma once
// The emulator's state: the offer catalogue, the instances (each a real
// ferry-agent), the faults asked for, and the ledger of what was created,
// destroyed and what it cost. One mutex guards it all; handlers lock it.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakecloud/agents.hpp"

namespace ferry::fakecloud {

using Clock = std::chrono::steady_clock;

/// One request as the handlers see it.
struct Request {
  std::string method;
  std::string path;                            ///< without the query
  std::map<std::string, std::string> query;    ///< decoded
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};
Response json_response(int status, const nlohmann::json& body);
Response text_response(int status, std::string body);

/// Faults on demand, set through POST /_fake/faults. Counters apply to the
/// next N matching events and count down.
struct Faults {
  int vanish_offers = 0;       ///< creates answer "offer gone"
  int stuck_loading = 0;       ///< instances never leave loading
  int exit_instances = 0;      ///< instances end in exited (container error)
  int offline_instances = 0;   ///< instances end offline (Vast)
  int create_error_with_contract = 0;  ///< Vast: create fails yet makes a stopped instance
  int rate_limit = 0;          ///< API calls answer 429 (Vast without Retry-After)
  int retry_after_seconds = 0; ///< Retry-After sent by RunPod's 429s
  int server_errors = 0;       ///< API calls answer 503
  int destroy_failures = 0;    ///< destroys answer 500
  int ports_late_ms = 0;       ///< ports appear this long after running
  int slow_ms = 0;             ///< every API answer is delayed this long
  int boot_ms = 300;           ///< create to running
};

enum class Kind { vast, runpod, fly };
std::string to_string(Kind kind);

struct Instance {
  std::string id;
  Kind kind = Kind::vast;
  std::string offer;
  double price_per_hour = 0;
  std::string label;
  std::string app;                     ///< Fly
  bool http_port = false;              ///< RunPod: "8185/http"
  int internal_port = 8185;
  Clock::time_point created;
  double created_unix = 0;
  std::optional<double> destroyed_unix;
  std::string fate;                    ///< "", "stuck", "exited", "offline", "stopped"
  std::unique_ptr<AgentProcess> agent;
  bool killed = false;                 ///< agent killed on request
};

/// What an instance looks like right now.
struct Phase {
  enum Name { provisioning, loading, running, exited, offline, stopped, destroyed } name = provisioning;
  std::optional<int> port;  ///< the agent's loopback port, once it may be shown
};

class World {
 public:
  World(std::filesystem::path agent_binary, std::filesystem::path work_root);
  ~World();  ///< kills every agent

  std::mutex mutex;
  Faults faults;
  nlohmann::json vast_offers;    ///< rows as Vast returns them
  nlohmann::json runpod_gpus;    ///< v2 catalog entries
  std::map<std::string, Instance> instances;
  std::map<std::string, std::vector<std::string>> fly_apps;  ///< app -> machine ids
  std::map<std::string, bool> fly_app_ips;

  /// Starts the agent for a new instance and records it in the ledger.
  /// `fate` forces an ending ("stopped": no agent at all); empty: faults decide.
  Instance& create(Kind kind, std::string id, std::string offer, double price_per_hour, std::string label,
                   const std::map<std::string, std::string>& env, std::string fate = {});
  Phase phase(Instance& instance);
  /// Kills the agent and stamps the ledger; false if already destroyed.
  bool destroy(Instance& instance);
  /// Takes one from a fault counter: true when the fault applies now.
  static bool take(int& counter);
  std::string next_id(const std::string& prefix);
  nlohmann::json ledger();
  /// The agent port behind a proxy name: a Fly app ("ferry-x-abc") with a
  /// started machine, or a RunPod "{pod_id}-{port}" whose pod runs.
  std::optional<int> proxy_port(const std::string& name);
  /// Destroys every instance (on shutdown).
  void destroy_all();

 private:
  std::filesystem::path agent_binary_;
  std::filesystem::path work_root_;
  long next_id_ = 1000;
};

double unix_now();
/// The built-in catalogue (a few Vast rows and RunPod GPU types).
nlohmann::json default_vast_offers();
nlohmann::json default_runpod_gpus();

}  // namespace ferry::fakecloud
