#include "providers/runpod/runpod_provider.hpp"

#include "providers/ranking.hpp"
#include "providers/runpod/response.hpp"

namespace ferry::providers::runpod {
namespace {
constexpr const char* kCredential = "RUNPOD_API_KEY";
constexpr const char* kKeyHint =
    "create one at https://www.runpod.io/console/user/settings (API Keys) and export RUNPOD_API_KEY";
}  // namespace

RunpodProvider::RunpodProvider(RunpodOptions options) : options_(std::move(options)) {
  if (options_.api_url.empty()) options_.api_url = env_value("FERRY_RUNPOD_API_URL").value_or(kDefaultApiUrl);
  if (options_.graphql_url.empty())
    options_.graphql_url = env_value("FERRY_RUNPOD_GRAPHQL_URL").value_or(kDefaultGraphqlUrl);
  if (options_.proxy_template.empty())
    options_.proxy_template = env_value("FERRY_RUNPOD_PROXY_URL").value_or(kDefaultProxyTemplate);
  std::optional<std::string> key = options_.api_key ? options_.api_key : env_value(kCredential);
  transport_ = std::make_unique<ApiTransport>("runpod", options_.api_url, key, options_.transport);
}

Status RunpodProvider::require_key() {
  if (transport_->has_credentials()) return {};
  return fail(ErrorCode::unauthenticated, std::string("runpod: ") + kCredential + " is not set; " + kKeyHint,
              kCredential);
}

Result<std::vector<Offer>> RunpodProvider::search(const config::Resources& request) {
  if (auto keyed = require_key(); !keyed) return fail(keyed.error());
  Result<std::vector<Offer>> offers;
  if (request.spot) {
    auto response = transport_->send_to(options_.graphql_url, spot_prices_request(request, options_.settings),
                                        "read spot prices");
    if (!response) return fail(response.error());
    offers = parse_spot_prices(*response, request, options_.settings);
  } else {
    auto response = transport_->send(catalog_request(request, options_.settings), "read the GPU catalog");
    if (!response) return fail(response.error());
    offers = parse_catalog(*response, request, options_.settings);
  }
  if (!offers) return fail(offers.error());
  return rank_offers(std::move(*offers), request.max_price_per_hour);
}

Result<std::string> RunpodProvider::create(const Offer& offer, const LaunchSpec& launch) {
  if (auto keyed = require_key(); !keyed) return fail(keyed.error());
  agent_port_ = launch.agent_port;
  if (offer.spot) {
    auto request = spot_create_request(offer, launch, options_.settings);
    if (!request) return fail(request.error());
    auto response = transport_->send_to(options_.graphql_url, *request, "rent a spot pod on " + offer.id);
    if (!response) return fail(response.error());
    return parse_spot_create(*response, offer.id);
  }
  auto request = create_pod_request(offer, launch, options_.settings);
  if (!request) return fail(request.error());
  auto response = transport_->send(*request, "create a pod on " + offer.id);
  if (!response) return fail(response.error());
  return parse_create_pod(*response, offer.id);
}

Result<InstanceInfo> RunpodProvider::get(const std::string& id) {
  if (auto keyed = require_key(); !keyed) return fail(keyed.error());
  auto request = get_pod_request(id);
  if (!request) return fail(request.error());
  auto response = transport_->send(*request, "get pod " + id);
  if (!response) return fail(response.error());
  EndpointSettings endpoint{agent_port_, options_.settings.expose_tcp, options_.proxy_template};
  return parse_get_pod(*response, id, endpoint);
}

Status RunpodProvider::destroy(const std::string& id) {
  if (auto keyed = require_key(); !keyed) return keyed;
  auto request = terminate_request(id);
  if (!request) return fail(request.error());
  auto response = transport_->send(*request, "terminate pod " + id);
  if (!response) return fail(response.error());
  return parse_terminate(*response, id);
}

Result<std::vector<InstanceInfo>> RunpodProvider::list(const std::string& label_prefix) {
  if (auto keyed = require_key(); !keyed) return fail(keyed.error());
  auto response = transport_->send(list_pods_request(), "list pods");
  if (!response) return fail(response.error());
  EndpointSettings endpoint{agent_port_, options_.settings.expose_tcp, options_.proxy_template};
  auto pods = parse_pod_list(*response, endpoint);
  if (!pods) return fail(pods.error());
  std::vector<InstanceInfo> owned;
  for (auto& pod : *pods)
    if (pod.label.rfind(label_prefix, 0) == 0 && pod.state != InstanceState::gone) owned.push_back(std::move(pod));
  return owned;
}

}  // namespace ferry::providers::runpod
