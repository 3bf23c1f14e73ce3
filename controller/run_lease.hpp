#pragma once
// Whether a run's controller is still alive, robust to SIGKILL: a running
// `ferry run` holds an exclusive flock on <state dir>/leases/<run-id>.lock,
// which the kernel releases however the process ends. `ferry gc` spares the
// instances of runs whose lease is held and collects the rest.

#include <filesystem>
#include <string>

#include "common/error.hpp"

namespace ferry::controller {

class RunLease {
 public:
  /// Takes the lease of `run_id` under `state_dir` (the folder of state.db).
  /// failed_precondition if another process holds it.
  static Result<RunLease> acquire(const std::filesystem::path& state_dir, const std::string& run_id);

  RunLease(RunLease&& other) noexcept;
  RunLease& operator=(RunLease&& other) noexcept;
  RunLease(const RunLease&) = delete;
  RunLease& operator=(const RunLease&) = delete;
  /// Releases the lock and removes the file.
  ~RunLease();

 private:
  RunLease(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  void release();
  int fd_ = -1;
  std::filesystem::path path_;
};

/// True when some process holds the lease of `run_id` right now.
bool run_is_alive(const std::filesystem::path& state_dir, const std::string& run_id);

}  // namespace ferry::controller
