#pragma once
// What every connection of the agent's server shares: options, the job
// manager, the agent's description, and activity bookkeeping for the idle
// timeout.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "agent/engines/compute.hpp"
#include "agent/jobs/job_manager.hpp"

namespace ferry::agent::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8185;                     ///< 0: any free port
  std::string token;                             ///< bearer token; never logged
  std::uint64_t max_upload_bytes = 20'000'000'000;
  std::uint64_t max_json_bytes = 1 << 20;        ///< request bodies other than uploads
  /// Time allowed for a request's header to arrive (also the keep-alive idle limit).
  std::chrono::milliseconds header_timeout{30'000};
  /// Time allowed without progress while reading a body or writing a response.
  std::chrono::milliseconds io_timeout{60'000};
  int threads = 4;                               ///< I/O threads
};

/// Lifecycle of the agent as /v1/health reports it; BUSY is derived from
/// the queue while ready.
enum class AgentPhase { starting, ready, setup_failed };

/// Facts about this agent for /v1/health and /v1/status.
struct AgentInfo {
  std::string version;
  ComputeInfo compute;
  std::chrono::steady_clock::time_point started{};
  std::optional<std::chrono::milliseconds> idle_timeout;
  std::optional<std::chrono::milliseconds> deadline;  ///< since `started`
};

struct ServerContext {
  ServerContext(ServerOptions options_in, jobs::JobManager& jobs_in, AgentInfo info_in)
      : options(std::move(options_in)), jobs(jobs_in), info(std::move(info_in)) {
    touch();
  }

  const ServerOptions options;
  jobs::JobManager& jobs;
  const AgentInfo info;
  std::atomic<AgentPhase> phase{AgentPhase::starting};

  /// Records that a request arrived or finished (the idle clock restarts).
  void touch() {
    last_activity_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
  std::chrono::steady_clock::time_point last_activity() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(last_activity_ns_.load(std::memory_order_relaxed)));
  }

 private:
  std::atomic<std::int64_t> last_activity_ns_{0};
};

}  // namespace ferry::agent::http
