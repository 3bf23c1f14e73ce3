#include "providers/runpod/request.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace ferry::providers::runpod {
namespace {

using nlohmann::json;

Status check_pod_id(const std::string& id) {
  bool valid = !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
               });
  if (valid) return {};
  return fail(ErrorCode::invalid_argument, "runpod: '" + id + "' is not a RunPod pod id", "id");
}

int disk_gb(const std::optional<std::uint64_t>& bytes) {
  if (!bytes) return kDefaultDiskGb;
  return std::max(1, static_cast<int>(std::ceil(static_cast<double>(*bytes) / 1e9)));
}

Status check_launch(const LaunchSpec& launch) {
  if (launch.image.empty())
    return fail(ErrorCode::invalid_argument,
                "runpod: the manifest names no image; set `image:` (e.g. ghcr.io/OWNER/ferry-agent:cuda)", "image");
  if (launch.agent_port <= 0 || launch.agent_port > 65535)
    return fail(ErrorCode::invalid_argument,
                "runpod: agent port " + std::to_string(launch.agent_port) + " is out of range");
  return {};
}

Result<std::string> cloud_of(const Offer& offer, const RunpodSettings& settings) {
  std::string cloud = offer.tier.empty() ? settings.cloud : offer.tier;
  if (cloud == "SECURE" || cloud == "COMMUNITY") return cloud;
  return fail(ErrorCode::invalid_argument, "runpod: cloud '" + cloud + "' is neither SECURE nor COMMUNITY", "cloud");
}

std::string port_spec(const LaunchSpec& launch, const RunpodSettings& settings) {
  return std::to_string(launch.agent_port) + (settings.expose_tcp ? "/tcp" : "/http");
}

ApiRequest graphql_request(const std::string& document, bool idempotent) {
  ApiRequest request;
  request.method = "POST";
  request.path = "";
  request.body = to_json_text(json{{"query", document}});
  request.idempotent = idempotent;
  return request;
}

}  // namespace

int requested_gpu_count(const config::Resources& resources) {
  if (!resources.gpu || !resources.gpu->count.min) return 1;
  return std::max(1, static_cast<int>(std::ceil(*resources.gpu->count.min)));
}

ApiRequest catalog_request(const config::Resources& resources, const RunpodSettings& settings) {
  ApiRequest request;
  request.path = "/v2/catalog/gpus";
  request.query = {{"include", "AVAILABILITY"},
                   {"product", "POD"},
                   {"count", std::to_string(requested_gpu_count(resources))},
                   {"cloud", settings.cloud}};
  if (!settings.min_cuda.empty()) request.query.emplace_back("minCudaVersion", settings.min_cuda);
  return request;
}

ApiRequest spot_prices_request(const config::Resources& resources, const RunpodSettings& settings) {
  json input = {{"gpuCount", requested_gpu_count(resources)}, {"secureCloud", settings.cloud == "SECURE"}};
  if (!settings.min_cuda.empty()) input["minCudaVersion"] = settings.min_cuda;
  std::string document =
      "query GpuTypes { gpuTypes { id displayName memoryInGb secureCloud communityCloud "
      "lowestPrice(input: " + graphql_literal(input) + ") { minimumBidPrice uninterruptablePrice stockStatus } } }";
  return graphql_request(document, true);
}

Result<ApiRequest> create_pod_request(const Offer& offer, const LaunchSpec& launch, const RunpodSettings& settings) {
  if (auto valid = check_launch(launch); !valid) return fail(valid.error());
  auto cloud = cloud_of(offer, settings);
  if (!cloud) return fail(cloud.error());
  json gpu = {{"id", offer.id}, {"count", std::max(1, offer.gpu_count)}};
  if (!settings.min_cuda.empty()) gpu["minCudaVersion"] = settings.min_cuda;
  json env = json::object();
  for (const auto& [name, value] : launch.env) env[name] = value;
  json body = {
      {"name", launch.label},
      {"image", launch.image},
      {"disk", disk_gb(launch.disk_bytes)},
      {"env", env},
      {"ports", json::array({port_spec(launch, settings)})},
      {"cloud", *cloud},
      {"gpu", gpu},
  };
  ApiRequest request;
  request.method = "POST";
  request.path = "/v2/pods";
  request.body = to_json_text(body);
  request.idempotent = false;
  return request;
}

Result<ApiRequest> spot_create_request(const Offer& offer, const LaunchSpec& launch, const RunpodSettings& settings) {
  if (auto valid = check_launch(launch); !valid) return fail(valid.error());
  int count = std::max(1, offer.gpu_count);
  json env = json::array();
  for (const auto& [name, value] : launch.env) env.push_back({{"key", name}, {"value", value}});
  auto cloud = cloud_of(offer, settings);
  if (!cloud) return fail(cloud.error());
  json input = {
      {"name", launch.label},
      {"imageName", launch.image},
      {"gpuTypeId", offer.id},
      {"cloudType", *cloud},
      {"gpuCount", count},
      {"bidPerGpu", offer.price_per_hour / count},
      {"containerDiskInGb", disk_gb(launch.disk_bytes)},
      {"volumeInGb", 0},
      {"ports", port_spec(launch, settings)},
      {"env", env},
  };
  if (!settings.min_cuda.empty()) input["minCudaVersion"] = settings.min_cuda;
  std::string document = "mutation { podRentInterruptable(input: " + graphql_literal(input, {"cloudType"}) +
                         ") { id desiredStatus imageName machineId } }";
  return graphql_request(document, false);
}

Result<ApiRequest> get_pod_request(const std::string& pod_id) {
  if (auto valid = check_pod_id(pod_id); !valid) return fail(valid.error());
  ApiRequest request;
  request.path = "/v2/pods/" + pod_id;
  return request;
}

Result<ApiRequest> terminate_request(const std::string& pod_id) {
  if (auto valid = check_pod_id(pod_id); !valid) return fail(valid.error());
  ApiRequest request;
  request.method = "DELETE";
  request.path = "/v2/pods/" + pod_id;
  request.idempotent = true;
  return request;
}

ApiRequest list_pods_request() {
  ApiRequest request;
  request.path = "/v2/pods";
  return request;
}

std::string graphql_literal(const json& value, const std::vector<std::string>& enum_keys) {
  if (value.is_object()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) out += ", ";
      first = false;
      bool is_enum = item.is_string() && std::find(enum_keys.begin(), enum_keys.end(), key) != enum_keys.end();
      out += key + ": " + (is_enum ? item.get<std::string>() : graphql_literal(item, enum_keys));
    }
    return out + "}";
  }
  if (value.is_array()) {
    std::string out = "[";
    for (std::size_t index = 0; index < value.size(); ++index)
      out += (index ? ", " : "") + graphql_literal(value[index], enum_keys);
    return out + "]";
  }
  return to_json_text(value);  // strings, numbers, booleans and null share JSON's spelling
}

}  // namespace ferry::providers::runpod
