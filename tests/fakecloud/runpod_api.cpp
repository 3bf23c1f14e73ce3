// RunPod as the provider notes document it: REST v2 pods and catalog with
// RFC 9457 problem details and Retry-After, and a GraphQL endpoint that
// answers errors with HTTP 200.

#include <algorithm>

#include "tests/fakecloud/handlers.hpp"

namespace ferry::fakecloud {
namespace {

using nlohmann::json;

Response problem(int status, const std::string& title, const std::string& detail) {
  Response response = json_response(status, {{"title", title}, {"status", status}, {"detail", detail}});
  response.content_type = "application/problem+json";
  return response;
}

Response graphql_error(const std::string& message, const std::string& code = {}) {
  json error = {{"message", message}};
  if (!code.empty()) error["extensions"] = {{"code", code}};
  return json_response(200, {{"errors", json::array({error})}, {"data", nullptr}});
}

json* find_gpu(World& world, const std::string& id) {
  for (auto& gpu : world.runpod_gpus)
    if (gpu.value("id", "") == id) return &gpu;
  return nullptr;
}

json pod_json(World& world, Instance& instance, const json& gpu) {
  Phase phase = world.phase(instance);
  static const char* kStatus[] = {"PROVISIONING", "STARTING", "RUNNING", "EXITED", "ERROR", "EXITED", "TERMINATED"};
  std::string status = kStatus[phase.name];
  json pod = {{"id", instance.id},
              {"name", instance.label},
              {"status", status},
              {"gpu", gpu},
              {"cost", status == "RUNNING" || status == "STARTING" || status == "PROVISIONING" ? instance.price_per_hour : 0.0},
              {"ports", json::array({std::to_string(instance.internal_port) + (instance.http_port ? "/http" : "/tcp")})},
              {"runtime", nullptr}};
  pod["actions"] = status == "RUNNING" ? json::array({"stop", "restart", "terminate"})
                                       : json::array({"stop", "terminate"});
  if (phase.name == Phase::running) {
    json port = {{"private", instance.internal_port}, {"type", instance.http_port ? "http" : "tcp"}};
    if (phase.port && !instance.http_port) {
      port["public"] = *phase.port;
      port["ip"] = "127.0.0.1";
    } else {
      port["public"] = nullptr;
      port["ip"] = nullptr;
    }
    pod["runtime"] = {{"uptime", 1}, {"ports", json::array({port})}};
  }
  return pod;
}

json gpu_of(const Instance& instance) { return {{"id", instance.offer}, {"count", 1}}; }

int port_from_spec(const std::string& spec, bool& http) {
  http = spec.find("/http") != std::string::npos;
  try {
    return std::stoi(spec);
  } catch (const std::exception&) {
    return 0;
  }
}

Response create_pod(World& world, const Request& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return problem(422, "Unprocessable Entity", "the body is not a JSON object");
  if (!body.contains("name") || !body["name"].is_string()) return problem(422, "Unprocessable Entity", "name is required");
  if (!body.contains("image") || !body["image"].is_string() || body["image"].get<std::string>().empty())
    return problem(422, "Unprocessable Entity", "image is required");
  if (body.contains("gpu") == body.contains("cpu"))
    return problem(400, "Bad Request", "exactly one of gpu and cpu must be given");
  const json& gpu = body["gpu"];
  std::string id = gpu.is_object() ? gpu.value("id", "") : "";
  int count = gpu.is_object() ? gpu.value("count", 1) : 1;
  json* type = find_gpu(world, id);
  if (!type) return problem(400, "Bad Request", "unknown GPU type " + id);
  std::string cloud = body.value("cloud", "SECURE");
  if (type->value("availability", "HIGH") == "NONE" || World::take(world.faults.vanish_offers))
    return problem(400, "Bad Request",
                   "There are no longer any instances available with the requested specifications. Please refresh and "
                   "try again.");
  double per_gpu = (*type)["price"].value(cloud == "SECURE" ? "secure" : "community", 0.0);
  std::map<std::string, std::string> env;
  if (body.contains("env") && body["env"].is_object())
    for (const auto& [key, value] : body["env"].items())
      if (value.is_string()) env[key] = value.get<std::string>();
  bool http = false;
  int port = 0;
  if (body.contains("ports") && body["ports"].is_array() && !body["ports"].empty() && body["ports"][0].is_string())
    port = port_from_spec(body["ports"][0].get<std::string>(), http);
  Instance& instance = world.create(Kind::runpod, world.next_id("rp"), id, per_gpu * count, body["name"], env);
  instance.internal_port = port;
  instance.http_port = http;
  return json_response(201, pod_json(world, instance, {{"id", id}, {"count", count}}));
}

Response graphql(World& world, const Request& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("query") || !body["query"].is_string())
    return json_response(400, {{"errors", json::array({{{"message", "POST body must carry a query"}}})}});
  std::string document = body["query"];
  if (document.find("podRentInterruptable") != std::string::npos) {
    auto input = graphql_input(document, "podRentInterruptable");
    if (!input || !input->is_object()) return graphql_error("Syntax Error: cannot parse the input", "GRAPHQL_PARSE_FAILED");
    std::string id = input->value("gpuTypeId", "");
    json* type = find_gpu(world, id);
    if (!type) return graphql_error("Something went wrong. Please try again later or contact support.", "INTERNAL_SERVER_ERROR");
    if (type->value("availability", "HIGH") == "NONE" || World::take(world.faults.vanish_offers))
      return graphql_error(
          "There are no longer any instances available with the requested specifications. Please refresh and try again.");
    std::map<std::string, std::string> env;
    if (input->contains("env") && (*input)["env"].is_array())
      for (const auto& pair : (*input)["env"])
        if (pair.is_object() && pair.contains("key") && pair.contains("value") && pair["value"].is_string())
          env[pair.value("key", "")] = pair["value"].get<std::string>();
    bool http = false;
    int port = port_from_spec(input->value("ports", ""), http);
    int count = input->value("gpuCount", 1);
    double bid = input->value("bidPerGpu", 0.0);
    Instance& instance = world.create(Kind::runpod, world.next_id("rp"), id, bid * count, input->value("name", ""), env);
    instance.internal_port = port;
    instance.http_port = http;
    return json_response(200, {{"data",
                                {{"podRentInterruptable",
                                  {{"id", instance.id}, {"desiredStatus", "RUNNING"}, {"imageName", input->value("imageName", "")},
                                   {"machineId", "m-1"}}}}}});
  }
  if (document.find("gpuTypes") != std::string::npos) {
    json types = json::array();
    for (const auto& gpu : world.runpod_gpus) {
      double community = gpu["price"].value("community", 0.0);
      std::string stock = gpu.value("availability", "HIGH");
      types.push_back({{"id", gpu["id"]},
                       {"displayName", gpu["name"]},
                       {"memoryInGb", gpu["memory"]},
                       {"secureCloud", gpu["secure"]},
                       {"communityCloud", gpu["community"]},
                       {"lowestPrice",
                        {{"minimumBidPrice", stock == "NONE" ? json(nullptr) : json(community * 0.5)},
                         {"uninterruptablePrice", community},
                         {"stockStatus", stock == "NONE" ? "None" : stock == "HIGH" ? "High" : "Medium"}}}});
    }
    return json_response(200, {{"data", {{"gpuTypes", types}}}});
  }
  return graphql_error("Cannot query this field in the emulator", "GRAPHQL_VALIDATION_FAILED");
}

}  // namespace

std::optional<Response> handle_runpod(World& world, const Request& request) {
  const std::string& path = request.path;
  bool is_graphql = path == "/graphql";
  if (path.rfind("/v2/", 0) != 0 && !is_graphql) return std::nullopt;
  auto auth = request.headers.find("authorization");
  if (auth == request.headers.end() || auth->second.rfind("Bearer ", 0) != 0 || auth->second.size() <= 7)
    return problem(401, "Unauthorized", "missing or invalid API key");
  if (World::take(world.faults.rate_limit)) {
    Response limited = problem(429, "Too Many Requests", "rate limit exceeded for window \"minute\"");
    limited.headers.emplace_back("Retry-After", std::to_string(world.faults.retry_after_seconds));
    return limited;
  }
  if (World::take(world.faults.server_errors)) return problem(503, "Service Unavailable", "try again");
  if (is_graphql) return request.method == "POST" ? graphql(world, request) : problem(405, "Method Not Allowed", "POST");

  auto segments = split_path(path);
  if (segments.size() == 3 && segments[1] == "catalog" && segments[2] == "gpus" && request.method == "GET") {
    bool availability = request.query.count("include") && request.query.at("include") == "AVAILABILITY";
    if (availability && !request.query.count("product"))
      return problem(400, "Bad Request", "include=AVAILABILITY requires product");
    json gpus = world.runpod_gpus;
    if (!availability)
      for (auto& gpu : gpus) {
        gpu.erase("availability");
        gpu.erase("dataCenters");
      }
    return json_response(200, {{"gpus", gpus}});
  }
  if (segments.size() == 2 && segments[1] == "pods") {
    if (request.method == "POST") return create_pod(world, request);
    if (request.method == "GET") {
      json pods = json::array();
      for (auto& [id, instance] : world.instances)
        if (instance.kind == Kind::runpod && !instance.destroyed_unix)
          pods.push_back(pod_json(world, instance, gpu_of(instance)));
      return json_response(200, {{"pods", pods}});
    }
  }
  if (segments.size() == 3 && segments[1] == "pods") {
    auto found = world.instances.find(segments[2]);
    bool known = found != world.instances.end() && found->second.kind == Kind::runpod && !found->second.destroyed_unix;
    if (!known) return problem(404, "Not Found", "pod not found");
    if (request.method == "GET") return json_response(200, pod_json(world, found->second, gpu_of(found->second)));
    if (request.method == "DELETE") {
      if (World::take(world.faults.destroy_failures)) return problem(500, "Internal Server Error", "try again");
      world.destroy(found->second);
      Response done;
      done.status = 204;
      done.content_type.clear();
      return done;
    }
  }
  return problem(404, "Not Found", "no such endpoint: " + request.method + " " + path);
}

}  // namespace ferry::fakecloud
