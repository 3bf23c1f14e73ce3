#pragma once
// The agent's job table, FIFO queue and single worker thread.
//
// HTTP threads call submit/cancel/remove/get, which only touch the in-memory
// table under one mutex (the agent's only shared state) and return at once.
// One worker thread takes queued jobs in order, fetches their inputs, calls
// the runner (the engines, or a stand-in in tests), hashes the outputs and
// records the result. Progress is served live from memory and persisted at
// most every `persist_interval`; state changes are persisted at once.
// Long-polls register a watcher that is called (on the worker thread, so it
// must only post work elsewhere) when the job changes.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/engines/engine.hpp"
#include "agent/jobs/job.hpp"
#include "agent/jobs/job_store.hpp"
#include "config/job_spec.hpp"

namespace ferry::agent::jobs {

/// Runs one job; `run_job` from the engines in production.
using JobRunner = std::function<Result<std::vector<OutputFile>>(
    const config::JobParams& params, const std::vector<LocalInput>& inputs, EngineContext& context)>;

/// Turns a job's input references into local files, writing fetched ones
/// into `inputs_dir`; returns cancelled promptly once `cancel` is set.
using InputResolver = std::function<Result<std::vector<LocalInput>>(
    const config::JobSpec& spec, const std::filesystem::path& inputs_dir, const std::atomic<bool>& cancel)>;

/// Uploads resolve to their file in the store; URLs are downloaded with
/// ferry::HttpClient, each limited to `max_url_bytes` (0: no limit).
InputResolver make_input_resolver(const JobStore& store, std::uint64_t max_url_bytes);

struct JobManagerOptions {
  JobRunner runner;                ///< required
  InputResolver resolve_inputs;    ///< required
  std::chrono::milliseconds persist_interval{2000};  ///< progress write throttle
  std::chrono::milliseconds notify_interval{250};    ///< progress watcher throttle
};

/// A consistent snapshot of one job.
struct JobView {
  Job job;
  std::optional<std::size_t> queue_position;  ///< set while queued
  std::uint64_t version = 0;                  ///< grows on every visible change
};

/// Counts for /v1/status.
struct JobCounts {
  std::size_t queued = 0, running = 0, succeeded = 0, failed = 0, canceled = 0;
};

/// Where a finished output lives on disk.
struct OutputLocation {
  std::filesystem::path path;
  std::uint64_t bytes = 0;
};

class JobManager {
 public:
  JobManager(JobStore store, JobManagerOptions options);
  ~JobManager();  ///< shuts down if still running
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  /// Loads the store and applies recover_after_restart; returns warnings
  /// about skipped records. Call once, before start().
  std::vector<std::string> load();
  /// Starts the worker thread.
  void start();
  /// Stops taking jobs, asks the running one to stop and waits up to `grace`
  /// for it. The interrupted job is persisted as queued so the next start
  /// runs it again. Returns false when the runner did not return in time
  /// (its record is still persisted as queued).
  bool shutdown(std::chrono::milliseconds grace);

  struct Submitted {
    JobView view;
    bool created = false;  ///< false: an identical job with this id existed
  };
  /// Queues a job. With `id` the call is idempotent: the same spec again
  /// returns the existing job, a different one is already_exists. Uploaded
  /// inputs must exist (invalid_argument naming the input otherwise).
  Result<Submitted> submit(const config::JobSpec& spec, std::optional<std::string> id = std::nullopt);

  Result<JobView> get(const std::string& id) const;
  std::vector<JobView> list() const;  ///< oldest first
  /// Queued: canceled at once. Running: asks the runner to stop; the state
  /// becomes canceled when it returns. Finished: failed_precondition.
  Result<JobView> cancel(const std::string& id);
  /// Forgets the job and deletes its folder; a running job is asked to stop
  /// and its folder is deleted once the runner returns.
  Status remove(const std::string& id);
  /// A finished output of a succeeded job.
  Result<OutputLocation> output(const std::string& id, const std::string& name) const;

  using WatchId = std::uint64_t;
  /// Calls `on_change` once, when the job's version moves past `seen_version`
  /// or the job goes away. Returns nullopt without registering when that has
  /// already happened (the caller answers at once).
  std::optional<WatchId> watch(const std::string& id, std::uint64_t seen_version, std::function<void()> on_change);
  /// Drops a watcher that has not fired; harmless after it fired.
  void unwatch(const std::string& id, WatchId watch_id);

  JobCounts counts() const;
  std::size_t queue_length() const;
  /// True while a job is queued or running.
  bool busy() const;
  const JobStore& store() const { return store_; }

 private:
  struct Entry;
  using Watchers = std::vector<std::function<void()>>;

  void worker_loop();
  void run_one(const std::shared_ptr<Entry>& entry);
  void report_progress(Entry& entry, const Progress& progress);
  // Bumps the version and takes the watchers to call after unlocking.
  Watchers touch_locked(Entry& entry);
  void persist_locked(Entry& entry);
  JobView view_locked(const Entry& entry) const;
  static void notify(Watchers watchers);

  JobStore store_;
  JobManagerOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_worker_;
  std::condition_variable worker_idle_;
  std::map<std::string, std::shared_ptr<Entry>> table_;
  std::deque<std::string> queue_;
  std::shared_ptr<Entry> running_;
  bool stopping_ = false;
  WatchId next_watch_id_ = 1;
  std::thread worker_;
};

}  // namespace ferry::agent::jobs
