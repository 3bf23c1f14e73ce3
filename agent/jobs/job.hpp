#pragma once
// A job as the agent keeps it: its spec, state, progress, outputs, result
// and timestamps. The same JSON shape is served by the API and persisted in
// `<jobs dir>/<id>/job.json` (the record adds `attempts`).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace ferry::agent::jobs {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

/// Lifecycle: queued -> running -> succeeded | failed | canceled; a queued
/// job may also be canceled directly.
enum class JobState { queued, running, succeeded, failed, canceled };

/// "queued", "running", "succeeded", "failed", "canceled".
std::string_view to_string(JobState state);
/// Inverse of to_string; nullopt for unknown names.
std::optional<JobState> job_state_from_string(std::string_view name);
/// True once the job will never change again (succeeded, failed, canceled).
bool is_finished(JobState state);

/// Live progress of the current stage; `total` 0 means unknown.
struct JobProgress {
  std::string stage;
  double done = 0;
  double total = 0;
  std::optional<double> eta_s;

  /// done/total clamped to [0, 1], or nullopt while the total is unknown.
  std::optional<double> fraction() const;
};

/// Estimated seconds left in a stage that has run `elapsed_s` and reached
/// `fraction`; nullopt until enough of the stage has passed to say.
std::optional<double> estimate_eta_s(double elapsed_s, std::optional<double> fraction);

/// One finished output file of a job.
struct JobOutput {
  std::string name;
  std::uint64_t bytes = 0;
  std::string sha256;
};

struct Job {
  std::string id;
  std::string kind;
  JobState state = JobState::queued;
  JobProgress progress;
  std::optional<Error> error;
  std::vector<JobOutput> outputs;
  /// What the engine reported beyond its files (a loop's points, why it
  /// fell back); null until a job that has something to say succeeds.
  nlohmann::json result;
  nlohmann::json spec;  ///< the validated spec, in its normalised wire form
  int attempts = 0;     ///< how many times a worker has started this job
  TimePoint created_at{};
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
};

/// The API and on-disk shape. `queue_position` (0 = next to run) is only
/// meaningful for queued jobs and is written as null otherwise.
nlohmann::json job_to_json(const Job& job, std::optional<std::size_t> queue_position = std::nullopt);
/// Reads a persisted record back; errors name the offending field.
Result<Job> job_from_json(const nlohmann::json& json);

/// "2024-05-01T12:00:00.123Z".
std::string format_rfc3339(TimePoint time);
/// Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z".
Result<TimePoint> parse_rfc3339(std::string_view text);

/// A fresh server-side id: 26 lowercase base32 characters (130 random bits).
std::string new_job_id();
/// Ids clients may choose: 1-64 characters of [A-Za-z0-9_-].
bool is_valid_job_id(std::string_view id);

}  // namespace ferry::agent::jobs
