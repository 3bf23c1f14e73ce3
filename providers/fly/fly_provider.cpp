#include "providers/fly/fly_provider.hpp"

#include <random>
#include <thread>

#include "providers/fly/response.hpp"
#include "providers/ranking.hpp"

namespace ferry::providers::fly {
namespace {
constexpr const char* kCredential = "FLY_API_TOKEN";
constexpr const char* kTokenHint = "create one with `fly tokens create org` and export FLY_API_TOKEN";

std::string random_suffix() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::string suffix;
  for (int i = 0; i < 6; ++i) suffix += kAlphabet[device() % 36];
  return suffix;
}
}  // namespace

FlyProvider::FlyProvider(FlyOptions options) : options_(std::move(options)) {
  if (options_.api_url.empty()) options_.api_url = env_value("FERRY_FLY_API_URL").value_or(kDefaultApiUrl);
  if (options_.app_url_template.empty())
    options_.app_url_template = env_value("FERRY_FLY_APP_URL").value_or(kDefaultAppUrlTemplate);
  std::optional<std::string> token = options_.api_token ? options_.api_token : env_value(kCredential);
  transport_ = std::make_unique<ApiTransport>("fly", options_.api_url, token, options_.transport);
}

Status FlyProvider::require_token() {
  if (transport_->has_credentials()) return {};
  return fail(ErrorCode::unauthenticated, std::string("fly: ") + kCredential + " is not set; " + kTokenHint,
              kCredential);
}

void FlyProvider::pace(const std::string& action, const std::string& key) {
  // Fly: 1 request/s per action and machine or app with a burst of 3; reads
  // of a machine 5/s with a burst of 10.
  bool read = action == "get";
  auto wait = buckets_.reserve(action + " " + key, read ? 5.0 : 1.0, read ? 10.0 : 3.0, TokenBuckets::Clock::now());
  if (wait.count() > 0) std::this_thread::sleep_for(wait);
}

Result<HttpResponse> FlyProvider::send(const ApiRequest& request, const std::string& action, const std::string& key,
                                       const std::string& step) {
  pace(action, key);
  return transport_->send(request, step);
}

Result<std::vector<Offer>> FlyProvider::search(const config::Resources& request) {
  auto offers = offers_for(request, options_.settings);
  if (!offers) return fail(offers.error());
  return rank_offers(std::move(*offers), request.max_price_per_hour);
}

Result<std::string> FlyProvider::create(const Offer& offer, const LaunchSpec& launch) {
  if (auto keyed = require_token(); !keyed) return fail(keyed.error());
  std::string app;
  for (int attempt = 0;; ++attempt) {
    app = app_name_for(launch.label, random_suffix());
    auto response = send(create_app_request(app, options_.settings), "create_app", "", "create app " + app);
    if (!response) return fail(response.error());
    auto created = parse_create_app(*response, app);
    if (created) break;
    if (created.error().code != ErrorCode::already_exists || attempt >= 2) return fail(created.error());
  }
  auto give_up = [&](Error error) -> Result<std::string> {
    if (auto deleted = delete_app(app); !deleted)
      error.message += "; deleting the app " + app + " failed too (" + deleted.error().message +
                       "); delete it with `fly apps destroy " + app + "`";
    return fail(std::move(error));
  };
  auto address = send(allocate_ip_request(app), "allocate_ip", app, "allocate an address for " + app);
  if (!address) return give_up(address.error());
  if (auto ip = parse_allocate_ip(*address, app); !ip) return give_up(ip.error());
  auto request = create_machine_request(app, offer, launch, options_.settings);
  if (!request) return give_up(request.error());
  auto machine = send(*request, "create_machine", app, "create a machine in " + app);
  if (!machine) return give_up(machine.error());
  auto machine_id = parse_create_machine(*machine, app);
  if (!machine_id) return give_up(machine_id.error());
  return instance_id(app, *machine_id);
}

Result<InstanceInfo> FlyProvider::get(const std::string& id) {
  if (auto keyed = require_token(); !keyed) return fail(keyed.error());
  auto parts = split_instance_id(id);
  if (!parts) return fail(parts.error());
  const auto& [app, machine_id] = *parts;
  auto response = send(get_machine_request(app, machine_id), "get", machine_id, "get machine " + machine_id);
  if (!response) return fail(response.error());
  auto info = parse_get_machine(*response, app, machine_id, options_.app_url_template);
  if (!info) return fail(info.error());
  return info;
}

Status FlyProvider::delete_app(const std::string& app) {
  auto response = send(delete_app_request(app), "delete_app", app, "delete app " + app);
  if (!response) return fail(response.error());
  return parse_delete(*response, "app " + app);
}

Status FlyProvider::destroy(const std::string& id) {
  if (auto keyed = require_token(); !keyed) return keyed;
  auto parts = split_instance_id(id);
  if (!parts) return fail(parts.error());
  const auto& [app, machine_id] = *parts;
  auto response = send(delete_machine_request(app, machine_id), "delete_machine", machine_id,
                       "delete machine " + machine_id);
  if (!response) return fail(response.error());
  if (auto deleted = parse_delete(*response, "machine " + machine_id + " of " + app); !deleted) return deleted;
  return delete_app(app);
}

Result<std::vector<InstanceInfo>> FlyProvider::list(const std::string& label_prefix) {
  if (auto keyed = require_token(); !keyed) return fail(keyed.error());
  auto response = send(list_apps_request(options_.settings), "list_apps", "", "list apps");
  if (!response) return fail(response.error());
  auto apps = parse_app_list(*response);
  if (!apps) return fail(apps.error());
  std::vector<InstanceInfo> owned;
  for (const auto& app : *apps) {
    if (app.rfind("ferry-", 0) != 0) continue;
    auto machines_response = send(list_machines_request(app), "list_machines", app, "list machines of " + app);
    if (!machines_response) return fail(machines_response.error());
    auto machines = parse_machine_list(*machines_response, app, options_.app_url_template);
    if (!machines) return fail(machines.error());
    for (auto& machine : *machines)
      if (machine.label.rfind(label_prefix, 0) == 0 && machine.state != InstanceState::gone)
        owned.push_back(std::move(machine));
  }
  return owned;
}

}  // namespace ferry::providers::fly
