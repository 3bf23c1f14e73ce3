#pragma once
// Child processes for end-to-end tests: start a real binary with extra
// environment variables and its stderr captured to a file, send it signals,
// wait for it with a bound, and never leave it behind (the destructor kills
// and reaps it, and the child dies with the test process if that crashes).

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ferry::test {

class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;                    ///< argv[0] is the binary's path
    std::map<std::string, std::string> env;           ///< added to (or replacing) the test's environment
    std::vector<std::string> unset_env;               ///< removed from the environment
    std::filesystem::path stdout_path;                ///< empty: /dev/null
    std::filesystem::path stderr_path;                ///< empty: /dev/null
    std::filesystem::path working_dir;                ///< empty: the test's
  };

  /// Starts the process; throws std::runtime_error when it cannot.
  explicit ChildProcess(Options options);
  ~ChildProcess();  ///< SIGKILL and reap when still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  /// True until the process has exited (and been reaped by wait_for_exit).
  bool running();
  /// Sends a signal; no-op once exited.
  void signal(int signal_number);
  /// Waits up to `timeout` for the process to exit. The result is its exit
  /// status, or 128 + signal number when a signal killed it; nullopt on timeout.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  /// SIGKILL, then reap.
  void kill_and_wait();

 private:
  int pid_ = -1;
  std::optional<int> exit_status_;
};

/// What a finished command printed and how it ended.
struct Finished {
  int status = -1;  ///< exit status, 128 + signal, or -1 when it ran past the bound (then killed)
  std::string out, err;
};

/// The environment of a `ferry` command in end-to-end tests on the local
/// provider: its state under work_dir/state, temporary files under
/// work_dir/tmp, `agent_binary` as the agent, no colour.
std::map<std::string, std::string> local_ferry_environment(const std::filesystem::path& work_dir,
                                                           const std::string& agent_binary);

/// Runs `options` to its end (at most `timeout`) with stdout and stderr
/// captured to files in `capture_dir`, and returns both as text.
Finished run_to_end(ChildProcess::Options options, const std::filesystem::path& capture_dir,
                    std::chrono::milliseconds timeout);

}  // namespace ferry::test
