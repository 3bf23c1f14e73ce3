#pragma once
// RunPod API requests, built from typed inputs. Pure: no I/O.
// On-demand pods use REST v2 (https://api.runpod.io/v2); spot pods and spot
// prices use GraphQL (https://api.runpod.io/graphql), which alone can bid.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "config/manifest.hpp"
#include "providers/api.hpp"
#include "providers/json_fields.hpp"
#include "providers/provider.hpp"

namespace ferry::providers::runpod {

struct RunpodSettings {
  std::string cloud = "SECURE";     ///< SECURE or COMMUNITY
  std::string min_cuda = "12.8";    ///< the CUDA image is built on 12.8
  /// false: the agent is reached through RunPod's HTTPS proxy ("8185/http");
  /// true: through the pod's public IP and a mapped port ("8185/tcp").
  bool expose_tcp = false;
};

/// Container disk when neither launch nor manifest sets one (GB).
inline constexpr int kDefaultDiskGb = 40;

/// GPUs per pod asked for: the lower end of `resources.gpu.count` (1 when open).
int requested_gpu_count(const config::Resources& resources);

/// `GET /v2/catalog/gpus?include=AVAILABILITY&product=POD&...`.
ApiRequest catalog_request(const config::Resources& resources, const RunpodSettings& settings);
/// GraphQL `gpuTypes` with `lowestPrice` for the spot bid floor.
ApiRequest spot_prices_request(const config::Resources& resources, const RunpodSettings& settings);

/// `POST /v2/pods` with exactly the offer's GPU type (v2 does no fallback).
Result<ApiRequest> create_pod_request(const Offer& offer, const LaunchSpec& launch, const RunpodSettings& settings);
/// GraphQL `podRentInterruptable` bidding the offer's price per GPU.
Result<ApiRequest> spot_create_request(const Offer& offer, const LaunchSpec& launch, const RunpodSettings& settings);
Result<ApiRequest> get_pod_request(const std::string& pod_id);
Result<ApiRequest> terminate_request(const std::string& pod_id);
ApiRequest list_pods_request();

/// A GraphQL input literal from JSON: object keys unquoted, strings escaped
/// as JSON (valid GraphQL string syntax); strings listed in `enum_keys` are
/// written bare (cloudType: SECURE).
std::string graphql_literal(const nlohmann::json& value, const std::vector<std::string>& enum_keys = {});

}  // namespace ferry::providers::runpod
