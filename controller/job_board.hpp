#pragma once
// The run's jobs as a board the instances take work from, one job at a time:
// an instance that frees up takes the next ready job, so fast machines do
// more and no job waits behind a slow one. A job on an earlier entry's
// outputs waits until every job of the earlier entries is done. A job whose
// instance was lost goes back on the board for another instance, a bounded
// number of times. Pure; the caller serialises access.

#include <cstddef>
#include <optional>
#include <vector>

namespace ferry::controller {

class JobBoard {
 public:
  enum class Slot {
    waiting,  ///< on an earlier entry's outputs
    ready,    ///< any instance may take it
    running,  ///< an instance has it
    done,     ///< finished, whatever the outcome
  };

  /// Job i belongs to manifest entry `entry_of[i]`; `awaits_earlier[i]`
  /// says it waits for the earlier entries. A job runs at most
  /// `max_attempts` times (a first run and re-runs after lost instances).
  JobBoard(std::vector<int> entry_of, std::vector<bool> awaits_earlier, int max_attempts = 2);

  /// Moves the waiting jobs whose earlier entries are all done to ready and
  /// returns them, so the caller can check their input (and finish() them
  /// as failed when it is missing).
  std::vector<std::size_t> release_awaited();
  /// The first ready job in plan order, now running on `instance`.
  std::optional<std::size_t> take(std::size_t instance);
  /// The job ended (succeeded, failed or canceled).
  void finish(std::size_t job);
  /// The instance running `job` was lost: true when the job is ready again
  /// for another instance, false when it has had all its attempts (the
  /// caller then records it as failed and calls finish()).
  bool give_back(std::size_t job);

  Slot slot(std::size_t job) const { return jobs_[job].slot; }
  /// The instance that runs (or last ran) the job.
  std::optional<std::size_t> instance_of(std::size_t job) const { return jobs_[job].instance; }
  int attempts(std::size_t job) const { return jobs_[job].attempts; }
  std::size_t size() const { return jobs_.size(); }
  /// Some job is ready or waiting: no instance has it yet.
  bool has_unassigned() const;
  /// Jobs any instance may take now.
  std::size_t ready_count() const;
  bool all_done() const;
  /// Jobs not done, in plan order.
  std::vector<std::size_t> unfinished() const;

 private:
  struct Job {
    int entry = 0;
    Slot slot = Slot::ready;
    int attempts = 0;
    std::optional<std::size_t> instance;
  };
  std::vector<Job> jobs_;
  int max_attempts_;
};

}  // namespace ferry::controller
