#include "controller/status.hpp"

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/units.hpp"

namespace ferry::controller {
namespace {

using nlohmann::json;

std::string local_time(UnixSeconds when) {
  std::time_t time = static_cast<std::time_t>(when);
  std::tm local{};
  ::localtime_r(&time, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &local);
  return text;
}

std::string iso_utc(UnixSeconds when) {
  std::time_t time = static_cast<std::time_t>(when);
  std::tm utc{};
  ::gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

json optional_time(const std::optional<UnixSeconds>& when) { return when ? json(iso_utc(*when)) : json(nullptr); }

}  // namespace

std::string format_run_duration(const RunRecord& run, UnixSeconds now) {
  UnixSeconds end = run.finished_at.value_or(now);
  if (run.started_at <= 0 || end < run.started_at) return "-";
  return config::format_duration(std::chrono::seconds(end - run.started_at));
}

double run_cost(const std::vector<InstanceRecord>& instances, UnixSeconds now) {
  double total = 0;
  for (const auto& instance : instances) total += instance_cost(instance, now);
  return total;
}

std::string format_runs_table(const std::vector<RunOverview>& runs, UnixSeconds now) {
  if (runs.empty()) return "No runs yet. Start one with `ferry run MANIFEST`.\n";
  std::string table = fmt::format("{:<22} {:<16} {:<8} {:<16} {:>7} {:>9}  {:<16} {}\n", "ID", "NAME", "PROVIDER",
                                  "STATE", "JOBS", "COST", "STARTED", "DURATION");
  double total = 0;
  for (const auto& [run, instances] : runs) {
    double cost = run_cost(instances, now);
    total += cost;
    table += fmt::format("{:<22} {:<16} {:<8} {:<16} {:>7} {:>9}  {:<16} {}\n", run.id, run.name, run.provider,
                         to_string(run.state), fmt::format("{}/{}", run.jobs_done, run.jobs_total),
                         fmt::format("${:.4f}", cost), local_time(run.started_at), format_run_duration(run, now));
    // Local agents cost nothing; cloud instances are listed one by one.
    if (run.provider == "local") continue;
    for (const auto& instance : instances) {
      if (instance.provider_id.empty()) continue;
      table += fmt::format("  {:<8} {:<28} {:<16} ${:.3f}/h  ${:.4f}\n", instance.provider, instance.provider_id,
                           instance.state, instance.price_per_hour, instance_cost(instance, now));
    }
  }
  table += fmt::format("Total cost so far: ${:.4f}\n", total);
  return table;
}

json run_to_json(const RunRecord& run, const std::vector<JobRecord>& jobs,
                 const std::vector<InstanceRecord>& instances, UnixSeconds now) {
  json job_list = json::array();
  for (const auto& job : jobs) {
    job_list.push_back({{"id", job.id},
                        {"entry", job.entry_index},
                        {"kind", job.kind},
                        {"input", job.input},
                        {"state", job.state},
                        {"error", job.error.empty() ? json(nullptr) : json(job.error)},
                        {"outputs", job.outputs}});
  }
  json instance_list = json::array();
  for (const auto& instance : instances) {
    instance_list.push_back({{"provider", instance.provider},
                             {"id", instance.provider_id},
                             {"state", instance.state},
                             {"endpoint", instance.endpoint},
                             {"price_per_hour", instance.price_per_hour},
                             {"cost", instance_cost(instance, now)},
                             {"created_at", iso_utc(instance.created_at)},
                             {"destroyed_at", optional_time(instance.destroyed_at)}});
  }
  return {{"id", run.id},
          {"name", run.name},
          {"manifest", run.manifest_path},
          {"provider", run.provider},
          {"output", run.output_dir},
          {"state", std::string(to_string(run.state))},
          {"jobs_total", run.jobs_total},
          {"jobs_done", run.jobs_done},
          {"jobs_failed", run.jobs_failed},
          {"cost", run_cost(instances, now)},
          {"started_at", iso_utc(run.started_at)},
          {"finished_at", optional_time(run.finished_at)},
          {"message", run.message.empty() ? json(nullptr) : json(run.message)},
          {"jobs", job_list},
          {"instances", instance_list}};
}

ExitCode show_status(bool as_json, std::FILE* out, std::FILE* err) {
  auto path = StateStore::default_path();
  if (!path) {
    std::fprintf(err, "error: %s\n", path.error().describe().c_str());
    return ExitCode::job_failed;
  }
  std::error_code missing;
  if (!std::filesystem::exists(*path, missing)) {
    // Nothing ran yet: do not create a database just to say so.
    if (as_json)
      std::fprintf(out, "[]\n");
    else
      std::fprintf(out, "%s", format_runs_table({}, now_unix()).c_str());
    return ExitCode::ok;
  }
  auto store = StateStore::open(*path);
  if (!store) {
    std::fprintf(err, "error: %s\n", store.error().describe().c_str());
    return ExitCode::job_failed;
  }
  auto runs = store->list_runs();
  if (!runs) {
    std::fprintf(err, "error: %s\n", runs.error().describe().c_str());
    return ExitCode::job_failed;
  }
  const UnixSeconds now = now_unix();
  std::vector<RunOverview> overviews;
  json list = json::array();
  for (const auto& run : *runs) {
    auto instances = store->list_instances(run.id);
    if (!instances) {
      std::fprintf(err, "error: %s\n", instances.error().describe().c_str());
      return ExitCode::job_failed;
    }
    if (as_json) {
      auto jobs = store->list_jobs(run.id);
      if (!jobs) {
        std::fprintf(err, "error: %s\n", jobs.error().describe().c_str());
        return ExitCode::job_failed;
      }
      list.push_back(run_to_json(run, *jobs, *instances, now));
    }
    overviews.push_back(RunOverview{run, std::move(*instances)});
  }
  if (as_json)
    std::fprintf(out, "%s\n", list.dump(2).c_str());
  else
    std::fprintf(out, "%s", format_runs_table(overviews, now).c_str());
  return ExitCode::ok;
}

}  // namespace ferry::controller
