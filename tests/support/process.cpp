#include "tests/support/process.hpp"

#include "tests/support/files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace ferry::test {
namespace {

int status_to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int open_output(const std::filesystem::path& path) {
  const char* target = path.empty() ? "/dev/null" : path.c_str();
  return ::open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

}  // namespace

ChildProcess::ChildProcess(Options options) {
  if (options.argv.empty()) throw std::runtime_error("ChildProcess: empty argv");
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls are allowed.
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry; ++entry) {
    std::string item(*entry);
    auto name = item.substr(0, item.find('='));
    bool dropped = options.env.count(name) > 0;
    for (const auto& unset : options.unset_env) dropped = dropped || unset == name;
    if (!dropped) env_strings.push_back(std::move(item));
  }
  for (const auto& [name, value] : options.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp, argv;
  for (auto& item : env_strings) envp.push_back(item.data());
  envp.push_back(nullptr);
  for (auto& arg : options.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int out_fd = open_output(options.stdout_path);
  const int err_fd = open_output(options.stderr_path);
  if (out_fd < 0 || err_fd < 0) throw std::runtime_error("ChildProcess: cannot open output files");
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    // Dies with the test process, so a crashed test leaves no orphan.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0) ::dup2(null_in, STDIN_FILENO);
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) ::_exit(127);
    // Restore default signal handling a test runner may have changed.
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_status_) kill_and_wait();
}

bool ChildProcess::running() {
  if (exit_status_) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_status_ = status_to_code(status);
    return false;
  }
  return true;
}

void ChildProcess::signal(int signal_number) {
  if (running()) ::kill(pid_, signal_number);
}

std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_status_;
}

void ChildProcess::kill_and_wait() {
  if (exit_status_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = status_to_code(status);
}

std::map<std::string, std::string> local_ferry_environment(const std::filesystem::path& work_dir,
                                                           const std::string& agent_binary) {
  return {{"XDG_STATE_HOME", (work_dir / "state").string()},
          {"TMPDIR", (work_dir / "tmp").string()},
          {"FERRY_AGENT_BIN", agent_binary},
          {"NO_COLOR", "1"}};
}

Finished run_to_end(ChildProcess::Options options, const std::filesystem::path& capture_dir,
                    std::chrono::milliseconds timeout) {
  options.stdout_path = capture_dir / "stdout.txt";
  options.stderr_path = capture_dir / "stderr.txt";
  Finished finished;
  {
    ChildProcess child(options);
    finished.status = child.wait_for_exit(timeout).value_or(-1);
  }
  finished.out = read_text(options.stdout_path);
  finished.err = read_text(options.stderr_path);
  return finished;
}

}  // namespace ferry::test
