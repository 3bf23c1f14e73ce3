// The emulator's own API under /_fake: the ledger, faults, the catalogue,
// and killing an instance's agent.

#include "tests/fakecloud/handlers.hpp"

namespace ferry::fakecloud {
namespace {

using nlohmann::json;

json faults_json(const Faults& faults) {
  return {{"vanish_offers", faults.vanish_offers},
          {"stuck_loading", faults.stuck_loading},
          {"exit_instances", faults.exit_instances},
          {"offline_instances", faults.offline_instances},
          {"create_error_with_contract", faults.create_error_with_contract},
          {"rate_limit", faults.rate_limit},
          {"retry_after_seconds", faults.retry_after_seconds},
          {"server_errors", faults.server_errors},
          {"destroy_failures", faults.destroy_failures},
          {"ports_late_ms", faults.ports_late_ms},
          {"slow_ms", faults.slow_ms},
          {"boot_ms", faults.boot_ms}};
}

Response set_faults(World& world, const Request& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return json_response(400, {{"error", "send a JSON object of fault counters"}});
  json current = faults_json(world.faults);
  for (const auto& [key, value] : body.items()) {
    if (!current.contains(key)) return json_response(400, {{"error", "unknown fault '" + key + "'"}, {"known", current}});
    if (!value.is_number_integer() || value.get<int>() < 0)
      return json_response(400, {{"error", "fault '" + key + "' must be a non-negative whole number"}});
    current[key] = value;
  }
  Faults& faults = world.faults;
  faults.vanish_offers = current["vanish_offers"];
  faults.stuck_loading = current["stuck_loading"];
  faults.exit_instances = current["exit_instances"];
  faults.offline_instances = current["offline_instances"];
  faults.create_error_with_contract = current["create_error_with_contract"];
  faults.rate_limit = current["rate_limit"];
  faults.retry_after_seconds = current["retry_after_seconds"];
  faults.server_errors = current["server_errors"];
  faults.destroy_failures = current["destroy_failures"];
  faults.ports_late_ms = current["ports_late_ms"];
  faults.slow_ms = current["slow_ms"];
  faults.boot_ms = current["boot_ms"];
  return json_response(200, current);
}

}  // namespace

std::optional<Response> handle_control(World& world, const Request& request) {
  if (request.path.rfind("/_fake/", 0) != 0) return std::nullopt;
  auto segments = split_path(request.path);
  if (segments.size() == 2 && segments[1] == "ledger") return json_response(200, world.ledger());
  if (segments.size() == 2 && segments[1] == "faults") {
    if (request.method == "POST" || request.method == "PUT") return set_faults(world, request);
    return json_response(200, faults_json(world.faults));
  }
  if (segments.size() == 2 && segments[1] == "offers") {
    if (request.method == "PUT" || request.method == "POST") {
      json body = json::parse(request.body, nullptr, false);
      if (!body.is_object()) return json_response(400, {{"error", "send {\"vast\": [...], \"runpod\": [...]}"}});
      if (body.contains("vast") && body["vast"].is_array()) world.vast_offers = body["vast"];
      if (body.contains("runpod") && body["runpod"].is_array()) world.runpod_gpus = body["runpod"];
    }
    return json_response(200, {{"vast", world.vast_offers}, {"runpod", world.runpod_gpus}});
  }
  if (segments.size() >= 3 && segments[1] == "instances") {
    auto found = world.instances.find(segments[2]);
    if (found == world.instances.end()) return json_response(404, {{"error", "no instance " + segments[2]}});
    Instance& instance = found->second;
    if (segments.size() == 4 && segments[3] == "kill" && request.method == "POST") {
      if (instance.agent) instance.agent->kill();
      instance.killed = true;
      return json_response(200, {{"killed", instance.id}});
    }
    Phase phase = world.phase(instance);
    return json_response(200, {{"id", instance.id},
                               {"phase", static_cast<int>(phase.name)},
                               {"agent_port", phase.port ? json(*phase.port) : json(nullptr)}});
  }
  return json_response(404, {{"error", "no such control endpoint: " + request.path}});
}

}  // namespace ferry::fakecloud
