#include "agent/http/api.hpp"

#include <unistd.h>

#include <fstream>

#include "agent/http/lifetime.hpp"
#include "config/job_spec.hpp"

namespace ferry::agent::http {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t total_pages = 0, resident_pages = 0;
  if (!(statm >> total_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Steady-clock instants are shown as wall-clock times for people and the
// controller; the two clocks are read together so the offset is exact enough.
nlohmann::json wall_time(std::optional<SteadyClock::time_point> instant) {
  if (!instant) return nullptr;
  auto wall = jobs::Clock::now() + std::chrono::duration_cast<jobs::Clock::duration>(*instant - SteadyClock::now());
  return jobs::format_rfc3339(wall);
}

nlohmann::json status_json(const ServerContext& context) {
  const auto& info = context.info;
  const auto counts = context.jobs.counts();
  const bool busy = context.jobs.busy();
  const LifetimeLimits limits{info.idle_timeout, info.deadline};
  auto seconds = [](auto duration) { return std::chrono::duration<double>(duration).count(); };
  std::optional<SteadyClock::time_point> deadline;
  if (info.deadline) deadline = info.started + *info.deadline;
  return {
      {"status", std::string(health_state(context))},
      {"version", info.version},
      {"device",
       {{"device", info.compute.device},
        {"name", info.compute.device_name},
        {"cpu_threads", info.compute.cpu_threads},
        {"torch_available", info.compute.torch_available},
        {"torch_version", info.compute.torch_version}}},
      {"memory", {{"rss_bytes", resident_bytes()}}},
      {"models_loaded", nlohmann::json::array()},
      {"queue", {{"length", context.jobs.queue_length()}}},
      {"jobs",
       {{"queued", counts.queued},
        {"running", counts.running},
        {"succeeded", counts.succeeded},
        {"failed", counts.failed},
        {"canceled", counts.canceled}}},
      {"idle_timeout_s", info.idle_timeout ? nlohmann::json(seconds(*info.idle_timeout)) : nlohmann::json(nullptr)},
      {"idle_deadline", wall_time(idle_deadline(limits, context.last_activity(), busy))},
      {"deadline", wall_time(deadline)},
      {"uptime_s", seconds(SteadyClock::now() - info.started)},
  };
}

}  // namespace

std::string_view health_state(const ServerContext& context) {
  switch (context.phase.load()) {
    case AgentPhase::starting: return "STARTING";
    case AgentPhase::setup_failed: return "SETUP_FAILED";
    case AgentPhase::ready: break;
  }
  return context.jobs.busy() ? "BUSY" : "READY";
}

nlohmann::json job_json(const jobs::JobView& view) { return jobs::job_to_json(view.job, view.queue_position); }

StringResponse answer_simple(ServerContext& context, const Route& route, unsigned version, bool keep_alive) {
  auto error = [&](const Error& e) { return error_response(e, version, keep_alive); };
  auto& jobs = context.jobs;
  switch (route.endpoint) {
    case Endpoint::healthz:
      return json_response(200, {{"status", "ok"}}, version, keep_alive);
    case Endpoint::health: {
      const auto state = health_state(context);
      const bool serving = state == "READY" || state == "BUSY";
      return json_response(serving ? 200 : 503, {{"status", std::string(state)}, {"version", context.info.version}},
                           version, keep_alive);
    }
    case Endpoint::status:
      return json_response(200, status_json(context), version, keep_alive);
    case Endpoint::list_jobs: {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& view : jobs.list()) list.push_back(job_json(view));
      return json_response(200, {{"jobs", list}}, version, keep_alive);
    }
    case Endpoint::get_job: {
      auto view = jobs.get(route.job_id);
      return view ? json_response(200, job_json(*view), version, keep_alive) : error(view.error());
    }
    case Endpoint::cancel_job: {
      auto view = jobs.cancel(route.job_id);
      return view ? json_response(200, job_json(*view), version, keep_alive) : error(view.error());
    }
    case Endpoint::delete_job: {
      auto removed = jobs.remove(route.job_id);
      return removed ? json_response(200, {{"id", route.job_id}, {"deleted", true}}, version, keep_alive)
                     : error(removed.error());
    }
    default:
      return error(Error{ErrorCode::internal, "this endpoint is not answered here", {}});
  }
}

StringResponse answer_submit(ServerContext& context, const Route& route, std::string_view body, unsigned version,
                             bool keep_alive) {
  auto error = [&](const Error& e) { return error_response(e, version, keep_alive); };
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return error(Error{ErrorCode::invalid_argument,
                       "the request body is not valid JSON; send a job spec like "
                       "{\"kind\": \"convert\", \"inputs\": [...], \"params\": {...}}",
                       "body"});
  auto spec = config::job_spec_from_json(json);
  if (!spec) return error(spec.error());
  std::optional<std::string> id;
  if (route.endpoint == Endpoint::put_job) id = route.job_id;
  auto submitted = context.jobs.submit(*spec, id);
  if (!submitted) return error(submitted.error());
  return json_response(submitted->created ? 202 : 200, job_json(submitted->view), version, keep_alive);
}

}  // namespace ferry::agent::http
