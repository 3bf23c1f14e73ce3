#include "controller/shared_run.hpp"

#include "common/sha256.hpp"
#include "controller/cloud_plan.hpp"
#include "controller/interrupt.hpp"

namespace ferry::controller {
namespace {

std::vector<int> entries_of(const std::vector<TrackedJob>& jobs) {
  std::vector<int> entries;
  for (const auto& job : jobs) entries.push_back(job.plan->entry_index);
  return entries;
}

std::vector<bool> awaits_of(const std::vector<TrackedJob>& jobs) {
  std::vector<bool> awaits;
  for (const auto& job : jobs) awaits.push_back(job.plan->input.from_earlier_entry);
  return awaits;
}

}  // namespace

SharedRun::SharedRun(const Plan& plan, std::vector<TrackedJob> jobs, StateStore& store, ProgressDisplay& display,
                     SharedRunLimits limits, std::size_t instances)
    : plan_(plan),
      jobs_(std::move(jobs)),
      store_(store),
      display_(display),
      limits_(limits),
      board_(entries_of(jobs_), awaits_of(jobs_)),
      starting_(instances),
      started_at_(SpendClock::now()) {}

void SharedRun::say(const std::string& text) {
  std::lock_guard lock(mutex_);
  display_.message(text);
}

void SharedRun::render() {
  std::lock_guard lock(mutex_);
  display_.render();
}

void SharedRun::record(TrackedJob& job, const std::string& state, const std::string& error) {
  job.record.state = state;
  job.record.error = error;
  job.record.outputs.clear();
  for (const auto& path : job.outputs) job.record.outputs.push_back(path.string());
  if (auto saved = store_.upsert_job(job.record); !saved) display_.message("warning: " + saved.error().describe());
  show(job);
}

void SharedRun::show(TrackedJob& job) {
  JobLine line;
  line.label = job.plan->label();
  line.state = job.record.state;
  // The agent's stage and ETA describe its work, not ours after it ends.
  if (job.record.state == "running") {
    line.stage = job.last.stage;
    line.fraction = job.last.fraction;
    line.eta_s = job.last.eta_s;
  }
  if (job.record.state == "failed" || job.record.state == "canceled") line.note = job.record.error;
  if (job.record.state == "planned" && job.plan->input.from_earlier_entry) line.note = "after the earlier entries";
  display_.update(job.line, line);
}

void SharedRun::release_awaited_locked() {
  for (std::size_t index : board_.release_awaited()) {
    TrackedJob& job = jobs_[index];
    std::vector<std::filesystem::path> earlier_outputs;
    for (const auto& other : jobs_)
      if (other.plan->entry_index < job.plan->entry_index)
        earlier_outputs.insert(earlier_outputs.end(), other.outputs.begin(), other.outputs.end());
    if (auto found = check_awaited_input(job.plan->input, earlier_outputs); !found) {
      board_.finish(index);
      record(job, "failed", found.error().describe());
      display_.message("error: " + found.error().describe());
    }
  }
}

std::optional<JobTicket> SharedRun::take_job(std::size_t instance) {
  std::lock_guard lock(mutex_);
  if (stop_) return std::nullopt;
  release_awaited_locked();
  auto index = board_.take(instance);
  if (!index) return std::nullopt;
  TrackedJob& job = jobs_[*index];
  return JobTicket{*index, job.agent_id, job.plan};
}

bool SharedRun::has_unassigned_work() {
  std::lock_guard lock(mutex_);
  release_awaited_locked();
  return !stop_ && board_.has_unassigned();
}

std::size_t SharedRun::capacity() const {
  std::lock_guard lock(mutex_);
  return starting_ == 0 && board_.ready_count() > working_ ? 2 : 1;
}

void SharedRun::job_state(std::size_t index, const std::string& state) {
  std::lock_guard lock(mutex_);
  record(jobs_[index], state);
}

void SharedRun::job_submitted(std::size_t index, std::int64_t instance_row) {
  std::lock_guard lock(mutex_);
  TrackedJob& job = jobs_[index];
  // Now, not at plan time: an earlier entry's output exists by the time its job is sent.
  const auto size = job.plan->input.size_now();
  job.record.input_bytes = job.plan->input.generated ? std::nullopt : size;
  job.record.expected_s = std::nullopt;
  if (size)
    job.record.expected_s =
        std::chrono::duration<double>(expected_job_time(job.plan->params, size)).count();
  job.record.work_s = std::nullopt;
  if (instance_row > 0) job.record.instance_row = instance_row;
  job.submitted_at = std::chrono::steady_clock::now();
  record(job, "submitted");
}

void SharedRun::job_finished_on_agent(std::size_t index, const AgentJob& latest) {
  std::lock_guard lock(mutex_);
  TrackedJob& job = jobs_[index];
  if (latest.work_s) {
    job.record.work_s = latest.work_s;
  } else if (job.submitted_at && !job.record.work_s) {
    // Not again when a failed download has it settled a second time.
    job.record.work_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - *job.submitted_at).count();
  }
}

void SharedRun::job_progress(std::size_t index, const AgentJob& latest) {
  std::lock_guard lock(mutex_);
  TrackedJob& job = jobs_[index];
  bool changed = latest.state != job.record.state;
  job.last = latest;
  if (changed)
    record(job, latest.state);
  else
    show(job);
}

void SharedRun::job_succeeded(std::size_t index, const AgentJob& latest, std::vector<std::filesystem::path> outputs) {
  std::lock_guard lock(mutex_);
  TrackedJob& job = jobs_[index];
  job.last = latest;
  job.outputs = std::move(outputs);
  board_.finish(index);
  record(job, "succeeded");
}

void SharedRun::job_ended(std::size_t index, const std::string& state, const std::string& message) {
  std::lock_guard lock(mutex_);
  TrackedJob& job = jobs_[index];
  board_.finish(index);
  record(job, state, message);
  if (state == "failed") display_.message("error: job for " + job.plan->input.shown() + " failed: " + message);
}

void SharedRun::give_back(std::size_t index, const Error& why) {
  std::lock_guard lock(mutex_);
  TrackedJob& job = jobs_[index];
  if (!stop_ && board_.give_back(index)) {
    record(job, "planned");
    display_.message("Moving the job for " + job.plan->input.shown() + " to another instance: " + why.message);
    return;
  }
  board_.finish(index);
  record(job, "failed", why.message + "; run the manifest again to redo this job");
}

Result<std::string> SharedRun::input_digest(const std::filesystem::path& file) {
  {
    std::lock_guard lock(mutex_);
    if (auto found = digests_.find(file); found != digests_.end()) return found->second;
  }
  // Hashing a large file takes a while: not under the lock.
  auto digest = sha256_file(file);
  if (!digest) return fail(digest.error());
  std::lock_guard lock(mutex_);
  digests_[file] = *digest;
  return *digest;
}

void SharedRun::instance_up() {
  std::lock_guard lock(mutex_);
  if (starting_ > 0) --starting_;
  ++working_;
}

void SharedRun::instance_not_started() {
  std::lock_guard lock(mutex_);
  if (starting_ > 0) --starting_;
}

void SharedRun::instance_leaves() {
  std::lock_guard lock(mutex_);
  if (working_ > 0) --working_;
}

void SharedRun::billing_started(const std::string& instance_id, double price_per_hour) {
  std::lock_guard lock(mutex_);
  spend_.started(instance_id, price_per_hour, SpendClock::now());
}

void SharedRun::billing_stopped(const std::string& instance_id) {
  std::lock_guard lock(mutex_);
  spend_.stopped(instance_id, SpendClock::now());
}

double SharedRun::spent() {
  std::lock_guard lock(mutex_);
  return spend_.spent(SpendClock::now());
}

std::optional<Error> SharedRun::stop_reason() {
  std::lock_guard lock(mutex_);
  if (stop_) return stop_;
  if (interrupted()) {
    stop_ = Error{ErrorCode::cancelled, "interrupted by signal " + std::to_string(interrupt_signal()), {}};
  } else {
    auto now = SpendClock::now();
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - started_at_);
    stop_ = limit_reached(spend_.spent(now), spend_.live_price_per_hour(), elapsed, limits_.budget,
                          limits_.max_duration, limits_.margin);
  }
  if (stop_) stop_decided_ = true;
  return stop_;
}

bool SharedRun::stopping() const { return stop_decided_ || interrupted(); }

std::optional<Error> SharedRun::decided_stop() const {
  std::lock_guard lock(mutex_);
  return stop_;
}

std::vector<TrackedJob>& SharedRun::finish_jobs(const std::string& why_not_run) {
  std::lock_guard lock(mutex_);
  for (std::size_t index : board_.unfinished()) {
    board_.finish(index);
    if (stop_)
      record(jobs_[index], "canceled", stop_->message);
    else
      record(jobs_[index], "failed", why_not_run);
  }
  return jobs_;
}

}  // namespace ferry::controller
