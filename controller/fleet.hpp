#pragma once
// Runs many step-driven workers (one per instance) on a bounded pool of
// threads with Boost.Asio: each worker's next step is a timer, so a waiting
// instance holds no thread, and 200 instances need no more threads than 8.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

namespace ferry::controller {

/// One step of a worker: the wait before the next, or nullopt when done.
/// A worker's steps never run concurrently with each other.
using WorkerStep = std::function<std::optional<std::chrono::milliseconds>()>;

struct FleetOptions {
  /// Threads stepping workers, the calling thread included (at least 1).
  std::size_t threads = 8;
  /// Called every `tick_interval` on some pool thread while workers remain
  /// (progress redraw, limit checks).
  std::function<void()> tick;
  std::chrono::milliseconds tick_interval{250};
};

/// Steps every worker until each is done; returns then. A step that throws
/// is reported through `on_exception` (if set) and retried a second later.
void run_fleet(const std::vector<WorkerStep>& workers, const FleetOptions& options,
               const std::function<void(const char* what)>& on_exception = {});

/// The number of threads `ferry run` uses for `instances` workers: one per
/// instance up to a bound that keeps the whole controller under 32 threads
/// whatever the number of instances.
std::size_t fleet_threads(std::size_t instances);

}  // namespace ferry::controller
