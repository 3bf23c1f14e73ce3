#include "providers/local/local_provider.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace ferry::providers {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kIdPrefix = "local-";

bool is_executable_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error) && ::access(path.c_str(), X_OK) == 0;
}

std::string last_lines(const fs::path& file, std::size_t count) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > count) lines.erase(lines.begin());
  }
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + ::strsignal(WTERMSIG(status));
  return "stopped";
}

// The child inherits our environment with the launch's variables on top.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    auto name = text.substr(0, text.find('='));
    if (!overrides.count(std::string(name))) env.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

std::string folder_safe(std::string text) {
  for (char& c : text)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) c = '-';
  return text.substr(0, 64);
}

std::optional<pid_t> pid_from_id(const std::string& id) {
  if (id.rfind(kIdPrefix, 0) != 0) return std::nullopt;
  try {
    std::size_t used = 0;
    long pid = std::stol(id.substr(kIdPrefix.size()), &used);
    if (used != id.size() - kIdPrefix.size() || pid <= 1) return std::nullopt;
    return static_cast<pid_t>(pid);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// True when `pid` is a live ferry-agent: an agent kept by an earlier ferry
// process is only ever signalled after this check, so a reused pid is safe.
bool is_running_agent(pid_t pid) {
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string argv0;
  if (!cmdline || !std::getline(cmdline, argv0, '\0')) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto state_at = line.rfind(')');
  if (state_at != std::string::npos && state_at + 2 < line.size() && line[state_at + 2] == 'Z') return false;
  return fs::path(argv0).filename() == "ferry-agent";
}

// Stops an agent that is not our child (kept by an earlier ferry): we cannot
// reap it, so wait for it to disappear.
Status stop_foreign_agent(pid_t pid, std::chrono::milliseconds grace) {
  if (!is_running_agent(pid)) return {};
  ::kill(-pid, SIGTERM);
  ::kill(pid, SIGTERM);
  auto until = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < until) {
    if (!is_running_agent(pid)) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 40 && is_running_agent(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (is_running_agent(pid))
    return fail(ErrorCode::unavailable, "ferry-agent (pid " + std::to_string(pid) + ") did not stop after SIGKILL");
  return {};
}

}  // namespace

Result<fs::path> locate_agent_binary() {
  if (const char* explicit_path = std::getenv("FERRY_AGENT_BIN"); explicit_path && *explicit_path) {
    if (is_executable_file(explicit_path)) return fs::path(explicit_path);
    return fail(ErrorCode::not_found,
                std::string("FERRY_AGENT_BIN is set to '") + explicit_path +
                    "', which is not an executable file; point it at the ferry-agent binary",
                "FERRY_AGENT_BIN");
  }
  std::vector<fs::path> searched;
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    searched.push_back(self.parent_path() / "ferry-agent");
    searched.push_back((self.parent_path() / ".." / "agent" / "ferry-agent").lexically_normal());
  }
  for (const auto& candidate : searched)
    if (is_executable_file(candidate)) return candidate;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream folders(path);
    for (std::string folder; std::getline(folders, folder, ':');) {
      if (folder.empty()) continue;
      fs::path candidate = fs::path(folder) / "ferry-agent";
      if (is_executable_file(candidate)) return candidate;
    }
  }
  std::string looked;
  for (const auto& candidate : searched) looked += candidate.string() + ", ";
  return fail(ErrorCode::not_found,
              "cannot find the ferry-agent binary (looked at " + looked +
                  "and on PATH); install it beside ferry or set FERRY_AGENT_BIN to its path",
              "FERRY_AGENT_BIN");
}

LocalProvider::LocalProvider(LocalProviderOptions options) : options_(std::move(options)) {}

LocalProvider::~LocalProvider() {
  if (options_.outlive_controller) return;
  for (auto& [id, child] : children_) (void)destroy(id);
}

Result<std::vector<Offer>> LocalProvider::search(const config::Resources&) {
  Offer offer;
  offer.provider = "local";
  offer.id = "local";
  offer.price_per_hour = 0;
  offer.region = "this machine";
  return std::vector<Offer>{offer};
}

Result<std::string> LocalProvider::create(const Offer&, const LaunchSpec& launch) {
  fs::path binary = options_.agent_binary;
  if (binary.empty()) {
    auto located = locate_agent_binary();
    if (!located) return fail(located.error());
    binary = *located;
  }
  std::error_code error;
  fs::path root = options_.work_root.empty() ? fs::temp_directory_path(error) : options_.work_root;
  if (error) root = "/tmp";
  std::string pattern = (root / ("ferry-local-" + folder_safe(launch.label) + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data()))
    return fail(ErrorCode::io_error,
                "cannot create a work folder for the local agent under '" + root.string() + "': " + std::strerror(errno),
                root.string());
  fs::path work_dir(pattern);
  fs::path jobs_dir = work_dir / "jobs";
  fs::create_directories(jobs_dir, error);
  if (error) return fail(ErrorCode::io_error, "cannot create '" + jobs_dir.string() + "': " + error.message());

  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls are allowed.
  std::vector<std::string> args{binary.string(), "serve",      "--host", "127.0.0.1",         "--port",
                                "0",             "--port-file", (work_dir / "port").string(), "--jobs",
                                jobs_dir.string()};
  std::vector<std::string> env = child_environment(launch.env);
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  fs::path log_path = work_dir / "agent.log";
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int exec_pipe[2] = {-1, -1};
  if (log_fd < 0 || null_fd < 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    int saved = errno;
    if (log_fd >= 0) ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return fail(ErrorCode::io_error, "cannot prepare the local agent's log '" + log_path.string() +
                                         "': " + std::strerror(saved));
  }
  const pid_t parent = ::getpid();
  const bool die_with_parent = !options_.outlive_controller;
  pid_t pid = ::fork();
  if (pid == 0) {
    // Own process group: the terminal's Ctrl-C reaches ferry only, which
    // then cancels jobs and stops the agent in order.
    ::setpgid(0, 0);
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(0);  // ferry died before prctl took effect
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    int failure = errno;
    (void)!::write(exec_pipe[1], &failure, sizeof failure);
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  ::close(exec_pipe[1]);
  if (pid < 0) {
    ::close(exec_pipe[0]);
    return fail(ErrorCode::unavailable, std::string("cannot start the local agent: fork failed: ") +
                                            std::strerror(fork_errno));
  }
  ::setpgid(pid, pid);  // also here, so the group exists whichever runs first
  int exec_failure = 0;
  ssize_t got;
  do {
    got = ::read(exec_pipe[0], &exec_failure, sizeof exec_failure);
  } while (got < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  std::string id = std::string(kIdPrefix) + std::to_string(pid);
  children_[id] = Child{pid, work_dir, launch.label};
  if (got == static_cast<ssize_t>(sizeof exec_failure)) {
    (void)destroy(id);
    return fail(ErrorCode::not_found,
                "cannot run the agent binary '" + binary.string() + "': " + std::strerror(exec_failure) +
                    "; set FERRY_AGENT_BIN to a working ferry-agent",
                binary.string());
  }
  return id;
}

bool LocalProvider::poll_exit(Child& child) {
  if (child.reaped) return true;
  int status = 0;
  pid_t done = ::waitpid(child.pid, &status, WNOHANG);
  if (done == child.pid || (done < 0 && errno == ECHILD)) {
    child.reaped = true;
    child.wait_status = status;
  }
  return child.reaped;
}

Result<InstanceInfo> LocalProvider::get(const std::string& id) {
  auto found = children_.find(id);
  if (found == children_.end()) {
    auto pid = pid_from_id(id);
    InstanceInfo info;
    info.id = id;
    info.state = pid && is_running_agent(*pid) ? InstanceState::running : InstanceState::gone;
    return info;
  }
  Child& child = found->second;
  InstanceInfo info;
  info.id = id;
  info.label = child.label;
  if (child.cleaned) {
    info.state = InstanceState::gone;
    return info;
  }
  if (poll_exit(child)) {
    info.state = InstanceState::exited;
    info.detail = "ferry-agent " + describe_exit(child.wait_status);
    std::string tail = last_lines(child.work_dir / "agent.log", 8);
    if (!tail.empty()) info.detail += "; its last log lines:\n" + tail;
    return info;
  }
  std::ifstream port_file(child.work_dir / "port");
  long port = 0;
  if (port_file >> port && port > 0 && port < 65536) {
    info.state = InstanceState::running;
    info.endpoint = "http://127.0.0.1:" + std::to_string(port);
  } else {
    info.state = InstanceState::starting;
  }
  return info;
}

Status LocalProvider::destroy(const std::string& id) {
  auto found = children_.find(id);
  if (found == children_.end()) {
    auto pid = pid_from_id(id);
    if (!pid) return {};  // not ours and not a local id: nothing to stop
    return stop_foreign_agent(*pid, options_.stop_grace);
  }
  Child& child = found->second;
  if (child.cleaned) return {};
  if (!poll_exit(child)) {
    ::kill(-child.pid, SIGTERM);
    auto until = std::chrono::steady_clock::now() + options_.stop_grace;
    while (!poll_exit(child) && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!child.reaped) {
      ::kill(-child.pid, SIGKILL);
      int status = 0;
      pid_t done;
      do {
        done = ::waitpid(child.pid, &status, 0);
      } while (done < 0 && errno == EINTR);
      child.reaped = true;
      child.wait_status = status;
    }
  }
  // Anything the agent started in its group goes too.
  ::kill(-child.pid, SIGKILL);
  std::error_code error;
  fs::remove_all(child.work_dir, error);
  child.cleaned = true;
  return {};
}

Result<std::vector<InstanceInfo>> LocalProvider::list(const std::string& label_prefix) {
  std::vector<InstanceInfo> instances;
  for (auto& [id, child] : children_) {
    if (child.label.rfind(label_prefix, 0) != 0) continue;
    auto info = get(id);
    if (info && info->state != InstanceState::exited) instances.push_back(*info);
  }
  return instances;
}

std::optional<fs::path> LocalProvider::work_dir(const std::string& id) const {
  auto found = children_.find(id);
  if (found == children_.end()) return std::nullopt;
  return found->second.work_dir;
}

}  // namespace ferry::providers
