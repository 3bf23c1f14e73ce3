// Fly Machines as the provider notes document it: apps, IP assignments,
// machines created in state "created" that move to "started", deletes that
// need force while running, {"error", "status"} bodies. GPU machines are
// refused with a capacity error: Fly retired them.

#include "tests/fakecloud/handlers.hpp"

namespace ferry::fakecloud {
namespace {

using nlohmann::json;

Response fly_error(int status, const std::string& message, const std::string& code = {}) {
  json body = {{"error", message}};
  if (!code.empty()) body["status"] = code;
  return json_response(status, body);
}

json machine_json(World& world, Instance& instance) {
  Phase phase = world.phase(instance);
  static const char* kState[] = {"created", "starting", "started", "stopped", "failed", "stopped", "destroyed"};
  return {{"id", instance.id},
          {"name", instance.id},
          {"state", kState[phase.name]},
          {"region", "ord"},
          {"instance_id", "01H" + instance.id},
          {"private_ip", "fdaa:0:1::" + instance.id.substr(instance.id.size() - 3)},
          {"config", {{"metadata", {{"ferry_label", instance.label}}}}}};
}

Instance* machine(World& world, const std::string& app, const std::string& id) {
  auto found = world.instances.find(id);
  if (found == world.instances.end() || found->second.kind != Kind::fly || found->second.app != app) return nullptr;
  return &found->second;
}

Response create_machine(World& world, const Request& request, const std::string& app) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("config") || !body["config"].is_object())
    return fly_error(400, "invalid config: config is required");
  const json& config = body["config"];
  if (!config.contains("image") || !config["image"].is_string()) return fly_error(400, "invalid config: image is required");
  const json guest = config.value("guest", json::object());
  if (guest.contains("gpu_kind") || guest.value("gpus", 0) > 0)
    return fly_error(412, "insufficient resources: GPU machines are no longer available", "insufficient_capacity");
  if (World::take(world.faults.vanish_offers))
    return fly_error(412, "insufficient resources to create new machine", "insufficient_capacity");
  int cpus = guest.value("cpus", 1);
  std::map<std::string, std::string> env;
  if (config.contains("env") && config["env"].is_object())
    for (const auto& [key, value] : config["env"].items())
      if (value.is_string()) env[key] = value.get<std::string>();
  std::string label;
  if (config.contains("metadata") && config["metadata"].is_object()) label = config["metadata"].value("ferry_label", "");
  int port = 0;
  if (config.contains("services") && config["services"].is_array() && !config["services"].empty())
    port = config["services"][0].value("internal_port", 0);
  std::string size = guest.value("cpu_kind", "shared") + "-" + std::to_string(cpus) + "x";
  Instance& instance = world.create(Kind::fly, world.next_id("d8"), size, cpus * 31.0 / 720, label, env);
  instance.app = app;
  instance.internal_port = port;
  world.fly_apps[app].push_back(instance.id);
  return json_response(200, machine_json(world, instance));
}

}  // namespace

std::optional<Response> handle_fly(World& world, const Request& request) {
  const std::string& path = request.path;
  if (path != "/v1/apps" && path.rfind("/v1/apps/", 0) != 0) return std::nullopt;
  auto auth = request.headers.find("authorization");
  if (auth == request.headers.end() || auth->second.size() <= 7) return fly_error(401, "unauthorized");
  if (World::take(world.faults.rate_limit)) return fly_error(429, "rate limit exceeded");
  if (World::take(world.faults.server_errors)) return fly_error(503, "service unavailable");
  auto segments = split_path(path);  // v1 apps {app} machines {id}

  if (segments.size() == 2) {
    if (request.method == "POST") {
      json body = json::parse(request.body, nullptr, false);
      std::string app = body.is_object() ? body.value("app_name", body.value("name", "")) : "";
      if (app.empty()) return fly_error(400, "app_name is required");
      if (world.fly_apps.count(app)) return fly_error(422, "app name is already taken", "name_taken");
      world.fly_apps[app] = {};
      return json_response(201, {{"id", app}, {"created_at", static_cast<long>(unix_now() * 1000)}});
    }
    json apps = json::array();
    for (const auto& [name, machines] : world.fly_apps)
      apps.push_back({{"name", name}, {"id", name}, {"machine_count", machines.size()}});
    return json_response(200, {{"total_apps", apps.size()}, {"apps", apps}});
  }
  const std::string& app = segments[2];
  if (!world.fly_apps.count(app)) return fly_error(404, "app not found");
  if (segments.size() == 3) {
    if (request.method == "DELETE") {
      for (const auto& id : world.fly_apps[app])
        if (auto* found = machine(world, app, id)) world.destroy(*found);
      world.fly_apps.erase(app);
      world.fly_app_ips.erase(app);
      Response accepted = json_response(202, json::object());
      return accepted;
    }
    return json_response(200, {{"id", app}, {"name", app}, {"status", "deployed"}});
  }
  if (segments[3] == "ip_assignments" && request.method == "POST") {
    world.fly_app_ips[app] = true;
    return json_response(200, {{"ip", "127.0.0.1"}, {"region", "global"}, {"shared", true}, {"service_name", ""}});
  }
  if (segments[3] != "machines") return fly_error(404, "not found");
  if (segments.size() == 4) {
    if (request.method == "POST") return create_machine(world, request, app);
    json machines = json::array();
    for (const auto& id : world.fly_apps[app])
      if (auto* found = machine(world, app, id); found && !found->destroyed_unix) machines.push_back(machine_json(world, *found));
    return json_response(200, machines);
  }
  Instance* found = machine(world, app, segments[4]);
  if (!found) return fly_error(404, "machine not found");
  if (request.method == "GET") return json_response(200, machine_json(world, *found));
  if (request.method == "DELETE") {
    if (found->destroyed_unix) return fly_error(404, "machine not found");
    bool forced = (request.query.count("force") && request.query.at("force") == "true") ||
                  (request.query.count("kill") && request.query.at("kill") == "true");
    if (!forced && world.phase(*found).name == Phase::running)
      return fly_error(412, "failed_precondition: machine still active, refusing to delete");
    if (World::take(world.faults.destroy_failures)) return fly_error(500, "internal error");
    world.destroy(*found);
    return json_response(200, {{"ok", true}});
  }
  return fly_error(405, "method not allowed");
}

}  // namespace ferry::fakecloud
