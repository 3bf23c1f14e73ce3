#include "controller/run.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "config/manifest.hpp"
#include "config/units.hpp"
#include "controller/ask.hpp"
#include "controller/cloud_plan.hpp"
#include "controller/fleet.hpp"
#include "controller/instance_worker.hpp"
#include "controller/machine_plan.hpp"
#include "controller/plan.hpp"
#include "controller/progress.hpp"
#include "controller/provider_factory.hpp"
#include "controller/run_lease.hpp"
#include "controller/run_report.hpp"
#include "controller/run_settings.hpp"
#include "controller/shared_run.hpp"
#include "controller/state_store.hpp"
#include "providers/api.hpp"

namespace ferry::controller {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

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

// Time for the destroy call itself, on top of one poll, when limits look
// ahead: billing stops when the provider accepts the destroy.
constexpr std::chrono::milliseconds kTeardownAllowance{2000};

class Run {
 public:
  Run(const RunOptions& options, std::FILE* out, std::FILE* err) : options_(options), out_(out), err_(err) {}

  ExitCode execute();

 private:
  std::optional<ExitCode> load_and_plan();
  std::optional<ExitCode> choose_machines();
  /// What past runs say about start-up and job times; defaults when unreadable.
  Calibration past_runs_calibration();
  ExitCode print_dry_run();
  std::optional<ExitCode> confirm_spending();
  Status open_record();
  Status prepare_workers();
  void run_workers();
  ExitCode finish();

  std::optional<ExitCode> report_early(const Error& error, ExitCode code) {
    std::fprintf(err_, "error: %s\n", error.describe().c_str());
    return code;
  }
  providers::LocalProviderOptions local_options() const {
    providers::LocalProviderOptions local;
    local.outlive_controller = options_.keep;
    return local;
  }

  RunOptions options_;
  std::FILE* out_;
  std::FILE* err_;
  config::Manifest manifest_;
  Plan plan_;
  RunSettings settings_;
  std::unique_ptr<providers::Provider> search_provider_;
  std::vector<providers::Offer> ranked_;
  MachinePlan machines_;
  std::optional<StateStore> store_;
  std::optional<RunLease> lease_;
  RunRecord run_;
  std::string token_;
  std::unique_ptr<ProgressDisplay> display_;
  std::unique_ptr<SharedRun> shared_;
  std::vector<std::unique_ptr<InstanceWorker>> workers_;
};

std::optional<ExitCode> Run::load_and_plan() {
  auto manifest = config::load_manifest(options_.manifest);
  if (!manifest) return report_early(manifest.error(), ExitCode::manifest_invalid);
  manifest_ = std::move(*manifest);
  auto plan = build_plan(manifest_);
  if (!plan) return report_early(plan.error(), exit_code_for(plan.error().code));
  plan_ = std::move(*plan);
  if (plan_.jobs.empty())
    return report_early(Error{ErrorCode::invalid_argument,
                              manifest_.file.string() + ": the manifest lists no jobs; add an entry under `jobs:`",
                              "jobs"},
                        ExitCode::manifest_invalid);
  auto settings = run_settings_for(manifest_.provider, [](const char* name) { return providers::env_value(name); });
  if (!settings) return report_early(settings.error(), ExitCode::usage);
  settings_ = *settings;
  return std::nullopt;
}

Calibration Run::past_runs_calibration() {
  auto path = StateStore::default_path();
  Result<Calibration> calibration = path ? load_calibration(*path) : fail(path.error());
  if (calibration) return std::move(*calibration);
  // The estimate is a guide: without its history it still has the defaults.
  std::fprintf(err_, "warning: estimating without past runs: %s\n", calibration.error().describe().c_str());
  return Calibration{};
}

std::optional<ExitCode> Run::choose_machines() {
  ProviderFactoryOptions factory;
  // A dry run only searches, which some providers allow without a key.
  factory.require_credentials = !options_.dry_run;
  factory.local = local_options();
  auto provider = make_provider(manifest_.provider, factory);
  if (!provider) return report_early(provider.error(), exit_code_for(provider.error().code));
  search_provider_ = std::move(*provider);
  auto offers = choose_offers(*search_provider_, manifest_.resources);
  if (!offers) {
    const Error& error = offers.error();
    // A request the provider cannot serve (Fly has no GPUs) is the manifest's to change.
    ExitCode code = error.code == ErrorCode::unsupported ? ExitCode::manifest_invalid : exit_code_for(error.code);
    return report_early(error, code);
  }
  ranked_ = std::move(*offers);
  machines_ = plan_machines(plan_, manifest_, ranked_, past_runs_calibration());
  return std::nullopt;
}

ExitCode Run::print_dry_run() {
  if (options_.json) {
    json plan = plan_to_json(plan_);
    plan["machines"] = machines_to_json(machines_);
    std::fprintf(out_, "%s\n", plan.dump(2).c_str());
  } else {
    std::fprintf(out_, "%s%s", describe_plan(plan_).c_str(), describe_machines(machines_, manifest_).c_str());
  }
  return ExitCode::ok;
}

std::optional<ExitCode> Run::confirm_spending() {
  if (options_.yes || manifest_.provider == "local") return std::nullopt;
  if (!::isatty(STDIN_FILENO)) {
    std::fprintf(err_,
                 "error: this run rents %zu %s instance(s) at $%.3f/h in all; pass --yes to start them "
                 "(no terminal to ask on), or --dry-run to see the plan only\n",
                 machines_.first_offers.size(), manifest_.provider.c_str(), machines_.estimate.price_per_hour);
    return ExitCode::usage;
  }
  if (!ask_on_terminal(fmt::format("Start {} {} instance(s) at ${:.3f}/h (estimated ${:.2f})?",
                                   machines_.first_offers.size(), manifest_.provider,
                                   machines_.estimate.price_per_hour, machines_.estimate.expected))) {
    std::fprintf(err_, "Nothing started.\n");
    return ExitCode::usage;
  }
  return std::nullopt;
}

Status Run::open_record() {
  auto path = StateStore::default_path();
  if (!path) return fail(path.error());
  auto store = StateStore::open(*path);
  if (!store) return fail(store.error());
  store_.emplace(std::move(*store));
  run_.id = new_run_id();
  // Held until the run ends, however it ends: `ferry gc` spares the run's
  // instances while it is.
  auto lease = RunLease::acquire(path->parent_path(), run_.id);
  if (!lease) return fail(lease.error());
  lease_.emplace(std::move(*lease));
  run_.name = plan_.name;
  run_.manifest_path = fs::absolute(plan_.manifest).string();
  run_.provider = plan_.provider;
  run_.output_dir = plan_.output_dir.string();
  run_.state = RunState::starting;
  run_.jobs_total = static_cast<int>(plan_.jobs.size());
  run_.started_at = now_unix();
  return store_->create_run(run_);
}

Status Run::prepare_workers() {
  display_ = std::make_unique<ProgressDisplay>(err_, terminal_allows_decoration(::fileno(err_)));
  std::vector<TrackedJob> jobs;
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
    JobLine line;
    line.label = planned.label();
    line.state = "planned";
    if (planned.input.from_earlier_entry) line.note = "after the earlier entries";
    job.line = display_->add(line);
    jobs.push_back(std::move(job));
  }
  const std::size_t instances = machines_.first_offers.size();
  SharedRunLimits limits;
  limits.budget = manifest_.budget;
  limits.max_duration = manifest_.max_duration;
  limits.margin = 2 * settings_.poll_interval + (manifest_.provider == "local" ? std::chrono::milliseconds(0)
                                                                                : kTeardownAllowance);
  shared_ = std::make_unique<SharedRun>(plan_, std::move(jobs), *store_, *display_, limits, instances);

  token_ = new_agent_token();
  const auto launch = launch_spec_for(manifest_, run_.id, token_);
  auto path = StateStore::default_path();
  if (!path) return fail(path.error());
  for (std::size_t i = 0; i < instances; ++i) {
    std::unique_ptr<providers::Provider> provider;
    if (i == 0) {
      provider = std::move(search_provider_);
    } else {
      // Each instance has its own client: provider clients are not shared across threads.
      ProviderFactoryOptions factory;
      factory.local = local_options();
      auto made = make_provider(manifest_.provider, factory);
      if (!made) return fail(made.error());
      provider = std::move(*made);
    }
    // And its own connection to the state store, for the same reason.
    auto store = StateStore::open(*path);
    if (!store) return fail(store.error());
    InstanceRequest request;
    request.run_id = run_.id;
    request.ranked_offers = offers_for_instance(ranked_, i);
    request.launch = launch;
    request.policy.deadlines = settings_.deadlines;
    request.policy.keep = options_.keep;
    request.poll_interval = settings_.poll_interval;
    WorkerOptions worker;
    worker.agent_token = token_;
    worker.output_dir = plan_.output_dir;
    worker.poll_interval = settings_.poll_interval;
    worker.long_poll = instances <= fleet_threads(instances);
    workers_.push_back(std::make_unique<InstanceWorker>(i, *shared_, std::move(provider), std::move(*store),
                                                        std::move(request), worker));
  }
  return {};
}

void Run::run_workers() {
  run_.state = RunState::running;
  (void)store_->update_run(run_);
  std::vector<WorkerStep> steps;
  for (auto& worker : workers_) steps.push_back([raw = worker.get()] { return raw->step(); });
  FleetOptions fleet;
  fleet.threads = fleet_threads(workers_.size());
  fleet.tick = [this] {
    // Limits are checked here too, so a run whose threads are all busy
    // transferring still stops in time.
    (void)shared_->stop_reason();
    shared_->render();
  };
  run_fleet(steps, fleet, [this](const char* what) { shared_->say(std::string("internal error: ") + what); });
}

ExitCode Run::finish() {
  std::vector<InstanceReport> reports;
  for (const auto& worker : workers_) {
    const InstanceDriver& driver = worker->driver();
    InstanceReport report;
    report.provider = worker->provider_name();
    report.instance_id = driver.instance_id();
    report.endpoint = driver.endpoint();
    report.price_per_hour = driver.offer() ? driver.offer()->price_per_hour : 0;
    report.outcome = driver.lifecycle().outcome();
    report.error = driver.lifecycle().error();
    report.came_up = worker->came_up();
    report.lost = worker->lost();
    reports.push_back(std::move(report));
  }
  std::string why_not_run = "no instance was left to run it; run the manifest again";
  for (const auto& report : reports) {
    if (report.lost) why_not_run = "not run: " + report.lost->message + "; run the manifest again to redo it";
    else if (!report.came_up && report.error) why_not_run = "not run: " + report.error->message;
  }
  const auto& jobs = shared_->finish_jobs(why_not_run);
  const auto stop = shared_->decided_stop();
  RunVerdict verdict = judge_run(reports, jobs, stop);
  display_->finish();

  run_.state = verdict.state;
  run_.message = verdict.message;
  run_.finished_at = now_unix();
  run_.jobs_done = static_cast<int>(std::count_if(jobs.begin(), jobs.end(), [](const TrackedJob& job) {
    return job.record.state == "succeeded" || job.record.state == "failed" || job.record.state == "canceled";
  }));
  run_.jobs_failed = static_cast<int>(std::count_if(jobs.begin(), jobs.end(), [](const TrackedJob& job) {
    return job.record.state == "failed" || job.record.state == "canceled";
  }));
  if (auto saved = store_->update_run(run_); !saved)
    std::fprintf(err_, "warning: %s\n", saved.error().describe().c_str());

  if (verdict.error && verdict.error->code != ErrorCode::cancelled && verdict.code != ExitCode::teardown_failed)
    std::fprintf(err_, "error: %s\n", verdict.error->describe().c_str());
  for (const auto& report : reports) {
    if (report.outcome != Outcome::kept) continue;
    std::fprintf(err_, "Kept the agent running at %s (%s); it stops by itself after %s idle, or run `ferry down %s`\n",
                 report.endpoint.c_str(), report.instance_id.c_str(),
                 config::format_duration(manifest_.idle_timeout.value_or(kDefaultAgentIdleTimeout)).c_str(),
                 run_.id.c_str());
  }
  for (const auto& line : teardown_failure_lines(reports, run_.id)) std::fprintf(err_, "%s\n", line.c_str());

  const double cost = shared_->spent();
  if (options_.json) {
    std::fprintf(out_, "%s\n",
                 run_summary_json(run_, plan_.output_dir.string(), verdict.code, jobs, reports, cost, options_.keep)
                     .dump(2)
                     .c_str());
  } else {
    for (const auto& job : jobs)
      for (const auto& path : job.outputs) std::fprintf(out_, "%s\n", path.c_str());
  }
  std::fflush(out_);
  auto succeeded = std::count_if(jobs.begin(), jobs.end(),
                                 [](const TrackedJob& job) { return job.record.state == "succeeded"; });
  std::string closing =
      fmt::format("Run {} {}: {} of {} jobs succeeded", run_.id, to_string(run_.state), succeeded, jobs.size());
  if (manifest_.provider != "local") closing += fmt::format(", about ${:.4f} spent", cost);
  if (succeeded > 0) closing += "; results in " + plan_.output_dir.string();
  std::fprintf(err_, "%s\n", closing.c_str());
  return verdict.code;
}

ExitCode Run::execute() {
  if (auto early = load_and_plan()) return *early;
  if (auto early = choose_machines()) return *early;
  if (options_.dry_run) return print_dry_run();
  std::fprintf(err_, "%s%s", describe_plan(plan_).c_str(),
               manifest_.provider == "local" ? "" : describe_machines(machines_, manifest_).c_str());
  std::fflush(err_);
  if (auto refused = confirm_spending()) return *refused;
  if (auto opened = open_record(); !opened) {
    std::fprintf(err_, "error: %s\n", opened.error().describe().c_str());
    return ExitCode::job_failed;
  }
  if (auto prepared = prepare_workers(); !prepared) {
    std::fprintf(err_, "error: %s\n", prepared.error().describe().c_str());
    run_.state = RunState::failed;
    run_.message = prepared.error().describe();
    run_.finished_at = now_unix();
    (void)store_->update_run(run_);
    return exit_code_for(prepared.error().code);
  }
  if (machines_.first_offers.size() < static_cast<std::size_t>(manifest_.instances))
    shared_->say(fmt::format("Starting {} instance(s), not {}: there are only {} job(s)",
                             machines_.first_offers.size(), manifest_.instances, plan_.jobs.size()));
  run_workers();
  return finish();
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
