// Vast.ai as the provider notes document it: operator filters, MB units,
// `{"instances": null}` after destroy, a newline after public_ipaddr, string
// HostPorts, plain-text 429s without Retry-After.

#include <algorithm>
#include <cmath>
#include <sstream>

#include "tests/fakecloud/handlers.hpp"

namespace ferry::fakecloud {
namespace {

using nlohmann::json;

bool compare(const json& value, const std::string& op, const json& operand) {
  if (op == "in" || op == "notin") {
    bool found = operand.is_array() && std::find(operand.begin(), operand.end(), value) != operand.end();
    return op == "in" ? found : !found;
  }
  if (op == "eq") return value == operand;
  if (op == "neq") return value != operand;
  if (!value.is_number() || !operand.is_number()) return false;
  double a = value.get<double>(), b = operand.get<double>();
  if (op == "gt") return a > b;
  if (op == "gte") return a >= b;
  if (op == "lt") return a < b;
  if (op == "lte") return a <= b;
  return false;
}

bool row_matches(const json& row, const json& query) {
  static const std::vector<std::string> kControls = {"order", "limit", "type", "allocated_storage",
                                                     "disable_bundling"};
  for (const auto& [field, ops] : query.items()) {
    if (std::find(kControls.begin(), kControls.end(), field) != kControls.end()) continue;
    if (!ops.is_object()) continue;
    // Both names of reliability are accepted, as Vast does.
    std::string key = field == "reliability" && !row.contains("reliability") ? "reliability2" : field;
    if (!row.contains(key)) return false;
    json value = row[key];
    if (key == "geolocation" && value.is_string()) {
      std::string text = value.get<std::string>();
      value = text.size() >= 2 ? text.substr(text.size() - 2) : text;  // filters use the country code
    }
    for (const auto& [op, operand] : ops.items())
      if (!compare(value, op, operand)) return false;
  }
  return true;
}

Response vast_error(int status, const std::string& code, const std::string& message, const json& extra = {}) {
  json body = {{"success", false}, {"error", code}, {"msg", message}};
  if (extra.is_object()) body.update(extra);
  return json_response(status, body);
}

Response search(World& world, const Request& request) {
  json query;
  if (request.method == "GET") {
    auto q = request.query.find("q");
    query = json::parse(q == request.query.end() ? "{}" : q->second, nullptr, false);
  } else {
    query = json::parse(request.body, nullptr, false);
  }
  if (!query.is_object()) return vast_error(400, "invalid_args", "error 400: the query is not a JSON object");
  if (query.contains("type")) {
    const json& type = query["type"];
    if (!(type == "on-demand" || type == "ondemand" || type == "bid" || type == "interruptible" || type == "reserved"))
      return vast_error(400, "invalid_args", "error 400: unknown type " + type.dump());
  }
  json offers = json::array();
  for (const auto& row : world.vast_offers)
    if (row_matches(row, query)) offers.push_back(row);
  if (query.contains("order") && query["order"].is_array() && !query["order"].empty()) {
    const json& first = query["order"][0];
    if (first.is_array() && first.size() == 2 && first[0].is_string()) {
      std::string field = first[0];
      bool descending = first[1] == "desc";
      std::stable_sort(offers.begin(), offers.end(), [&](const json& a, const json& b) {
        double x = a.value(field, 0.0), y = b.value(field, 0.0);
        return descending ? x > y : x < y;
      });
    }
  }
  if (query.contains("limit") && query["limit"].is_number_integer()) {
    auto limit = query["limit"].get<std::size_t>();
    if (offers.size() > limit) offers.erase(offers.begin() + static_cast<long>(limit), offers.end());
  }
  return json_response(200, {{"offers", offers}});
}

// The create body's env as docker-style flags: "-p A:B" keys request ports,
// everything else is a variable for the container.
std::map<std::string, std::string> container_env(const json& env) {
  std::map<std::string, std::string> variables;
  if (!env.is_object()) return variables;
  for (const auto& [key, value] : env.items())
    if (key.rfind("-", 0) != 0 && value.is_string()) variables[key] = value.get<std::string>();
  return variables;
}

std::vector<int> requested_ports(const json& env) {
  std::vector<int> ports;
  if (!env.is_object()) return ports;
  for (const auto& [key, value] : env.items()) {
    if (key.rfind("-p ", 0) != 0) continue;
    auto colon = key.find(':');
    if (colon == std::string::npos) continue;
    try {
      ports.push_back(std::stoi(key.substr(colon + 1)));
    } catch (const std::exception&) {
    }
  }
  return ports;
}

Response create(World& world, const Request& request, const std::string& offer_id) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return vast_error(400, "invalid_args", "error 400/3467: Invalid args: body is not JSON");
  auto row = std::find_if(world.vast_offers.begin(), world.vast_offers.end(),
                          [&](const json& offer) { return offer.value("id", 0) == std::atol(offer_id.c_str()); });
  bool available = row != world.vast_offers.end() && !row->value("rented", false);
  if (available && World::take(world.faults.vanish_offers)) {
    (*row)["rented"] = true;  // someone else rented it between search and create
    available = false;
  }
  if (!available)
    return vast_error(404, "invalid_args",
                      "error 404/3603: no_such_ask Instance type by id " + offer_id + " is not available.",
                      {{"ask_id", std::atol(offer_id.c_str())}});
  std::string image = body.value("image", "");
  if (image.empty() || image.size() > 1024)
    return vast_error(400, "invalid_args", "error 400/3467: Invalid args: image is required (at most 1024 chars)");
  if (!body.contains("disk") || !body["disk"].is_number() || body["disk"].get<double>() < 8)
    return vast_error(400, "invalid_args", "error 400/3467: Invalid args: disk must be at least 8 GB");
  std::string label = body.value("label", "");
  if (label.size() > 256) return vast_error(400, "invalid_args", "error 400/3467: Invalid args: label too long");
  double price = row->value("dph_total", 0.0);
  if (body.contains("price")) {
    if (!body["price"].is_number() || body["price"].get<double>() < 0.001 || body["price"].get<double>() > 128)
      return vast_error(400, "invalid_price", "error 400: price must be between 0.001 and 128");
    price = body["price"].get<double>();
  }
  std::string id = world.next_id("");
  const json env = body.contains("env") ? body["env"] : json::object();
  if (World::take(world.faults.create_error_with_contract)) {
    Instance& instance = world.create(Kind::vast, id, offer_id, price, label, {}, "stopped");
    (void)instance;
    return vast_error(400, "invalid_price", "error 400: bid below the host's minimum; the instance was created stopped",
                      {{"new_contract", std::stol(id)}});
  }
  Instance& instance = world.create(Kind::vast, id, offer_id, price, label, container_env(env));
  auto ports = requested_ports(env);
  instance.internal_port = ports.empty() ? 0 : ports.front();
  (*row)["rented"] = true;  // one instance per offer id
  return json_response(200, {{"success", true}, {"new_contract", std::stol(id)}, {"instance_api_key", "d15a" + id}});
}

json instance_json(World& world, Instance& instance) {
  Phase phase = world.phase(instance);
  static const char* kStatus[] = {nullptr, "loading", "running", "exited", "offline", "stopped", nullptr};
  json body = {{"id", std::stol(instance.id)},
               {"label", instance.label.empty() ? json(nullptr) : json(instance.label)},
               {"intended_status", phase.name == Phase::stopped ? "stopped" : "running"},
               {"dph_total", instance.price_per_hour},
               {"machine_id", 77},
               {"public_ipaddr", "127.0.0.1\n"},  // Vast's addresses may end with a newline
               {"ssh_host", "ssh5.vast.ai"},
               {"ssh_port", 20000}};
  body["actual_status"] = kStatus[phase.name] ? json(kStatus[phase.name]) : json(nullptr);
  body["cur_state"] = phase.name == Phase::stopped ? "stopped" : "running";
  body["next_state"] = body["cur_state"];
  std::string message;
  if (phase.name == Phase::running) message = "success, running " + instance.offer;
  if (phase.name == Phase::exited) message = "Error: container exited";
  body["status_msg"] = message.empty() ? json(nullptr) : json(message);
  if (phase.name == Phase::running && phase.port && instance.internal_port > 0) {
    std::string key = std::to_string(instance.internal_port) + "/tcp";
    body["ports"] = {{key, json::array({{{"HostIp", "0.0.0.0"}, {"HostPort", std::to_string(*phase.port)}}})}};
  }
  return body;
}

Response get(World& world, const std::string& id) {
  auto found = world.instances.find(id);
  if (found == world.instances.end() || found->second.kind != Kind::vast) return json_response(200, {{"instances", nullptr}});
  if (found->second.destroyed_unix) return json_response(200, {{"instances", nullptr}});
  return json_response(200, {{"instances", instance_json(world, found->second)}});
}

Response destroy(World& world, const std::string& id) {
  auto found = world.instances.find(id);
  if (found == world.instances.end() || found->second.kind != Kind::vast)
    return vast_error(404, "not_found", "Instance not found");
  if (found->second.destroyed_unix)
    return json_response(200, {{"success", false}, {"error", "no_such_instance"}, {"msg", "Instance " + id + " not found"}});
  if (World::take(world.faults.destroy_failures))
    return vast_error(500, "server_error", "error 500: internal error, try again");
  world.destroy(found->second);
  return json_response(200, {{"success", true}});
}

Response list(World& world, const Request& request) {
  int limit = 25;
  if (auto found = request.query.find("limit"); found != request.query.end()) limit = std::atoi(found->second.c_str());
  if (limit <= 0) limit = 5;
  limit = std::min(limit, 25);
  long after = 0;
  if (auto found = request.query.find("after_token"); found != request.query.end()) after = std::atol(found->second.c_str());
  json rows = json::array();
  std::optional<long> next;
  for (auto& [id, instance] : world.instances) {
    if (instance.kind != Kind::vast || instance.destroyed_unix) continue;
    long number = std::stol(id);
    if (number <= after) continue;
    if (static_cast<int>(rows.size()) == limit) {
      next = std::stol(rows.back()["id"].dump());
      break;
    }
    rows.push_back(instance_json(world, instance));
  }
  json body = {{"success", true}, {"instances_found", rows.size()}, {"instances", rows}};
  body["next_token"] = next ? json(std::to_string(*next)) : json(nullptr);
  return json_response(200, body);
}

}  // namespace

std::optional<Response> handle_vast(World& world, const Request& request) {
  const std::string& path = request.path;
  bool v0 = path.rfind("/api/v0/", 0) == 0, v1 = path.rfind("/api/v1/", 0) == 0;
  if (!v0 && !v1) return std::nullopt;
  bool is_search = path == "/api/v0/bundles/" || path == "/api/v0/bundles";
  auto auth = request.headers.find("authorization");
  bool authorised = auth != request.headers.end() && auth->second.rfind("Bearer ", 0) == 0 && auth->second.size() > 7;
  if (!is_search && !authorised) return vast_error(401, "auth_error", "Invalid user key");
  if (World::take(world.faults.rate_limit)) return text_response(429, "API requests too frequent: endpoint threshold=4.5");
  if (World::take(world.faults.server_errors)) return text_response(503, "Service Unavailable");

  if (is_search && (request.method == "POST" || request.method == "GET")) return search(world, request);
  auto segments = split_path(path);  // api v0 asks {id}
  if (segments.size() == 4 && segments[2] == "asks" && request.method == "PUT") return create(world, request, segments[3]);
  if (v0 && segments.size() == 4 && segments[2] == "instances") {
    if (request.method == "GET") return get(world, segments[3]);
    if (request.method == "DELETE") return destroy(world, segments[3]);
  }
  if (v1 && segments.size() == 3 && segments[2] == "instances" && request.method == "GET") return list(world, request);
  return vast_error(404, "not_found", "no such endpoint: " + request.method + " " + path);
}

}  // namespace ferry::fakecloud
