#include "controller/run.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/sha256.hpp"
#include "config/manifest.hpp"
#include "config/units.hpp"
#include "controller/agent_client.hpp"
#include "controller/interrupt.hpp"
#include "controller/outputs.hpp"
#include "controller/plan.hpp"
#include "controller/progress.hpp"
#include "controller/state_store.hpp"
#include "providers/local/local_provider.hpp"

namespace ferry::controller {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The agent's own guards when the manifest sets none: stop after 10 idle
// minutes, and in any case after 6 hours.
constexpr std::chrono::milliseconds kDefaultIdleTimeout = std::chrono::minutes(10);
constexpr std::chrono::milliseconds kDefaultDeadline = std::chrono::hours(6);
constexpr std::chrono::seconds kAgentStartTimeout{60};
// Long-poll length: short enough that Ctrl-C is acted on promptly.
constexpr int kPollWaitSeconds = 1;

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t filled = 0;
  while (filled < bytes) {
    ssize_t got = ::getrandom(raw.data() + filled, bytes - filled, 0);
    if (got > 0) filled += static_cast<std::size_t>(got);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

/// One agent job as the run follows it.
struct TrackedJob {
  const PlannedJob* plan = nullptr;
  std::string agent_id;
  std::size_t line = 0;  ///< progress display line
  JobRecord record;
  AgentJob last;
  bool submitted = false;  ///< the agent has it
  bool done = false;     ///< finished and, when it succeeded, downloaded
  std::vector<fs::path> outputs;
};

class Run {
 public:
  Run(const RunOptions& options, std::FILE* out, std::FILE* err) : options_(options), out_(out), err_(err) {}

  ExitCode execute();

 private:
  // Steps, in order.
  std::optional<ExitCode> load_and_plan();
  Status open_record();
  Status start_instance();
  Status wait_for_agent();
  Status upload_inputs();
  Status submit_jobs();
  Status start_awaited_jobs();
  Status follow_jobs();
  void cancel_unfinished_jobs();
  bool tear_down();
  ExitCode finish(std::optional<Error> run_error, bool teardown_ok);

  // Helpers.
  void say(const std::string& text);
  void record_job(TrackedJob& job, const std::string& state, const std::string& error = {});
  void show(TrackedJob& job);
  Status upload(const fs::path& file);
  Status submit(TrackedJob& job);
  Status settle(TrackedJob& job);
  void save_run();

  RunOptions options_;
  std::FILE* out_;
  std::FILE* err_;
  config::Manifest manifest_;
  Plan plan_;
  std::optional<StateStore> store_;
  RunRecord run_;
  std::unique_ptr<providers::LocalProvider> provider_;
  std::string token_;
  std::int64_t instance_row_ = 0;
  std::string instance_id_;
  std::string endpoint_;
  std::unique_ptr<AgentClient> agent_;
  std::map<fs::path, std::string> upload_digests_;
  std::vector<TrackedJob> jobs_;
  std::unique_ptr<ProgressDisplay> display_;
};

void Run::say(const std::string& text) {
  if (display_) {
    display_->message(text);
  } else {
    std::fprintf(err_, "%s\n", text.c_str());
    std::fflush(err_);
  }
}

std::optional<ExitCode> Run::load_and_plan() {
  auto manifest = config::load_manifest(options_.manifest);
  if (!manifest) {
    std::fprintf(err_, "error: %s\n", manifest.error().describe().c_str());
    return ExitCode::manifest_invalid;
  }
  manifest_ = std::move(*manifest);
  if (manifest_.provider != "local") {
    std::fprintf(err_,
                 "error: %s: `ferry run` cannot use provider '%s' in this version of ferry; only 'local' "
                 "runs jobs yet (`ferry offers`, `ferry down` and `ferry gc` do work with it). "
                 "Set `provider: local` (or leave it out) to run on this machine.\n",
                 manifest_.file.string().c_str(), manifest_.provider.c_str());
    return ExitCode::manifest_invalid;
  }
  auto plan = build_plan(manifest_);
  if (!plan) {
    std::fprintf(err_, "error: %s\n", plan.error().describe().c_str());
    return exit_code_for(plan.error().code);
  }
  plan_ = std::move(*plan);
  if (plan_.jobs.empty()) {
    std::fprintf(err_, "error: %s: the manifest lists no jobs; add an entry under `jobs:`\n",
                 manifest_.file.string().c_str());
    return ExitCode::manifest_invalid;
  }
  if (options_.dry_run) {
    if (options_.json)
      std::fprintf(out_, "%s\n", plan_to_json(plan_).dump(2).c_str());
    else
      std::fprintf(out_, "%s", describe_plan(plan_).c_str());
    return ExitCode::ok;
  }
  std::fprintf(err_, "%s", describe_plan(plan_).c_str());
  std::fflush(err_);
  return std::nullopt;
}

Status Run::open_record() {
  auto path = StateStore::default_path();
  if (!path) return fail(path.error());
  auto store = StateStore::open(*path);
  if (!store) return fail(store.error());
  store_.emplace(std::move(*store));
  run_.id = new_run_id();
  run_.name = plan_.name;
  run_.manifest_path = fs::absolute(plan_.manifest).string();
  run_.provider = plan_.provider;
  run_.output_dir = plan_.output_dir.string();
  run_.state = RunState::starting;
  run_.jobs_total = static_cast<int>(plan_.jobs.size());
  run_.started_at = now_unix();
  if (auto created = store_->create_run(run_); !created) return created;
  for (const auto& planned : plan_.jobs) {
    TrackedJob job;
    job.plan = &planned;
    job.agent_id = run_.id + "-" + planned.key;
    job.record.id = job.agent_id;
    job.record.run_id = run_.id;
    job.record.entry_index = planned.entry_index;
    job.record.kind = planned.kind;
    job.record.input = planned.input.shown();
    job.record.state = "planned";
    if (auto saved = store_->upsert_job(job.record); !saved) return saved;
    jobs_.push_back(std::move(job));
  }
  return {};
}

void Run::save_run() {
  run_.jobs_done = 0;
  run_.jobs_failed = 0;
  for (const auto& job : jobs_) {
    if (job.done) ++run_.jobs_done;
    if (job.record.state == "failed" || job.record.state == "canceled") ++run_.jobs_failed;
  }
  if (auto saved = store_->update_run(run_); !saved) say("warning: " + saved.error().describe());
}

Status Run::start_instance() {
  providers::LocalProviderOptions provider_options;
  provider_options.outlive_controller = options_.keep;
  provider_ = std::make_unique<providers::LocalProvider>(provider_options);
  auto offers = provider_->search(manifest_.resources);
  if (!offers) return fail(offers.error());
  if (offers->empty()) return fail(ErrorCode::unavailable, "the local provider offered no machine");

  token_ = new_agent_token();
  providers::LaunchSpec launch;
  launch.label = "ferry:" + run_.id;
  launch.image = manifest_.image;
  launch.env["FERRY_AGENT_TOKEN"] = token_;
  launch.env["FERRY_IDLE_TIMEOUT"] = config::format_duration(manifest_.idle_timeout.value_or(kDefaultIdleTimeout));
  launch.env["FERRY_DEADLINE"] = config::format_duration(manifest_.max_duration.value_or(kDefaultDeadline));

  // The intent is on disk before the process exists, its id right after.
  auto row = store_->record_intended_instance(run_.id, provider_->name());
  if (!row) return fail(row.error());
  instance_row_ = *row;
  auto created = provider_->create(offers->front(), launch);
  if (!created) {
    (void)store_->set_instance_state(instance_row_, "create_failed");
    return fail(created.error());
  }
  instance_id_ = *created;
  if (auto saved = store_->set_instance_created(instance_row_, instance_id_); !saved) return saved;
  say("Started the local agent (" + instance_id_ + ")");
  return {};
}

Status Run::wait_for_agent() {
  auto deadline = Clock::now() + kAgentStartTimeout;
  std::string last_problem = "it did not report its port";
  while (Clock::now() < deadline) {
    if (interrupted()) return fail(ErrorCode::cancelled, "interrupted while the agent was starting");
    auto info = provider_->get(instance_id_);
    if (!info) return fail(info.error());
    if (info->state == providers::InstanceState::exited || info->state == providers::InstanceState::gone)
      return fail(ErrorCode::unavailable, "the agent stopped while starting: " + info->detail);
    if (info->endpoint) {
      if (!agent_) {
        endpoint_ = *info->endpoint;
        agent_ = std::make_unique<AgentClient>(endpoint_, token_, [] { return interrupted(); });
      }
      auto health = agent_->health();
      if (health && (*health == "READY" || *health == "BUSY")) {
        (void)store_->set_instance_state(instance_row_, "running", endpoint_);
        return {};
      }
      if (health && *health == "SETUP_FAILED")
        return fail(ErrorCode::unavailable, "the agent at " + endpoint_ + " reports SETUP_FAILED");
      last_problem = health ? "its health is " + *health : health.error().describe();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return fail(ErrorCode::deadline_exceeded,
              fmt::format("the agent was not ready after {}s ({})", kAgentStartTimeout.count(), last_problem));
}

Status Run::upload(const fs::path& file) {
  if (upload_digests_.contains(file)) return {};
  if (interrupted()) return fail(ErrorCode::cancelled, "interrupted during uploads");
  auto digest = sha256_file(file);
  if (!digest) return fail(digest.error());
  std::error_code error;
  auto size = fs::file_size(file, error);
  say(fmt::format("Uploading {} ({})", file.string(), config::format_size(error ? 0 : size)));
  auto receipt = agent_->upload(file, *digest);
  if (!receipt) return fail(receipt.error());
  upload_digests_[file] = *digest;
  return {};
}

Status Run::upload_inputs() {
  for (const auto& file : plan_.uploads)
    if (auto uploaded = upload(file); !uploaded) return uploaded;
  return {};
}

void Run::record_job(TrackedJob& job, const std::string& state, const std::string& error) {
  job.record.state = state;
  job.record.error = error;
  job.record.outputs.clear();
  for (const auto& path : job.outputs) job.record.outputs.push_back(path.string());
  if (auto saved = store_->upsert_job(job.record); !saved) say("warning: " + saved.error().describe());
}

void Run::show(TrackedJob& job) {
  if (!display_) return;
  JobLine line;
  line.label = job.plan->label();
  line.state = job.record.state;
  // The agent's stage and ETA describe its work, not ours after it ends.
  if (job.record.state == "running") {
    line.stage = job.last.stage;
    line.fraction = job.last.fraction;
    line.eta_s = job.last.eta_s;
  }
  if (job.record.state == "failed") line.note = job.record.error;
  if (job.record.state == "planned" && job.plan->input.from_earlier_entry) line.note = "after the earlier entries";
  display_->update(job.line, line);
}

Status Run::submit(TrackedJob& job) {
  if (interrupted()) return fail(ErrorCode::cancelled, "interrupted while submitting jobs");
  config::InputRef input;
  input.name = job.plan->input.name;
  if (job.plan->input.is_url)
    input.url = job.plan->input.url;
  else
    input.upload_sha256 = upload_digests_.at(job.plan->input.file);
  config::JobSpec spec{{input}, job.plan->params};
  record_job(job, "submitted");
  auto accepted = agent_->put_job(job.agent_id, config::job_spec_to_json(spec));
  if (!accepted) return fail(accepted.error());
  job.submitted = true;
  job.last = *accepted;
  record_job(job, job.last.state);
  show(job);
  return {};
}

Status Run::submit_jobs() {
  display_ = std::make_unique<ProgressDisplay>(err_, terminal_allows_decoration(::fileno(err_)));
  for (auto& job : jobs_) {
    JobLine line;
    line.label = job.plan->label();
    line.state = "planned";
    if (job.plan->input.from_earlier_entry) line.note = "after the earlier entries";
    job.line = display_->add(line);
  }
  for (auto& job : jobs_) {
    // Jobs on an earlier entry's output go in once that entry is done.
    if (job.plan->input.from_earlier_entry) continue;
    if (auto submitted = submit(job); !submitted) return submitted;
  }
  display_->render();
  return {};
}

// Starts the jobs whose input an earlier entry makes, once every job of the
// earlier entries has finished and its outputs are home.
Status Run::start_awaited_jobs() {
  for (auto& job : jobs_) {
    if (job.submitted || job.done || !job.plan->input.from_earlier_entry) continue;
    std::vector<fs::path> earlier_outputs;
    bool earlier_done = true;
    for (const auto& other : jobs_) {
      if (other.plan->entry_index >= job.plan->entry_index) continue;
      earlier_done = earlier_done && other.done;
      earlier_outputs.insert(earlier_outputs.end(), other.outputs.begin(), other.outputs.end());
    }
    if (!earlier_done) continue;
    if (auto found = check_awaited_input(job.plan->input, earlier_outputs); !found) {
      record_job(job, "failed", found.error().describe());
      say("error: " + found.error().describe());
      job.done = true;
      show(job);
      save_run();
      continue;
    }
    if (auto uploaded = upload(job.plan->input.file); !uploaded) return uploaded;
    if (auto submitted = submit(job); !submitted) return submitted;
  }
  return {};
}

// Brings a job that the agent reports as finished to its final local state.
Status Run::settle(TrackedJob& job) {
  if (job.last.state == "succeeded") {
    record_job(job, "downloading");
    show(job);
    display_->render();
    auto fetched = fetch_outputs(*agent_, job.agent_id, job.last, *job.plan, plan_.output_dir);
    if (!fetched) {
      if (fetched.error().code == ErrorCode::cancelled) return fail(fetched.error());
      record_job(job, "failed", fetched.error().describe());
      say("error: " + job.plan->input.shown() + ": " + fetched.error().describe());
    } else {
      job.outputs = *fetched;
      record_job(job, "succeeded");
    }
  } else {
    std::string message = job.last.error ? job.last.error->describe() : "the agent gave no reason";
    record_job(job, job.last.state, message);
    if (job.last.state == "failed") say("error: job for " + job.plan->input.shown() + " failed: " + message);
  }
  job.done = true;
  show(job);
  save_run();
  return {};
}

Status Run::follow_jobs() {
  run_.state = RunState::running;
  save_run();
  while (true) {
    if (interrupted()) return fail(ErrorCode::cancelled, "interrupted");
    if (auto started = start_awaited_jobs(); !started) return started;
    if (std::all_of(jobs_.begin(), jobs_.end(), [](const TrackedJob& job) { return job.done; })) return {};
    auto pending = std::find_if(jobs_.begin(), jobs_.end(),
                                [](const TrackedJob& job) { return job.submitted && !job.done; });
    auto round_started = Clock::now();
    // The oldest unfinished job is most likely the one running: wait on it,
    // and look at the others without waiting.
    for (auto it = pending; it != jobs_.end(); ++it) {
      TrackedJob& job = *it;
      if (job.done || !job.submitted) continue;
      auto latest = agent_->get_job(job.agent_id, it == pending ? kPollWaitSeconds : 0);
      if (!latest) {
        if (latest.error().code == ErrorCode::cancelled) return fail(latest.error());
        // A lost agent is the run's failure, not one job's.
        auto info = provider_->get(instance_id_);
        if (info && (info->state == providers::InstanceState::exited || info->state == providers::InstanceState::gone))
          return fail(ErrorCode::unavailable, "the agent stopped during the run: " + info->detail);
        return fail(latest.error());
      }
      bool changed = latest->state != job.last.state;
      job.last = *latest;
      if (job.last.finished()) {
        if (auto settled = settle(job); !settled) return settled;
      } else {
        if (changed) record_job(job, job.last.state);
        show(job);
      }
    }
    display_->render();
    // Long-polls return early on every progress change; keep a floor under
    // the round so many jobs do not spin.
    auto floor = round_started + std::chrono::milliseconds(250);
    while (Clock::now() < floor && !interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

void Run::cancel_unfinished_jobs() {
  if (!agent_) return;
  AgentClient canceller(endpoint_, token_, {}, RetryPolicy{2, std::chrono::milliseconds(100), std::chrono::milliseconds(200)});
  for (auto& job : jobs_) {
    if (job.done || job.record.state == "planned") continue;
    auto cancelled = canceller.cancel_job(job.agent_id);
    if (cancelled) job.last = *cancelled;
    record_job(job, "canceled", "interrupted");
    job.done = true;
    show(job);
  }
}

bool Run::tear_down() {
  if (!provider_ || instance_id_.empty()) return true;
  if (options_.keep) {
    say("Kept the agent running at " + endpoint_ + " (" + instance_id_ + "); it stops by itself after " +
        config::format_duration(manifest_.idle_timeout.value_or(kDefaultIdleTimeout)) + " idle, or run `ferry down " +
        run_.id + "`");
    (void)store_->set_instance_state(instance_row_, "kept");
    return true;
  }
  (void)store_->set_instance_state(instance_row_, "stopping");
  auto destroyed = provider_->destroy(instance_id_);
  auto info = provider_->get(instance_id_);
  bool gone = destroyed && info &&
              (info->state == providers::InstanceState::gone || info->state == providers::InstanceState::exited);
  if (!gone) {
    std::string why = !destroyed ? destroyed.error().describe()
                                 : (!info ? info.error().describe() : std::string("it is still running"));
    say("ERROR: could not stop the agent " + instance_id_ + ": " + why +
        ". It may still be running; stop it with `ferry down " + run_.id + "`.");
    (void)store_->set_instance_state(instance_row_, "destroy_failed");
    return false;
  }
  (void)store_->set_instance_state(instance_row_, "destroyed");
  return true;
}

ExitCode Run::finish(std::optional<Error> run_error, bool teardown_ok) {
  if (display_) display_->finish();
  int failed = 0;
  for (const auto& job : jobs_)
    if (job.record.state == "failed" || job.record.state == "canceled") ++failed;

  ExitCode code = ExitCode::ok;
  if (!teardown_ok) {
    code = ExitCode::teardown_failed;
    run_.state = RunState::teardown_failed;
  } else if (run_error && run_error->code == ErrorCode::cancelled) {
    code = ExitCode::interrupted;
    run_.state = RunState::interrupted;
  } else if (run_error) {
    code = exit_code_for(run_error->code);
    if (code == ExitCode::ok || code == ExitCode::manifest_invalid) code = ExitCode::job_failed;
    run_.state = RunState::failed;
  } else if (failed > 0) {
    code = ExitCode::job_failed;
    run_.state = RunState::failed;
  } else {
    run_.state = RunState::succeeded;
  }
  if (run_error) {
    run_.message = run_error->describe();
    if (run_error->code != ErrorCode::cancelled) std::fprintf(err_, "error: %s\n", run_error->describe().c_str());
  } else if (failed > 0) {
    run_.message = fmt::format("{} of {} jobs failed", failed, jobs_.size());
  }
  run_.finished_at = now_unix();
  if (store_) save_run();

  json summary_jobs = json::array();
  std::vector<std::string> paths;
  for (const auto& job : jobs_) {
    json outputs = json::array();
    for (const auto& path : job.outputs) {
      outputs.push_back(path.string());
      paths.push_back(path.string());
    }
    summary_jobs.push_back({{"id", job.agent_id},
                            {"input", job.plan->input.shown()},
                            {"kind", job.plan->kind},
                            {"summary", job.plan->summary},
                            {"state", job.record.state},
                            {"error", job.record.error.empty() ? json(nullptr) : json(job.record.error)},
                            {"outputs", outputs},
                            {"result", job.last.result}});
  }
  if (options_.json) {
    json summary{{"run_id", run_.id},
                 {"name", run_.name},
                 {"state", std::string(to_string(run_.state))},
                 {"output", plan_.output_dir.string()},
                 {"exit_code", to_int(code)},
                 {"message", run_.message.empty() ? json(nullptr) : json(run_.message)},
                 {"jobs", summary_jobs}};
    if (options_.keep && teardown_ok && !endpoint_.empty()) summary["endpoint"] = endpoint_;
    std::fprintf(out_, "%s\n", summary.dump(2).c_str());
  } else {
    for (const auto& path : paths) std::fprintf(out_, "%s\n", path.c_str());
  }
  std::fflush(out_);
  auto succeeded = std::count_if(jobs_.begin(), jobs_.end(),
                                 [](const TrackedJob& job) { return job.record.state == "succeeded"; });
  std::string closing =
      fmt::format("Run {} {}: {} of {} jobs succeeded", run_.id, to_string(run_.state), succeeded, jobs_.size());
  if (!paths.empty()) closing += "; results in " + plan_.output_dir.string();
  std::fprintf(err_, "%s\n", closing.c_str());
  return code;
}

ExitCode Run::execute() {
  if (auto early = load_and_plan()) return *early;
  if (auto opened = open_record(); !opened) {
    std::fprintf(err_, "error: %s\n", opened.error().describe().c_str());
    return ExitCode::job_failed;
  }
  std::optional<Error> run_error;
  Status step = start_instance();
  if (step) step = wait_for_agent();
  if (step) step = upload_inputs();
  if (step) step = submit_jobs();
  if (step) step = follow_jobs();
  if (!step) run_error = step.error();
  if (interrupted()) {
    run_error = Error{ErrorCode::cancelled, "interrupted by signal " + std::to_string(interrupt_signal()), {}};
    say("Interrupted: cancelling jobs and stopping the agent...");
  }
  if (run_error) cancel_unfinished_jobs();
  // Jobs never submitted stay "planned"; they count as not done.
  bool teardown_ok = tear_down();
  return finish(run_error, teardown_ok);
}

}  // namespace

std::string new_run_id() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  return std::string(stamp) + "-" + random_hex(2);
}

std::string new_agent_token() { return random_hex(32); }

ExitCode run_manifest(const RunOptions& options, std::FILE* out, std::FILE* err) {
  Run run(options, out, err);
  return run.execute();
}

}  // namespace ferry::controller
