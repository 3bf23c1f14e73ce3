#pragma once
// The emulator's instances are real ferry-agent processes on loopback: each
// created instance starts `ferry-agent serve --host 127.0.0.1 --port 0` in
// its own folder with the environment the create call carried. They die
// with the emulator (PR_SET_PDEATHSIG) and on destroy.

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace ferry::fakecloud {

class AgentProcess {
 public:
  /// Starts the agent; throws std::runtime_error when it cannot.
  AgentProcess(const std::filesystem::path& agent_binary, const std::filesystem::path& work_dir,
               const std::map<std::string, std::string>& env);
  ~AgentProcess();  ///< kill()
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  /// The port it listens on, once its port file is written.
  std::optional<int> port();
  /// When it wrote its port file (unix seconds, to the file system's
  /// resolution): the moment it listened, known once port() has seen it.
  std::optional<double> listening_since() const { return listening_since_; }
  /// False once the process has exited (reaps it).
  bool alive();
  /// SIGKILL to its process group, reap, remove its folder. Idempotent.
  void kill();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::filesystem::path work_dir_;
  std::optional<int> port_;
  std::optional<double> listening_since_;
};

}  // namespace ferry::fakecloud
