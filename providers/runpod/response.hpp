#pragma once
// RunPod answers parsed into typed values. Pure. REST v2 errors are RFC 9457
// problem details; GraphQL errors arrive with HTTP 200 in an "errors" list.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/http_client.hpp"
#include "config/manifest.hpp"
#include "providers/provider.hpp"
#include "providers/runpod/request.hpp"

namespace ferry::providers::runpod {

inline constexpr const char* kDefaultProxyTemplate = "https://{pod_id}-{port}.proxy.runpod.net";
/// RunPod's proxy ends any request at 100 s (Cloudflare 524).
inline constexpr int kProxyRequestLimitSeconds = 100;

/// Offers from the v2 catalog that fit `resources` (memory in GB, names,
/// count within the type's maxCount, stock not NONE); the price is the
/// per-GPU list price times the count.
Result<std::vector<Offer>> parse_catalog(const HttpResponse& response, const config::Resources& resources,
                                         const RunpodSettings& settings);
/// Spot offers from GraphQL `gpuTypes`: the price is `minimumBidPrice` per
/// GPU times the count; types without a bid floor or out of stock are dropped.
Result<std::vector<Offer>> parse_spot_prices(const HttpResponse& response, const config::Resources& resources,
                                             const RunpodSettings& settings);

/// The `data.<field>` of a GraphQL answer, or the error its `errors` carry
/// (with HTTP 200). `step` names the call for messages.
Result<nlohmann::json> graphql_data(const HttpResponse& response, const std::string& step, const std::string& field);

/// `POST /v2/pods` → the pod id. 400 (no capacity; RunPod gives no code) and
/// 403 (no access to this pool) are offer-unavailable errors.
Result<std::string> parse_create_pod(const HttpResponse& response, const std::string& gpu_id);
/// `podRentInterruptable` → the pod id; "no longer any instances" and "not
/// enough free GPUs" are offer-unavailable errors.
Result<std::string> parse_spot_create(const HttpResponse& response, const std::string& gpu_id);

struct EndpointSettings {
  int agent_port = 8185;
  bool expose_tcp = false;
  std::string proxy_template = kDefaultProxyTemplate;
};
/// The agent's address, trusted only while the pod is RUNNING (an EXITED pod
/// may keep stale ports): the proxy URL for HTTP, or "http://ip:public" from
/// the `runtime.ports` entry for the agent's port (type tcp, ip and public
/// port set) for TCP.
std::optional<std::string> resolve_endpoint(const nlohmann::json& pod, const EndpointSettings& settings);
InstanceState state_from_status(const std::string& status);
/// One v2 Pod object.
Result<InstanceInfo> parse_pod_object(const nlohmann::json& pod, const EndpointSettings& settings);
/// `GET /v2/pods/{id}`: 404 is gone.
Result<InstanceInfo> parse_get_pod(const HttpResponse& response, const std::string& pod_id,
                                   const EndpointSettings& settings);
/// `DELETE /v2/pods/{id}`: 204/200 and 404 are success.
Status parse_terminate(const HttpResponse& response, const std::string& pod_id);
/// `GET /v2/pods` → `{"pods": [...]}`.
Result<std::vector<InstanceInfo>> parse_pod_list(const HttpResponse& response, const EndpointSettings& settings);

}  // namespace ferry::providers::runpod
