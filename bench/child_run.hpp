#pragma once
// Measuring one side of a benchmark in a forked child, so that its peak
// resident memory (wait4's ru_maxrss) is its own and not the benchmark's.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>

namespace ferry::bench {

struct ChildRun {
  bool ok = false;           ///< the child exited with status 0
  double wall_seconds = 0;
  double peak_rss_mb = 0;
};

/// Runs `work` in a forked child (its return value is the exit status,
/// 0 = success) and measures its wall time and peak RSS.
inline ChildRun measure_in_child(const std::function<int()>& work) {
  std::fflush(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return {};
  if (pid == 0) ::_exit(work());
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) != pid) return {};
  ChildRun run;
  run.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  run.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // kilobytes on Linux
  return run;
}

}  // namespace ferry::bench
