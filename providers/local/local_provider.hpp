#pragma once
// The `local` provider: the "instance" is a ferry-agent child process on this
// machine, listening on 127.0.0.1 on a port it picks. No cloud, no cost.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>

#include "providers/provider.hpp"

namespace ferry::providers {

/// Where the ferry-agent binary is: $FERRY_AGENT_BIN, else beside the running
/// executable, else ../agent/ferry-agent from it (the build tree), else PATH.
/// The error says how to point ferry at it.
Result<std::filesystem::path> locate_agent_binary();

struct LocalProviderOptions {
  /// Explicit agent binary; empty: locate_agent_binary().
  std::filesystem::path agent_binary;
  /// Folder under which each instance gets its work folder (port file, jobs,
  /// log); empty: the system temporary folder ($TMPDIR or /tmp).
  std::filesystem::path work_root;
  /// False: the agent gets SIGTERM when ferry dies, even by SIGKILL. True
  /// (`--keep`): it outlives ferry and stops on its own idle timeout.
  bool outlive_controller = false;
  /// How long destroy waits after SIGTERM before SIGKILL.
  std::chrono::milliseconds stop_grace{5000};
};

class LocalProvider final : public Provider {
 public:
  explicit LocalProvider(LocalProviderOptions options = {});
  /// Stops every agent this object started that was not kept.
  ~LocalProvider() override;

  std::string name() const override { return "local"; }
  /// One offer, "local", at price 0.
  Result<std::vector<Offer>> search(const config::Resources& request) override;
  /// Starts the agent (its own process group, environment = ours + launch.env)
  /// and returns "local-<pid>" at once, before the agent listens.
  Result<std::string> create(const Offer& offer, const LaunchSpec& launch) override;
  /// running with endpoint "http://127.0.0.1:PORT" once the port file is
  /// written; starting before; exited (with the log's last lines) if it died.
  Result<InstanceInfo> get(const std::string& id) override;
  /// SIGTERM, a grace period, SIGKILL; reaps it and removes its work folder.
  Status destroy(const std::string& id) override;
  Result<std::vector<InstanceInfo>> list(const std::string& label_prefix) override;

  /// The work folder of an instance (holds agent.log), for messages.
  std::optional<std::filesystem::path> work_dir(const std::string& id) const;

 private:
  struct Child {
    pid_t pid = -1;
    std::filesystem::path work_dir;
    std::string label;
    bool reaped = false;
    int wait_status = 0;
    bool cleaned = false;  ///< destroyed: group swept, work folder removed
  };
  /// Non-blocking reap; true if the child has exited.
  bool poll_exit(Child& child);

  LocalProviderOptions options_;
  std::map<std::string, Child> children_;
};

}  // namespace ferry::providers
