#include "providers/vast/request.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace ferry::providers::vast {
namespace {

using nlohmann::json;

bool is_whole_number(const std::string& text) {
  return !text.empty() && text.size() <= 18 &&
         std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

Status check_instance_id(const std::string& id) {
  if (is_whole_number(id)) return {};
  return fail(ErrorCode::invalid_argument, "vast: '" + id + "' is not a Vast instance id (a whole number)", "id");
}

// Vast names GPUs with spaces ("RTX 4090"); manifests may use '_' as the CLI does.
std::string wire_gpu_name(std::string name) {
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

double disk_gb(const std::optional<std::uint64_t>& bytes) {
  double gb = bytes ? static_cast<double>(*bytes) / 1e9 : kDefaultDiskGb;
  return std::max(std::ceil(gb), kMinimumDiskGb);
}

}  // namespace

std::optional<double> gpu_ram_min_mb(const config::Range<std::uint64_t>& memory) {
  if (!memory.min) return std::nullopt;
  return std::floor(static_cast<double>(*memory.min) / 1e6);
}

std::optional<double> gpu_ram_max_mb(const config::Range<std::uint64_t>& memory) {
  if (!memory.max) return std::nullopt;
  return std::ceil(static_cast<double>(*memory.max) / 1e9 * 1024);
}

json search_query(const config::Resources& resources, const SearchOptions& options) {
  json query = json::object();
  query["verified"] = {{"eq", options.verified_only}};
  query["external"] = {{"eq", false}};
  query["rentable"] = {{"eq", true}};
  query["rented"] = {{"eq", false}};
  if (options.min_direct_ports > 0) query["direct_port_count"] = {{"gte", options.min_direct_ports}};
  if (options.min_reliability > 0) query["reliability2"] = {{"gte", options.min_reliability}};
  if (options.min_cuda > 0) query["cuda_max_good"] = {{"gte", options.min_cuda}};
  if (resources.gpu) {
    const auto& gpu = *resources.gpu;
    json ram = json::object();
    if (auto low = gpu_ram_min_mb(gpu.memory_bytes)) ram["gte"] = *low;
    if (auto high = gpu_ram_max_mb(gpu.memory_bytes)) ram["lte"] = *high;
    if (!ram.empty()) query["gpu_ram"] = ram;
    json count = json::object();
    count["gte"] = gpu.count.min ? static_cast<int>(std::ceil(*gpu.count.min)) : 1;
    if (gpu.count.max) count["lte"] = static_cast<int>(std::floor(*gpu.count.max));
    query["num_gpus"] = count;
    if (!gpu.names.empty()) {
      json names = json::array();
      for (const auto& name : gpu.names) names.push_back(wire_gpu_name(name));
      query["gpu_name"] = {{"in", names}};
    }
  }
  if (!options.countries.empty()) query["geolocation"] = {{"in", options.countries}};
  if (resources.max_price_per_hour) query["dph_total"] = {{"lte", *resources.max_price_per_hour}};
  double disk = disk_gb(resources.disk_bytes);
  query["disk_space"] = {{"gte", disk}};
  query["allocated_storage"] = disk;  // prices the offers with this much disk
  query["type"] = resources.spot ? "bid" : "on-demand";
  query["order"] = options.order_by_score ? json::array({json::array({"score", "desc"})})
                                          : json::array({json::array({"dph_total", "asc"})});
  query["limit"] = options.limit;
  return query;
}

ApiRequest search_request(const config::Resources& resources, const SearchOptions& options) {
  ApiRequest request;
  request.method = "POST";
  request.path = "/api/v0/bundles/";
  request.body = to_json_text(search_query(resources, options));
  request.idempotent = true;  // a search changes nothing
  return request;
}

Result<ApiRequest> create_request(const Offer& offer, const LaunchSpec& launch) {
  if (!is_whole_number(offer.id))
    return fail(ErrorCode::invalid_argument, "vast: offer id '" + offer.id + "' is not a whole number", "offer");
  if (launch.image.empty())
    return fail(ErrorCode::invalid_argument,
                "vast: the manifest names no image; set `image:` (e.g. ghcr.io/OWNER/ferry-agent:cuda)", "image");
  if (launch.image.size() > 1024)
    return fail(ErrorCode::invalid_argument, "vast: the image name is longer than Vast's 1024 characters", "image");
  if (launch.label.size() > 256)
    return fail(ErrorCode::invalid_argument, "vast: the label is longer than Vast's 256 characters", "label");
  if (launch.agent_port <= 0 || launch.agent_port > 65535)
    return fail(ErrorCode::invalid_argument, "vast: agent port " + std::to_string(launch.agent_port) + " is out of range");
  json env = json::object();
  for (const auto& [name, value] : launch.env) {
    if (value.size() > 256)
      return fail(ErrorCode::invalid_argument,
                  "vast: environment variable " + name + " is longer than Vast's 256 characters per value", name);
    env[name] = value;
  }
  // Vast reads port requests from env keys shaped like docker's -p flag.
  std::string port = std::to_string(launch.agent_port);
  env["-p " + port + ":" + port] = "1";
  json body = {
      {"client_id", "me"},
      {"image", launch.image},
      {"disk", disk_gb(launch.disk_bytes)},
      {"label", launch.label},
      {"env", env},
      {"runtype", "args"},  // keeps the image's ENTRYPOINT (the agent)
      {"target_state", "running"},
      {"cancel_unavail", true},
  };
  if (offer.spot) body["price"] = offer.price_per_hour;  // its presence makes the instance a bid
  ApiRequest request;
  request.method = "PUT";
  request.path = "/api/v0/asks/" + offer.id + "/";
  request.body = to_json_text(body);
  request.idempotent = false;
  return request;
}

Result<ApiRequest> get_request(const std::string& instance_id) {
  if (auto valid = check_instance_id(instance_id); !valid) return fail(valid.error());
  ApiRequest request;
  request.path = "/api/v0/instances/" + instance_id + "/";
  request.query = {{"owner", "me"}};
  return request;
}

Result<ApiRequest> destroy_request(const std::string& instance_id) {
  if (auto valid = check_instance_id(instance_id); !valid) return fail(valid.error());
  ApiRequest request;
  request.method = "DELETE";
  request.path = "/api/v0/instances/" + instance_id + "/";
  request.body = "{}";
  request.idempotent = true;  // destroying twice is harmless
  return request;
}

ApiRequest list_request(const std::optional<std::string>& after_token) {
  ApiRequest request;
  request.path = "/api/v1/instances/";
  request.query = {{"limit", "25"}};
  if (after_token) request.query.emplace_back("after_token", *after_token);
  return request;
}

}  // namespace ferry::providers::vast
