#pragma once
// The controller's memory of runs, the instances they started and their jobs,
// in SQLite at $XDG_STATE_HOME/ferry/state.db. Every side effect on the
// outside world is recorded BEFORE it happens (an intended instance before the
// provider's create call), so a crash always leaves a record to act on.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "controller/estimate_history.hpp"

namespace ferry::controller {

/// Seconds since the Unix epoch.
using UnixSeconds = std::int64_t;
UnixSeconds now_unix();
/// Milliseconds since the Unix epoch: the timings estimates are calibrated on.
using UnixMillis = std::int64_t;
UnixMillis now_unix_ms();

/// A run's lifecycle: planned -> starting -> running -> one of the ends.
enum class RunState { planned, starting, running, succeeded, failed, interrupted, teardown_failed };
std::string_view to_string(RunState state);
std::optional<RunState> run_state_from_string(std::string_view text);

struct RunRecord {
  std::string id;
  std::string name;
  std::string manifest_path;
  std::string provider;
  std::string output_dir;
  RunState state = RunState::planned;
  int jobs_total = 0;
  int jobs_done = 0;    ///< finished, whatever the outcome
  int jobs_failed = 0;
  UnixSeconds started_at = 0;
  std::optional<UnixSeconds> finished_at;
  std::string message;  ///< why it ended, when not a plain success
};

/// An instance as the controller knows it. `provider_id` is empty between the
/// intent being recorded and the provider answering the create call.
struct InstanceRecord {
  std::int64_t id = 0;  ///< local row id
  std::string run_id;
  std::string provider;
  std::string provider_id;
  std::string state;    ///< intended | created | running | destroyed | destroy_failed
  std::string endpoint;
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> destroyed_at;
  double price_per_hour = 0;  ///< of the offer it runs on; 0 for `local` and older records
  // Millisecond timings (absent in records older than schema 3):
  // A provider makes or ends an instance while it answers the call, after
  // any queueing on its side: the answer is the closest moment seen here.
  std::optional<UnixMillis> created_ms;  ///< the create call returned (its start, until it does)
  std::optional<UnixMillis> ready_ms;    ///< its agent first answered READY
  std::optional<UnixMillis> destroy_ms;  ///< the provider accepted the destroy: billing stops
  std::optional<UnixMillis> gone_ms;     ///< the provider confirmed it gone
};

/// What an instance has cost up to `now`: its price times the time from its
/// record to its destruction (or to `now` while it may still bill). Nothing
/// for an instance the provider never made.
double instance_cost(const InstanceRecord& instance, UnixSeconds now);

struct JobRecord {
  std::string id;       ///< the id given to the agent
  std::string run_id;
  int entry_index = 0;  ///< position in the manifest's `jobs:`
  std::string kind;
  std::string input;    ///< the input's path or URL as shown to the user
  std::string state;    ///< planned | submitted | queued | running | succeeded | failed | canceled
  std::string error;
  std::vector<std::string> outputs;  ///< local paths of downloaded outputs
  UnixSeconds updated_at = 0;
  /// Size of the input shipped; absent for URLs and jobs not yet submitted.
  std::optional<std::uint64_t> input_bytes;
  /// expected_job_time when it was submitted; absent where the input's size was unknown.
  std::optional<double> expected_s;
  /// The agent's time on it, started to finished (or, when the agent gives
  /// no times, submit to end as the controller saw it).
  std::optional<double> work_s;
  /// The instances row that ran it (the last one, when it moved).
  std::optional<std::int64_t> instance_row;
};

class StateStore {
 public:
  /// $XDG_STATE_HOME/ferry/state.db, or ~/.local/state/ferry/state.db.
  static Result<std::filesystem::path> default_path();
  /// Opens (creating the folder 0700 and the schema when needed) the database.
  static Result<StateStore> open(const std::filesystem::path& path);

  StateStore(StateStore&&) noexcept;
  StateStore& operator=(StateStore&&) noexcept;
  ~StateStore();

  Status create_run(const RunRecord& run);
  Status update_run(const RunRecord& run);
  Result<std::optional<RunRecord>> find_run(const std::string& id);
  /// Newest first.
  Result<std::vector<RunRecord>> list_runs(int limit = 50);

  /// Records an instance about to be created on an offer of that price
  /// (created_ms: now); returns its row id.
  Result<std::int64_t> record_intended_instance(const std::string& run_id, const std::string& provider,
                                                double price_per_hour = 0);
  /// The create call returned `provider_id`: created_ms moves to now.
  Status set_instance_created(std::int64_t row, const std::string& provider_id);
  /// Also stamps gone_ms when `state` is "destroyed".
  Status set_instance_state(std::int64_t row, const std::string& state, const std::string& endpoint = {});
  /// Stamps ready_ms (the first time only).
  Status set_instance_ready(std::int64_t row);
  /// The provider accepted a destroy: stamps destroy_ms (the first only).
  Status set_instance_destroy_accepted(std::int64_t row);
  Result<std::vector<InstanceRecord>> list_instances(const std::string& run_id);

  /// Inserts or replaces a job by id.
  Status upsert_job(const JobRecord& job);
  Result<std::vector<JobRecord>> list_jobs(const std::string& run_id);

  /// Calibration history, newest first: each provider's instances of its
  /// newest runs, whole, until they hold `per_provider`, that a run tore down itself (destroy accepted
  /// and gone confirmed; not those kept and removed later by `ferry down`
  /// or `ferry gc`) and whose jobs' work times are all known, with that work.
  Result<std::vector<PastInstance>> past_instances(int per_provider);
  /// Each kind's newest `per_kind` succeeded jobs with a prediction and a work time.
  Result<std::vector<PastJob>> past_jobs(int per_kind);

 private:
  struct Impl;
  explicit StateStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::controller
