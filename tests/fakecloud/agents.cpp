#include "tests/fakecloud/agents.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace ferry::fakecloud {
namespace {

// PR_SET_PDEATHSIG fires when the *thread* that forked exits, and every
// request is served on a thread of its own that ends with its connection:
// an agent forked there would die when the client that created it hung up
// (as `ferry run --keep` does). Forks happen on this one thread instead,
// which lives as long as the emulator.
class ForkThread {
 public:
  static ForkThread& instance() {
    static ForkThread thread;
    return thread;
  }

  pid_t run(const std::function<pid_t()>& fork_child) {
    std::packaged_task<pid_t()> task(fork_child);
    auto forked = task.get_future();
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
    return forked.get();
  }

 private:
  ForkThread() : thread_([this] { serve(); }) {}
  ~ForkThread() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  void serve() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<pid_t()>> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

AgentProcess::AgentProcess(const std::filesystem::path& agent_binary, const std::filesystem::path& work_dir,
                           const std::map<std::string, std::string>& env)
    : work_dir_(work_dir) {
  std::filesystem::create_directories(work_dir / "jobs");
  std::vector<std::string> args{agent_binary.string(), "serve", "--host", "127.0.0.1", "--port", "0",
                                "--port-file", (work_dir / "port").string(), "--jobs", (work_dir / "jobs").string()};
  std::vector<std::string> environment;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string text(*entry);
    if (!env.count(text.substr(0, text.find('=')))) environment.push_back(text);
  }
  for (const auto& [name, value] : env) environment.push_back(name + "=" + value);
  std::vector<char*> argv, envp;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string log_path = (work_dir / "agent.log").string();
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_path + ": " + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_ = ForkThread::instance().run([&] {
    const pid_t child = ::fork();
    if (child == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // no agent outlives the emulator
      if (::getppid() != parent) ::_exit(0);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    return child;
  });
  ::close(log_fd);
  if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  ::setpgid(pid_, pid_);
}

AgentProcess::~AgentProcess() { kill(); }

std::optional<int> AgentProcess::port() {
  if (port_) return port_;
  std::ifstream file(work_dir_ / "port");
  int value = 0;
  if (file >> value && value > 0 && value < 65536) {
    port_ = value;
    struct stat written {};
    if (::stat((work_dir_ / "port").c_str(), &written) == 0)
      listening_since_ = static_cast<double>(written.st_mtim.tv_sec) + static_cast<double>(written.st_mtim.tv_nsec) / 1e9;
  }
  return port_;
}

bool AgentProcess::alive() {
  if (reaped_) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_ || (done < 0 && errno == ECHILD)) reaped_ = true;
  return !reaped_;
}

void AgentProcess::kill() {
  if (pid_ > 0 && !reaped_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  if (pid_ > 0) ::kill(-pid_, SIGKILL);  // anything it left in its group
  std::error_code ignored;
  if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_, ignored);
}

}  // namespace ferry::fakecloud
