#include "agent/jobs/job_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <system_error>

#include "common/files.hpp"
#include "common/sha256.hpp"

namespace ferry::agent::jobs {
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

struct JobManager::Entry {
  Job job;
  std::uint64_t version = 1;
  std::atomic<bool> cancel{false};
  bool interrupted_by_shutdown = false;
  bool removed = false;
  std::map<WatchId, std::function<void()>> watchers;
  SteadyClock::time_point last_persist{};
  SteadyClock::time_point last_notify{};
  SteadyClock::time_point stage_started{};
};

namespace {

std::string not_found_message(const std::string& id) {
  return "no job '" + id + "' on this agent";
}

// Hashes what the engine produced; every output must be a file with a safe
// name directly inside the outputs folder, as the download route expects.
Result<std::vector<JobOutput>> describe_outputs(const std::vector<OutputFile>& files, const fs::path& outputs_dir) {
  std::vector<JobOutput> outputs;
  for (const auto& file : files) {
    if (!is_safe_name(file.name))
      return fail(ErrorCode::internal, "the engine named an output '" + file.name + "', which is not a safe file name");
    const auto path = outputs_dir / file.name;
    std::error_code ec;
    const auto bytes = fs::file_size(path, ec);
    if (ec) return fail(ErrorCode::internal, "the engine reported output '" + file.name + "' but it is missing");
    auto digest = sha256_file(path);
    if (!digest) return fail(digest.error());
    outputs.push_back({file.name, bytes, *digest});
  }
  return outputs;
}

}  // namespace

JobManager::JobManager(JobStore store, JobManagerOptions options)
    : store_(std::move(store)), options_(std::move(options)) {}

JobManager::~JobManager() {
  shutdown(std::chrono::hours(24));
  if (worker_.joinable()) worker_.join();
}

std::vector<std::string> JobManager::load() {
  auto loaded = store_.load_all();
  std::lock_guard lock(mutex_);
  for (auto& job : loaded.jobs) {
    auto entry = std::make_shared<Entry>();
    entry->job = std::move(job);
    const auto recovery = recover_after_restart(entry->job);
    if (recovery == Recovery::requeue) {
      // A re-run starts from nothing: whatever a killed run left is partial.
      if (auto cleared = store_.reset_dir(store_.outputs_dir(entry->job.id)); !cleared)
        loaded.warnings.push_back(cleared.error().describe());
      queue_.push_back(entry->job.id);
    }
    if (recovery != Recovery::keep) persist_locked(*entry);
    table_[entry->job.id] = std::move(entry);
  }
  return std::move(loaded.warnings);
}

void JobManager::start() {
  std::lock_guard lock(mutex_);
  if (worker_.joinable() || stopping_) return;
  worker_ = std::thread([this] { worker_loop(); });
}

bool JobManager::shutdown(std::chrono::milliseconds grace) {
  std::unique_lock lock(mutex_);
  if (!stopping_) {
    stopping_ = true;
    if (running_) {
      running_->interrupted_by_shutdown = true;
      running_->cancel = true;
    }
  }
  wake_worker_.notify_all();
  if (!worker_.joinable()) return true;
  const bool finished = worker_idle_.wait_for(lock, grace, [&] { return !running_; });
  if (!finished) {
    // The runner ignores the cancel flag; record the job as queued anyway so
    // that a restart runs it again, then leave the thread to the caller.
    Job record = running_->job;
    recover_after_restart(record);
    if (auto saved = store_.save(record); !saved) spdlog::warn("{}", saved.error().describe());
    return false;
  }
  lock.unlock();
  worker_.join();
  return true;
}

Result<JobManager::Submitted> JobManager::submit(const config::JobSpec& spec, std::optional<std::string> id) {
  if (id && !is_valid_job_id(*id))
    return fail(ErrorCode::invalid_argument, "job ids are 1-64 characters of A-Z, a-z, 0-9, '_' and '-'", "id");
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    const auto& sha = spec.inputs[i].upload_sha256;
    if (sha.empty()) continue;
    const std::string field = "inputs[" + std::to_string(i) + "].upload";
    if (!is_sha256_hex(sha))
      return fail(ErrorCode::invalid_argument, "an upload is named by the 64 hex digits of its sha256", field);
    std::error_code ec;
    if (!fs::is_regular_file(store_.upload_path(sha), ec))
      return fail(ErrorCode::invalid_argument,
                  "upload " + sha + " is not on this agent: POST the file to /v1/uploads first", field);
  }
  const auto normalized = config::job_spec_to_json(spec);

  std::unique_lock lock(mutex_);
  if (stopping_) return fail(ErrorCode::unavailable, "the agent is shutting down; submit the job elsewhere");
  if (id) {
    if (auto it = table_.find(*id); it != table_.end()) {
      if (it->second->job.spec != normalized)
        return fail(ErrorCode::already_exists,
                    "job '" + *id + "' already exists with a different spec; use another id or DELETE it first", "id");
      return Submitted{view_locked(*it->second), false};
    }
    if (running_ && running_->removed && running_->job.id == *id)
      return fail(ErrorCode::unavailable, "job '" + *id + "' is still being deleted; retry in a moment", "id");
  } else {
    do id = new_job_id();
    while (table_.count(*id));
  }
  auto entry = std::make_shared<Entry>();
  entry->job.id = *id;
  entry->job.kind = std::string(config::job_kind(spec.params));
  entry->job.spec = normalized;
  entry->job.created_at = Clock::now();
  if (auto created = store_.create(entry->job); !created) {
    store_.remove(*id);
    return fail(created.error());
  }
  entry->last_persist = SteadyClock::now();
  table_[*id] = entry;
  queue_.push_back(*id);
  auto view = view_locked(*entry);
  lock.unlock();
  wake_worker_.notify_one();
  return Submitted{std::move(view), true};
}

Result<JobView> JobManager::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = table_.find(id);
  if (it == table_.end()) return fail(ErrorCode::not_found, not_found_message(id), "id");
  return view_locked(*it->second);
}

std::vector<JobView> JobManager::list() const {
  std::lock_guard lock(mutex_);
  std::vector<JobView> views;
  for (const auto& [id, entry] : table_) views.push_back(view_locked(*entry));
  std::stable_sort(views.begin(), views.end(),
                   [](const JobView& a, const JobView& b) { return a.job.created_at < b.job.created_at; });
  return views;
}

Result<JobView> JobManager::cancel(const std::string& id) {
  Watchers to_notify;
  JobView view;
  {
    std::lock_guard lock(mutex_);
    auto it = table_.find(id);
    if (it == table_.end()) return fail(ErrorCode::not_found, not_found_message(id), "id");
    Entry& entry = *it->second;
    switch (entry.job.state) {
      case JobState::queued: {
        queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
        entry.job.state = JobState::canceled;
        entry.job.error = Error{ErrorCode::cancelled, "canceled on request before it started", {}};
        entry.job.finished_at = Clock::now();
        persist_locked(entry);
        to_notify = touch_locked(entry);
        // Everyone behind it moved up one place.
        for (const auto& queued_id : queue_) {
          auto moved = touch_locked(*table_.at(queued_id));
          to_notify.insert(to_notify.end(), moved.begin(), moved.end());
        }
        break;
      }
      case JobState::running:
        entry.cancel = true;
        break;
      default:
        return fail(ErrorCode::failed_precondition,
                    "job '" + id + "' has already " + (entry.job.state == JobState::canceled ? "been " : "") +
                        std::string(to_string(entry.job.state)) + "; there is nothing to cancel",
                    "id");
    }
    view = view_locked(entry);
  }
  notify(std::move(to_notify));
  return view;
}

Status JobManager::remove(const std::string& id) {
  Watchers to_notify;
  {
    std::lock_guard lock(mutex_);
    auto it = table_.find(id);
    if (it == table_.end()) return fail(ErrorCode::not_found, not_found_message(id), "id");
    auto entry = it->second;
    table_.erase(it);
    queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
    to_notify = touch_locked(*entry);
    if (entry == running_) {
      // The worker deletes the folder once the runner has let go of it.
      entry->removed = true;
      entry->cancel = true;
    } else if (auto removed = store_.remove(id); !removed) {
      return removed;
    }
  }
  notify(std::move(to_notify));
  return {};
}

Result<OutputLocation> JobManager::output(const std::string& id, const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = table_.find(id);
  if (it == table_.end()) return fail(ErrorCode::not_found, not_found_message(id), "id");
  const Job& job = it->second->job;
  if (job.state != JobState::succeeded)
    return fail(ErrorCode::failed_precondition,
                "job '" + id + "' is " + std::string(to_string(job.state)) +
                    "; outputs can be downloaded once it has succeeded",
                "id");
  auto found = std::find_if(job.outputs.begin(), job.outputs.end(), [&](const JobOutput& o) { return o.name == name; });
  if (found == job.outputs.end()) {
    std::string names;
    for (const auto& o : job.outputs) names += (names.empty() ? "" : ", ") + o.name;
    return fail(ErrorCode::not_found,
                "job '" + id + "' has no output '" + name + "' (its outputs: " + (names.empty() ? "none" : names) + ")",
                "name");
  }
  return OutputLocation{store_.outputs_dir(id) / name, found->bytes};
}

std::optional<JobManager::WatchId> JobManager::watch(const std::string& id, std::uint64_t seen_version,
                                                      std::function<void()> on_change) {
  std::lock_guard lock(mutex_);
  auto it = table_.find(id);
  if (it == table_.end() || it->second->version != seen_version) return std::nullopt;
  const WatchId watch_id = next_watch_id_++;
  it->second->watchers.emplace(watch_id, std::move(on_change));
  return watch_id;
}

void JobManager::unwatch(const std::string& id, WatchId watch_id) {
  std::lock_guard lock(mutex_);
  if (auto it = table_.find(id); it != table_.end()) it->second->watchers.erase(watch_id);
}

JobCounts JobManager::counts() const {
  std::lock_guard lock(mutex_);
  JobCounts counts;
  for (const auto& [id, entry] : table_) {
    switch (entry->job.state) {
      case JobState::queued: ++counts.queued; break;
      case JobState::running: ++counts.running; break;
      case JobState::succeeded: ++counts.succeeded; break;
      case JobState::failed: ++counts.failed; break;
      case JobState::canceled: ++counts.canceled; break;
    }
  }
  return counts;
}

std::size_t JobManager::queue_length() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool JobManager::busy() const {
  std::lock_guard lock(mutex_);
  return !queue_.empty() || running_ != nullptr;
}

void JobManager::worker_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_worker_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    const std::string id = queue_.front();
    queue_.pop_front();
    auto it = table_.find(id);
    if (it == table_.end() || it->second->job.state != JobState::queued) continue;
    auto entry = it->second;
    Job& job = entry->job;
    job.state = JobState::running;
    job.attempts += 1;
    job.started_at = Clock::now();
    job.progress = JobProgress{};
    job.error.reset();
    persist_locked(*entry);
    Watchers to_notify = touch_locked(*entry);
    for (const auto& queued_id : queue_) {
      auto moved = touch_locked(*table_.at(queued_id));
      to_notify.insert(to_notify.end(), moved.begin(), moved.end());
    }
    running_ = entry;
    lock.unlock();
    notify(std::move(to_notify));
    run_one(entry);  // clears running_ when the job is finished
    lock.lock();
  }
}

void JobManager::run_one(const std::shared_ptr<Entry>& entry) {
  const std::string id = entry->job.id;  // immutable once created
  nlohmann::json spec_json;
  {
    std::lock_guard lock(mutex_);
    spec_json = entry->job.spec;
  }
  nlohmann::json engine_result;
  auto attempt = [&]() -> Result<std::vector<JobOutput>> {
    for (const auto& dir : {store_.outputs_dir(id), store_.scratch_dir(id)})
      if (auto reset = store_.reset_dir(dir); !reset) return fail(reset.error());
    std::error_code ec;
    fs::create_directories(store_.inputs_dir(id), ec);
    auto spec = config::job_spec_from_json(spec_json);
    if (!spec) return fail(spec.error());
    auto inputs = options_.resolve_inputs(*spec, store_.inputs_dir(id), entry->cancel);
    if (!inputs) return fail(inputs.error());
    if (entry->cancel) return fail(ErrorCode::cancelled, "canceled on request");
    EngineContext context;
    context.output_dir = store_.outputs_dir(id);
    context.scratch_dir = store_.scratch_dir(id);
    context.cancel = &entry->cancel;
    context.report = [this, &entry](const Progress& progress) { report_progress(*entry, progress); };
    Result<std::vector<OutputFile>> files = fail(ErrorCode::internal, "the engine did not run");
    try {
      files = options_.runner(spec->params, *inputs, context);
    } catch (const std::exception& e) {
      return fail(ErrorCode::internal, std::string("the engine failed unexpectedly: ") + e.what());
    }
    if (!files) return fail(files.error());
    engine_result = std::move(context.result);
    return describe_outputs(*files, store_.outputs_dir(id));
  };
  auto result = attempt();
  {
    std::error_code ec;
    fs::remove_all(store_.scratch_dir(id), ec);
  }

  Watchers to_notify;
  {
    std::unique_lock lock(mutex_);
    Job& job = entry->job;
    if (entry->removed) {
      to_notify = touch_locked(*entry);
      if (auto removed = store_.remove(id); !removed) spdlog::warn("{}", removed.error().describe());
    } else {
      if (entry->interrupted_by_shutdown && !result) {
        recover_after_restart(job);  // back to queued for the next start
        spdlog::info("job {} interrupted by shutdown; it will run again on the next start", id);
      } else if (result) {
        job.state = JobState::succeeded;
        job.outputs = std::move(*result);
        job.result = std::move(engine_result);
        job.progress.eta_s = 0.0;
        job.finished_at = Clock::now();
      } else if (entry->cancel) {
        job.state = JobState::canceled;
        job.error = Error{ErrorCode::cancelled, "canceled on request while running", {}};
        job.finished_at = Clock::now();
      } else {
        job.state = JobState::failed;
        job.error = result.error();
        job.finished_at = Clock::now();
      }
      persist_locked(*entry);
      to_notify = touch_locked(*entry);
      spdlog::info("job {} {}{}", id, to_string(job.state), job.error ? ": " + job.error->message : "");
    }
    // No longer running from here on, in the same critical section that made
    // the job terminal: a DELETE that sees the finished job must remove its
    // folder itself, since this worker has already looked at `removed`.
    running_.reset();
    worker_idle_.notify_all();
  }
  notify(std::move(to_notify));
}

void JobManager::report_progress(Entry& entry, const Progress& progress) {
  Watchers to_notify;
  {
    std::lock_guard lock(mutex_);
    const auto now = SteadyClock::now();
    JobProgress& live = entry.job.progress;
    const bool new_stage = live.stage != progress.stage;
    if (new_stage) entry.stage_started = now;
    live.stage = progress.stage;
    live.done = progress.done;
    live.total = progress.total;
    live.eta_s = estimate_eta_s(std::chrono::duration<double>(now - entry.stage_started).count(), live.fraction());
    if (now - entry.last_persist >= options_.persist_interval) persist_locked(entry);
    if (new_stage || now - entry.last_notify >= options_.notify_interval) {
      entry.last_notify = now;
      to_notify = touch_locked(entry);
    }
  }
  notify(std::move(to_notify));
}

JobManager::Watchers JobManager::touch_locked(Entry& entry) {
  ++entry.version;
  Watchers watchers;
  for (auto& [watch_id, callback] : entry.watchers) watchers.push_back(std::move(callback));
  entry.watchers.clear();
  return watchers;
}

void JobManager::persist_locked(Entry& entry) {
  // Written under the table lock so that two writers can never reorder an
  // older record over a newer one; records are small and writes infrequent.
  entry.last_persist = SteadyClock::now();
  if (auto saved = store_.save(entry.job); !saved)
    spdlog::warn("cannot persist job {}: {}", entry.job.id, saved.error().describe());
}

JobView JobManager::view_locked(const Entry& entry) const {
  JobView view{entry.job, std::nullopt, entry.version};
  if (entry.job.state == JobState::queued) {
    auto it = std::find(queue_.begin(), queue_.end(), entry.job.id);
    if (it != queue_.end()) view.queue_position = static_cast<std::size_t>(it - queue_.begin());
  }
  return view;
}

void JobManager::notify(Watchers watchers) {
  for (auto& callback : watchers) callback();
}

}  // namespace ferry::agent::jobs
