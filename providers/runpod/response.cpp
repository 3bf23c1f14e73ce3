#include "providers/runpod/response.hpp"

#include <algorithm>
#include <cmath>

#include "providers/api.hpp"
#include "providers/json_fields.hpp"
#include "providers/ranking.hpp"

namespace ferry::providers::runpod {
namespace {

using nlohmann::json;
constexpr const char* kCredential = "RUNPOD_API_KEY";

bool mentions(const std::string& text, std::string_view needle) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find(needle) != std::string::npos;
}

// Memory and name filters shared by both catalogs. `memory_gb` is what
// RunPod reports: whole GB per GPU.
bool fits(const config::Resources& resources, double memory_gb, const std::string& id, const std::string& name) {
  if (!resources.gpu) return true;
  const auto& gpu = *resources.gpu;
  double bytes = memory_gb * 1e9;
  // A catalog "80" means an 80 GB card: a request up to "80GB" must keep it.
  if (gpu.memory_bytes.min && bytes < static_cast<double>(*gpu.memory_bytes.min)) return false;
  if (gpu.memory_bytes.max && bytes > static_cast<double>(*gpu.memory_bytes.max) * 1.0000001) return false;
  return any_gpu_name_matches(gpu.names, name) || any_gpu_name_matches(gpu.names, id);
}

Result<json> rest_body(const HttpResponse& response, const std::string& step, int expected_status) {
  if (response.status != expected_status)
    return fail(http_error("runpod", step, response.status, error_text(response.body), kCredential));
  return parse_json(response.body, "runpod: " + step);
}

}  // namespace

Result<std::vector<Offer>> parse_catalog(const HttpResponse& response, const config::Resources& resources,
                                         const RunpodSettings& settings) {
  const std::string step = "read the GPU catalog";
  auto body = rest_body(response, step, 200);
  if (!body) return fail(body.error());
  JsonFields top(*body, "runpod: " + step);
  const json& gpus = top.array("gpus");
  if (!top.ok()) return fail(top.error());
  int count = requested_gpu_count(resources);
  bool secure = settings.cloud == "SECURE";
  std::vector<Offer> offers;
  for (const auto& entry : gpus) {
    JsonFields gpu(entry, "runpod: GPU type in the catalog");
    std::string id = gpu.text("id");
    std::string name = gpu.optional_text("name").value_or(id);
    double memory_gb = gpu.number("memory");
    bool in_cloud = gpu.optional_bool(secure ? "secure" : "community").value_or(false);
    const json& price = gpu.object("price");
    const json* max_count = gpu.optional_object("maxCount");
    auto availability = gpu.optional_text("availability");
    if (!gpu.ok()) return fail(gpu.error());
    JsonFields prices(price, "runpod: price of " + id);
    auto per_gpu = prices.optional_number(secure ? "secure" : "community");
    if (!prices.ok()) return fail(prices.error());
    if (!in_cloud || !per_gpu || *per_gpu <= 0) continue;
    if (availability && *availability == "NONE") continue;
    if (max_count) {
      JsonFields limits(*max_count, "runpod: maxCount of " + id);
      auto most = limits.optional_integer(secure ? "secure" : "community");
      if (!limits.ok()) return fail(limits.error());
      if (most && *most < count) continue;
    }
    if (!fits(resources, memory_gb, id, name)) continue;
    Offer offer;
    offer.provider = "runpod";
    offer.id = id;
    offer.gpu_name = name;
    offer.gpu_count = count;
    offer.gpu_memory_bytes = static_cast<std::uint64_t>(memory_gb * 1e9);
    offer.price_per_hour = *per_gpu * count;
    offer.tier = settings.cloud;
    // Stock level as a rough reliability of getting the machine at all.
    offer.reliability = !availability ? 0.5 : *availability == "HIGH" ? 1.0 : *availability == "MEDIUM" ? 0.8 : 0.6;
    if (auto centers = entry.find("dataCenters");
        centers != entry.end() && centers->is_array() && !centers->empty() && (*centers)[0].is_object()) {
      auto center = (*centers)[0].find("id");
      if (center != (*centers)[0].end() && center->is_string()) offer.region = center->get<std::string>();
    }
    offers.push_back(std::move(offer));
  }
  return offers;
}

Result<json> graphql_data(const HttpResponse& response, const std::string& step, const std::string& field) {
  if (response.status != 200)
    return fail(http_error("runpod", step, response.status, error_text(response.body), kCredential));
  auto body = parse_json(response.body, "runpod: " + step);
  if (!body) return fail(body.error());
  if (!body->is_object()) return fail(ErrorCode::data_loss, "runpod: " + step + ": expected a JSON object");
  auto errors = body->find("errors");
  if (errors != body->end() && errors->is_array() && !errors->empty()) {
    std::string messages;
    std::string code;
    for (const auto& item : *errors) {
      if (!item.is_object()) continue;
      if (auto message = item.find("message"); message != item.end() && message->is_string())
        messages += (messages.empty() ? "" : "; ") + message->get<std::string>();
      if (auto extensions = item.find("extensions"); extensions != item.end() && extensions->is_object())
        if (auto found = extensions->find("code"); found != extensions->end() && found->is_string()) code = *found;
    }
    if (messages.empty()) messages = excerpt(errors->dump());
    ErrorCode error_code = ErrorCode::unavailable;
    if (code == "UNAUTHENTICATED" || mentions(messages, "unauthorized") || mentions(messages, "api key"))
      error_code = ErrorCode::unauthenticated;
    else if (code == "FORBIDDEN")
      error_code = ErrorCode::permission_denied;
    else if (code == "BAD_USER_INPUT" || code == "GRAPHQL_VALIDATION_FAILED")
      error_code = ErrorCode::invalid_argument;
    std::string message = "runpod: " + step + ": " + messages;
    if (error_code == ErrorCode::unauthenticated) message += std::string("; check ") + kCredential;
    return fail(error_code, message);
  }
  auto data = body->find("data");
  if (data == body->end() || !data->is_object())
    return fail(ErrorCode::data_loss, "runpod: " + step + ": the answer has neither data nor errors (" +
                                          excerpt(response.body) + ")");
  auto value = data->find(field);
  if (value == data->end() || value->is_null())
    return fail(ErrorCode::data_loss, "runpod: " + step + ": data." + field + " is missing or null");
  return *value;
}

Result<std::vector<Offer>> parse_spot_prices(const HttpResponse& response, const config::Resources& resources,
                                             const RunpodSettings& settings) {
  const std::string step = "read spot prices";
  auto types = graphql_data(response, step, "gpuTypes");
  if (!types) return fail(types.error());
  if (!types->is_array()) return fail(ErrorCode::data_loss, "runpod: " + step + ": gpuTypes is not a list");
  int count = requested_gpu_count(resources);
  std::vector<Offer> offers;
  for (const auto& entry : *types) {
    JsonFields gpu(entry, "runpod: GPU type");
    std::string id = gpu.text("id");
    std::string name = gpu.optional_text("displayName").value_or(id);
    double memory_gb = gpu.optional_number("memoryInGb").value_or(0);
    bool in_cloud = gpu.optional_bool(settings.cloud == "SECURE" ? "secureCloud" : "communityCloud").value_or(false);
    const json* lowest = gpu.optional_object("lowestPrice");
    if (!gpu.ok()) return fail(gpu.error());
    if (!in_cloud || !lowest) continue;
    JsonFields price(*lowest, "runpod: lowestPrice of " + id);
    auto bid = price.optional_number("minimumBidPrice");
    auto stock = price.optional_text("stockStatus");
    if (!price.ok()) return fail(price.error());
    if (!bid || *bid <= 0) continue;  // no spot market for this type now
    if (stock && (*stock == "None" || *stock == "NONE")) continue;
    if (!fits(resources, memory_gb, id, name)) continue;
    Offer offer;
    offer.provider = "runpod";
    offer.id = id;
    offer.gpu_name = name;
    offer.gpu_count = count;
    offer.gpu_memory_bytes = static_cast<std::uint64_t>(memory_gb * 1e9);
    offer.price_per_hour = *bid * count;
    offer.spot = true;
    offer.tier = settings.cloud;
    offer.reliability = 0.5;  // interruptible by design
    offers.push_back(std::move(offer));
  }
  return offers;
}

Result<std::string> parse_create_pod(const HttpResponse& response, const std::string& gpu_id) {
  const std::string step = "create a pod on " + gpu_id;
  if (response.status == 400 || response.status == 403) {
    // 400 is how v2 says "no capacity" (no machine-readable code); 403 that
    // this key may not use the pool: both mean try the next GPU type.
    Error error = http_error("runpod", step, response.status, error_text(response.body), kCredential);
    error.field = kOfferUnavailableField;
    if (response.status == 400) error.code = ErrorCode::unavailable;
    return fail(std::move(error));
  }
  auto body = rest_body(response, step, 201);
  if (!body && response.status == 200) body = parse_json(response.body, "runpod: " + step);
  if (!body) return fail(body.error());
  JsonFields pod(*body, "runpod: " + step);
  std::string id = pod.id("id");
  if (!pod.ok()) return fail(pod.error());
  return id;
}

Result<std::string> parse_spot_create(const HttpResponse& response, const std::string& gpu_id) {
  const std::string step = "rent a spot pod on " + gpu_id;
  auto pod = graphql_data(response, step, "podRentInterruptable");
  if (!pod) {
    Error error = pod.error();
    if (mentions(error.message, "no longer any instances available") || mentions(error.message, "not enough free gpus") ||
        mentions(error.message, "bid"))
      error.field = kOfferUnavailableField;
    return fail(std::move(error));
  }
  JsonFields fields(*pod, "runpod: " + step);
  std::string id = fields.id("id");
  if (!fields.ok()) return fail(fields.error());
  return id;
}

InstanceState state_from_status(const std::string& status) {
  if (status == "PROVISIONING" || status == "STARTING" || status == "CREATED" || status == "RESTARTING")
    return InstanceState::starting;
  if (status == "RUNNING") return InstanceState::running;
  if (status == "EXITED" || status == "ERROR" || status == "DEAD" || status == "PAUSED") return InstanceState::exited;
  if (status == "TERMINATED") return InstanceState::gone;
  return InstanceState::unknown;
}

std::optional<std::string> resolve_endpoint(const json& pod, const EndpointSettings& settings) {
  if (!pod.is_object()) return std::nullopt;
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_string() || *status != "RUNNING") return std::nullopt;
  if (!settings.expose_tcp) {
    auto id = pod.find("id");
    if (id == pod.end() || !id->is_string()) return std::nullopt;
    return fill_template(settings.proxy_template,
                         {{"pod_id", id->get<std::string>()}, {"port", std::to_string(settings.agent_port)}});
  }
  auto runtime = pod.find("runtime");
  if (runtime == pod.end() || !runtime->is_object()) return std::nullopt;
  auto ports = runtime->find("ports");
  if (ports == runtime->end() || !ports->is_array()) return std::nullopt;
  for (const auto& entry : *ports) {
    if (!entry.is_object()) continue;
    auto value_of = [&](const char* key) -> const json* {
      auto found = entry.find(key);
      return found == entry.end() || found->is_null() ? nullptr : &*found;
    };
    const json* internal = value_of("private");
    const json* external = value_of("public");
    const json* ip = value_of("ip");
    const json* type = value_of("type");
    if (!internal || !internal->is_number_integer() || internal->get<int>() != settings.agent_port) continue;
    if (type && type->is_string() && *type != "tcp") continue;
    if (!external || !external->is_number_integer() || !ip || !ip->is_string()) continue;
    int port = external->get<int>();
    std::string address = ip->get<std::string>();
    if (port <= 0 || port > 65535 || address.empty()) continue;
    return "http://" + address + ":" + std::to_string(port);
  }
  return std::nullopt;
}

Result<InstanceInfo> parse_pod_object(const json& pod, const EndpointSettings& settings) {
  JsonFields fields(pod, "runpod: pod");
  InstanceInfo info;
  info.id = fields.id("id");
  std::string status = fields.text("status");
  info.label = fields.optional_text("name").value_or("");
  info.price_per_hour = fields.optional_number("cost");
  fields.optional_object("runtime");
  if (!fields.ok()) return fail(fields.error());
  info.state = state_from_status(status);
  info.detail = status;
  info.endpoint = resolve_endpoint(pod, settings);
  if (info.endpoint && !settings.expose_tcp)
    info.request_time_limit = std::chrono::seconds(kProxyRequestLimitSeconds);
  return info;
}

Result<InstanceInfo> parse_get_pod(const HttpResponse& response, const std::string& pod_id,
                                   const EndpointSettings& settings) {
  if (response.status == 404) {
    InstanceInfo gone;
    gone.id = pod_id;
    gone.state = InstanceState::gone;
    return gone;
  }
  auto body = rest_body(response, "get pod " + pod_id, 200);
  if (!body) return fail(body.error());
  auto info = parse_pod_object(*body, settings);
  if (!info) return fail(ErrorCode::data_loss, "runpod: get pod " + pod_id + ": " + info.error().message);
  return info;
}

Status parse_terminate(const HttpResponse& response, const std::string& pod_id) {
  if (response.status == 204 || response.status == 200 || response.status == 404) return {};
  return fail(http_error("runpod", "terminate pod " + pod_id, response.status, error_text(response.body), kCredential));
}

Result<std::vector<InstanceInfo>> parse_pod_list(const HttpResponse& response, const EndpointSettings& settings) {
  auto body = rest_body(response, "list pods", 200);
  if (!body) return fail(body.error());
  JsonFields top(*body, "runpod: list pods");
  const json& pods = top.array("pods");
  if (!top.ok()) return fail(top.error());
  std::vector<InstanceInfo> instances;
  for (const auto& pod : pods) {
    auto info = parse_pod_object(pod, settings);
    if (!info) return fail(info.error());
    instances.push_back(std::move(*info));
  }
  return instances;
}

}  // namespace ferry::providers::runpod
