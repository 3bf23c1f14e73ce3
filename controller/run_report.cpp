#include "controller/run_report.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ferry::controller {
namespace {

using nlohmann::json;

bool job_failed(const TrackedJob& job) { return job.record.state == "failed" || job.record.state == "canceled"; }

}  // namespace

std::string provider_console(const std::string& provider) {
  if (provider == "vast") return "https://cloud.vast.ai/instances/";
  if (provider == "runpod") return "https://www.runpod.io/console/pods";
  if (provider == "fly") return "https://fly.io/dashboard";
  return "";
}

RunVerdict judge_run(const std::vector<InstanceReport>& instances, const std::vector<TrackedJob>& jobs,
                     const std::optional<Error>& stop) {
  RunVerdict verdict;
  const auto failed = std::count_if(jobs.begin(), jobs.end(), job_failed);
  auto may_bill = std::find_if(instances.begin(), instances.end(),
                               [](const InstanceReport& instance) { return instance.outcome == Outcome::teardown_failed; });
  if (may_bill != instances.end()) {
    verdict.code = ExitCode::teardown_failed;
    verdict.state = RunState::teardown_failed;
    verdict.error = may_bill->error.value_or(Error{ErrorCode::unavailable, "teardown failed", {}});
  } else if (stop && stop->code == ErrorCode::cancelled) {
    verdict.code = ExitCode::interrupted;
    verdict.state = RunState::interrupted;
    verdict.error = stop;
  } else if (stop && failed > 0) {
    // A limit reached while the last instance was being torn down stopped nothing.
    verdict.code = ExitCode::limit_exceeded;
    verdict.state = RunState::failed;
    verdict.error = stop;
  } else if (!instances.empty() && std::none_of(instances.begin(), instances.end(),
                                                [](const InstanceReport& instance) { return instance.came_up; })) {
    verdict.error = instances.front().error.value_or(
        Error{ErrorCode::unavailable, instances.front().provider + ": no instance came up", {}});
    verdict.code = exit_code_for(verdict.error->code);
    // A run that never started is not the manifest's fault unless it says so.
    if (verdict.code == ExitCode::ok || (verdict.code == ExitCode::manifest_invalid &&
                                         verdict.error->code != ErrorCode::invalid_argument))
      verdict.code = ExitCode::job_failed;
    verdict.state = RunState::failed;
  } else if (failed > 0) {
    verdict.code = ExitCode::job_failed;
    verdict.state = RunState::failed;
  }
  if (verdict.error) {
    verdict.message = verdict.error->describe();
  } else if (failed > 0) {
    verdict.message = fmt::format("{} of {} jobs failed", failed, jobs.size());
  }
  return verdict;
}

std::vector<std::string> teardown_failure_lines(const std::vector<InstanceReport>& instances,
                                                const std::string& run_id) {
  std::vector<std::string> lines;
  for (const auto& instance : instances) {
    if (instance.outcome != Outcome::teardown_failed) continue;
    std::string console = provider_console(instance.provider);
    std::string why = instance.error ? instance.error->message : "it could not be confirmed gone";
    // The lifecycle's advice is generic; the run id is known here.
    if (auto advice = why.find("; instance "); advice != std::string::npos) why.resize(advice);
    lines.push_back(fmt::format(
        "ERROR: {} instance {} may still be running and billing (${:.3f}/h); the last answer: {}. Stop it with "
        "`ferry down {}`, or remove it in the {} console{}.",
        instance.provider, instance.instance_id.empty() ? "(id unknown)" : instance.instance_id,
        instance.price_per_hour, why, run_id, instance.provider, console.empty() ? "" : " (" + console + ")"));
  }
  return lines;
}

json run_summary_json(const RunRecord& run, const std::string& output_dir, ExitCode code,
                      const std::vector<TrackedJob>& jobs, const std::vector<InstanceReport>& instances, double cost,
                      bool keep) {
  json job_list = json::array();
  for (const auto& job : jobs) {
    json outputs = json::array();
    for (const auto& path : job.outputs) outputs.push_back(path.string());
    job_list.push_back({{"id", job.agent_id},
                        {"input", job.plan->input.shown()},
                        {"kind", job.plan->kind},
                        {"summary", job.plan->summary},
                        {"state", job.record.state},
                        {"error", job.record.error.empty() ? json(nullptr) : json(job.record.error)},
                        {"outputs", outputs},
                        {"result", job.last.result}});
  }
  json instance_list = json::array();
  std::string kept_endpoint;
  for (const auto& instance : instances) {
    instance_list.push_back({{"provider", instance.provider},
                             {"id", instance.instance_id},
                             {"endpoint", instance.endpoint},
                             {"price_per_hour", instance.price_per_hour},
                             {"outcome", std::string(to_string(instance.outcome))},
                             {"error", instance.error ? json(instance.error->message) : json(nullptr)}});
    if (instance.outcome == Outcome::kept && kept_endpoint.empty()) kept_endpoint = instance.endpoint;
  }
  json summary{{"run_id", run.id},
               {"name", run.name},
               {"provider", run.provider},
               {"state", std::string(to_string(run.state))},
               {"output", output_dir},
               {"exit_code", to_int(code)},
               {"message", run.message.empty() ? json(nullptr) : json(run.message)},
               {"cost", cost},
               {"instances", instance_list},
               {"jobs", job_list}};
  if (keep && !kept_endpoint.empty()) summary["endpoint"] = kept_endpoint;
  return summary;
}

}  // namespace ferry::controller
