#pragma once
// RunPod: on-demand pods through REST v2, spot pods through GraphQL (v2
// cannot bid). The agent is reached through RunPod's HTTPS proxy, or with
// `expose_tcp` through the pod's public IP and mapped port.

#include <memory>
#include <optional>
#include <string>

#include "providers/api.hpp"
#include "providers/provider.hpp"
#include "providers/runpod/request.hpp"

namespace ferry::providers::runpod {

inline constexpr const char* kDefaultApiUrl = "https://api.runpod.io";
inline constexpr const char* kDefaultGraphqlUrl = "https://api.runpod.io/graphql";

struct RunpodOptions {
  std::string api_url;      ///< empty: $FERRY_RUNPOD_API_URL, else kDefaultApiUrl
  std::string graphql_url;  ///< empty: $FERRY_RUNPOD_GRAPHQL_URL, else kDefaultGraphqlUrl
  std::string proxy_template;  ///< empty: $FERRY_RUNPOD_PROXY_URL, else the proxy's
  std::optional<std::string> api_key;  ///< empty: $RUNPOD_API_KEY. Never logged.
  RunpodSettings settings;
  TransportOptions transport;
};

class RunpodProvider final : public Provider {
 public:
  explicit RunpodProvider(RunpodOptions options = {});

  std::string name() const override { return "runpod"; }
  /// The v2 catalog (on-demand) or GraphQL bid floors (spot), ranked.
  Result<std::vector<Offer>> search(const config::Resources& request) override;
  /// Exactly the offer's GPU type; no capacity is an offer-unavailable error,
  /// so the caller walks its ordered candidates (create_on_first_available).
  Result<std::string> create(const Offer& offer, const LaunchSpec& launch) override;
  Result<InstanceInfo> get(const std::string& id) override;
  Status destroy(const std::string& id) override;
  Result<std::vector<InstanceInfo>> list(const std::string& label_prefix) override;

 private:
  Status require_key();

  RunpodOptions options_;
  std::unique_ptr<ApiTransport> transport_;
  int agent_port_ = 8185;
};

}  // namespace ferry::providers::runpod
