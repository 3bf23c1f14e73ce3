#include "providers/vast/vast_provider.hpp"

#include "providers/ranking.hpp"
#include "providers/vast/response.hpp"

namespace ferry::providers::vast {
namespace {
constexpr const char* kCredential = "VAST_API_KEY";
constexpr const char* kKeyHint = "create one at https://cloud.vast.ai/account/ and export VAST_API_KEY";
}  // namespace

VastProvider::VastProvider(VastOptions options) : options_(std::move(options)) {
  std::string url = options_.api_url;
  if (url.empty()) url = env_value("FERRY_VAST_API_URL").value_or(kDefaultApiUrl);
  std::optional<std::string> key = options_.api_key ? options_.api_key : env_value(kCredential);
  transport_ = std::make_unique<ApiTransport>("vast", url, key, options_.transport);
}

Status VastProvider::require_key() {
  if (transport_->has_credentials()) return {};
  return fail(ErrorCode::unauthenticated, std::string("vast: ") + kCredential + " is not set; " + kKeyHint, kCredential);
}

Result<std::vector<Offer>> VastProvider::search(const config::Resources& request) {
  // Vast's search answers without a key, so a plan can be shown before one is set.
  auto response = transport_->send(search_request(request, options_.search), "search offers");
  if (!response) return fail(response.error());
  auto parsed = parse_search(*response, request.spot);
  if (!parsed) return fail(parsed.error());
  if (parsed->offers.empty() && !parsed->skipped.empty())
    return fail(ErrorCode::data_loss, "vast: search offers: no row of the answer could be read; the first: " +
                                          parsed->skipped.front());
  std::vector<Offer> matching;
  for (auto& offer : parsed->offers) {
    // Vast's filters are applied server-side; check the ones that decide
    // whether the job can run at all, in case the server ignored one.
    if (request.gpu) {
      if (!any_gpu_name_matches(request.gpu->names, offer.gpu_name)) continue;
      if (auto low = gpu_ram_min_mb(request.gpu->memory_bytes); low && offer.gpu_memory_bytes < *low * 1e6) continue;
    }
    matching.push_back(std::move(offer));
  }
  return rank_offers(std::move(matching), request.max_price_per_hour);
}

Result<std::string> VastProvider::create(const Offer& offer, const LaunchSpec& launch) {
  if (auto keyed = require_key(); !keyed) return fail(keyed.error());
  auto request = create_request(offer, launch);
  if (!request) return fail(request.error());
  agent_port_ = launch.agent_port;
  auto response = transport_->send(*request, "create instance on offer " + offer.id);
  if (!response) return fail(response.error());
  CreateOutcome outcome = parse_create(*response, offer.id);
  if (!outcome.error) return *outcome.instance_id;
  if (outcome.instance_id) {
    // Vast made an instance despite the error (e.g. a bid below the host's
    // minimum leaves it stopped): it bills until destroyed.
    Status destroyed = fail(ErrorCode::unavailable, "not tried");
    for (int attempt = 0; attempt < options_.cleanup_attempts; ++attempt) {
      destroyed = destroy(*outcome.instance_id);
      if (destroyed) break;
    }
    Error error = *outcome.error;
    if (!destroyed) {
      error.code = ErrorCode::unavailable;
      error.field.clear();  // not just the offer: an instance may be billing
      error.message += "; the instance " + *outcome.instance_id +
                       " it left could not be destroyed (" + destroyed.error().message +
                       "); destroy it at https://cloud.vast.ai/instances/";
    }
    return fail(std::move(error));
  }
  return fail(*outcome.error);
}

Result<InstanceInfo> VastProvider::get(const std::string& id) {
  if (auto keyed = require_key(); !keyed) return fail(keyed.error());
  auto request = get_request(id);
  if (!request) return fail(request.error());
  auto response = transport_->send(*request, "get instance " + id);
  if (!response) return fail(response.error());
  return parse_get(*response, id, agent_port_);
}

Status VastProvider::destroy(const std::string& id) {
  if (auto keyed = require_key(); !keyed) return keyed;
  auto request = destroy_request(id);
  if (!request) return fail(request.error());
  auto response = transport_->send(*request, "destroy instance " + id);
  if (!response) return fail(response.error());
  return parse_destroy(*response, id);
}

Result<std::vector<InstanceInfo>> VastProvider::list(const std::string& label_prefix) {
  if (auto keyed = require_key(); !keyed) return fail(keyed.error());
  std::vector<InstanceInfo> found;
  std::optional<std::string> token;
  for (int page = 0; page < options_.max_list_pages; ++page) {
    auto response = transport_->send(list_request(token), "list instances");
    if (!response) return fail(response.error());
    auto parsed = parse_list_page(*response, agent_port_);
    if (!parsed) return fail(parsed.error());
    for (auto& info : parsed->instances)
      if (info.label.rfind(label_prefix, 0) == 0) found.push_back(std::move(info));
    if (!parsed->next_token || parsed->next_token == token) return found;
    token = parsed->next_token;
  }
  return fail(ErrorCode::resource_exhausted, "vast: list instances: more than " +
                                                 std::to_string(options_.max_list_pages * 25) +
                                                 " instances; stopped paging");
}

}  // namespace ferry::providers::vast
