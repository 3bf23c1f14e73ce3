#pragma once
// What the instances of one run share: the jobs (their board, state store
// records and progress lines), the spend meter, and the one reason to stop
// (Ctrl-C, SIGTERM, budget, max_duration), decided once for all instances.
// Every method locks; none talks to the network, so no lock is held across
// a remote call.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "controller/agent_client.hpp"
#include "controller/job_board.hpp"
#include "controller/plan.hpp"
#include "controller/progress.hpp"
#include "controller/run_limits.hpp"
#include "controller/state_store.hpp"

namespace ferry::controller {

/// One agent job as the run follows it.
struct TrackedJob {
  const PlannedJob* plan = nullptr;
  std::string agent_id;  ///< "<run-id>-<key>", the same on every instance that runs it
  std::size_t line = 0;  ///< progress display line
  JobRecord record;
  AgentJob last;
  std::vector<std::filesystem::path> outputs;
  /// When it was last sent to an agent: its work time when the agent reports none.
  std::optional<std::chrono::steady_clock::time_point> submitted_at;
};

/// A job handed to an instance: what it needs to send it.
struct JobTicket {
  std::size_t index = 0;
  std::string agent_id;
  const PlannedJob* plan = nullptr;
};

struct SharedRunLimits {
  std::optional<double> budget;
  std::optional<std::chrono::milliseconds> max_duration;
  /// How far ahead limits look (see limit_reached).
  std::chrono::milliseconds margin{std::chrono::seconds(5)};
};

class SharedRun {
 public:
  /// `store` records the jobs (already recorded as planned by the caller);
  /// `display` has one line per job, in plan order.
  SharedRun(const Plan& plan, std::vector<TrackedJob> jobs, StateStore& store, ProgressDisplay& display,
            SharedRunLimits limits, std::size_t instances);

  // Messages and display.
  void say(const std::string& text);
  void render();

  // Jobs. `index` is the job's position in the plan.
  /// The next ready job for `instance` (releasing jobs whose earlier entries
  /// are done, and failing those whose awaited input is missing).
  std::optional<JobTicket> take_job(std::size_t instance);
  /// Whether some job has not been handed to any instance yet.
  bool has_unassigned_work();
  /// How many jobs an instance may hold at once: two (the next job waits on
  /// the agent while the current one's outputs download) only while there
  /// are more ready jobs than working instances and none is still starting,
  /// else one, so that no instance sits idle while another holds a job it
  /// has not begun.
  std::size_t capacity() const;
  void job_state(std::size_t index, const std::string& state);
  /// About to be sent to the agent of instance row `instance_row`: records
  /// it as submitted, with its input's size and the built-in prediction.
  void job_submitted(std::size_t index, std::int64_t instance_row);
  /// The agent says the job is finished: notes its work time (the agent's
  /// own, else the time since it was submitted) for the next record.
  void job_finished_on_agent(std::size_t index, const AgentJob& latest);
  void job_progress(std::size_t index, const AgentJob& latest);
  void job_succeeded(std::size_t index, const AgentJob& latest, std::vector<std::filesystem::path> outputs);
  /// Ends a job that will not run again: `state` failed or canceled.
  void job_ended(std::size_t index, const std::string& state, const std::string& message);
  /// The instance running the job was lost: back on the board for another
  /// instance, or failed when it has had its attempts.
  void give_back(std::size_t index, const Error& why);
  /// The sha256 of an input file, computed once per run.
  Result<std::string> input_digest(const std::filesystem::path& file);

  // Instances.
  /// The instance's agent is READY: it takes jobs from now on.
  void instance_up();
  /// The instance closed without coming up.
  void instance_not_started();
  /// A working instance takes no more jobs (done, lost or stopping).
  void instance_leaves();
  void billing_started(const std::string& instance_id, double price_per_hour);
  void billing_stopped(const std::string& instance_id);
  /// Dollars spent so far by every instance of the run.
  double spent();

  /// Why the run must stop now, decided once: Ctrl-C/SIGTERM, then budget
  /// and max_duration (looking `margin` ahead). Later calls return the same.
  std::optional<Error> stop_reason();
  /// Cheap check for transfers in progress: a stop was decided or a signal came.
  bool stopping() const;
  /// The stop decided so far, without deciding one now.
  std::optional<Error> decided_stop() const;

  /// After every instance is done: jobs never run are ended (canceled with
  /// the stop reason, or failed with `why_not_run`). Returns the jobs.
  std::vector<TrackedJob>& finish_jobs(const std::string& why_not_run);
  const std::vector<TrackedJob>& jobs() const { return jobs_; }

 private:
  void record(TrackedJob& job, const std::string& state, const std::string& error = {});
  void show(TrackedJob& job);
  void release_awaited_locked();

  const Plan& plan_;
  std::vector<TrackedJob> jobs_;
  StateStore& store_;
  ProgressDisplay& display_;
  SharedRunLimits limits_;
  mutable std::mutex mutex_;
  JobBoard board_;
  SpendMeter spend_;
  std::map<std::filesystem::path, std::string> digests_;
  std::size_t starting_;
  std::size_t working_ = 0;
  SpendClock::time_point started_at_;
  std::optional<Error> stop_;
  std::atomic<bool> stop_decided_{false};
};

}  // namespace ferry::controller
