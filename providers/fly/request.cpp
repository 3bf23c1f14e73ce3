#include "providers/fly/request.hpp"

#include <algorithm>
#include <cctype>

namespace ferry::providers::fly {
namespace {

using nlohmann::json;

bool is_app_name(const std::string& text) {
  return !text.empty() && text.size() <= 63 && text.front() != '-' &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                  c == '-';
         });
}

bool is_machine_id(const std::string& text) {
  return !text.empty() && text.size() <= 32 &&
         std::all_of(text.begin(), text.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

}  // namespace

const std::vector<MachineSize>& machine_sizes() {
  static const std::vector<MachineSize> sizes = {
      {"performance-1x", 1, 2048, 31.0 / 720},   {"performance-2x", 2, 4096, 62.0 / 720},
      {"performance-4x", 4, 8192, 124.0 / 720},  {"performance-8x", 8, 16384, 248.0 / 720},
      {"performance-16x", 16, 32768, 496.0 / 720},
  };
  return sizes;
}

Result<std::vector<Offer>> offers_for(const config::Resources& resources, const FlySettings& settings) {
  if (resources.gpu)
    return fail(ErrorCode::unsupported,
                "fly: Fly.io retired its GPU machines on 2026-08-01, so ferry runs only CPU work there "
                "(convert, loop, separation on CPU); remove `resources.gpu` for a CPU run on Fly, or use "
                "`provider: vast` or `provider: runpod` for GPU work",
                "resources.gpu");
  if (resources.spot)
    return fail(ErrorCode::unsupported, "fly: Fly machines have no spot pricing; remove `resources.spot`",
                "resources.spot");
  std::vector<Offer> offers;
  for (const auto& size : machine_sizes()) {
    if (size.memory_mb < settings.min_memory_mb) continue;
    if (resources.max_price_per_hour && size.price_per_hour > *resources.max_price_per_hour) continue;
    Offer offer;
    offer.provider = "fly";
    offer.id = size.name;
    offer.tier = size.name;
    offer.cpu_count = size.cpus;
    offer.memory_bytes = static_cast<std::uint64_t>(size.memory_mb) * 1024 * 1024;
    offer.price_per_hour = size.price_per_hour;
    offer.region = settings.region;
    offers.push_back(std::move(offer));
  }
  return offers;
}

std::string instance_id(const std::string& app, const std::string& machine_id) { return app + "/" + machine_id; }

Result<std::pair<std::string, std::string>> split_instance_id(const std::string& id) {
  auto slash = id.find('/');
  if (slash != std::string::npos) {
    std::string app = id.substr(0, slash);
    std::string machine = id.substr(slash + 1);
    if (is_app_name(app) && is_machine_id(machine)) return std::make_pair(app, machine);
  }
  return fail(ErrorCode::invalid_argument, "fly: '" + id + "' is not a ferry Fly instance id (APP/MACHINE)", "id");
}

std::string app_name_for(const std::string& label, const std::string& suffix) {
  std::string name;
  for (char c : label) {
    unsigned char u = static_cast<unsigned char>(c);
    char mapped = std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
    if (mapped == '-' && (name.empty() || name.back() == '-')) continue;
    name += mapped;
  }
  if (name.rfind("ferry", 0) != 0) name = "ferry-" + name;
  std::string tail = "-" + suffix;
  if (name.size() + tail.size() > 63) name.resize(63 - tail.size());
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name + tail;
}

ApiRequest create_app_request(const std::string& app, const FlySettings& settings) {
  ApiRequest request;
  request.method = "POST";
  request.path = "/v1/apps";
  request.body = to_json_text(json{{"app_name", app}, {"org_slug", settings.org_slug}});
  request.idempotent = false;
  return request;
}

ApiRequest allocate_ip_request(const std::string& app) {
  ApiRequest request;
  request.method = "POST";
  request.path = "/v1/apps/" + app + "/ip_assignments";
  request.body = to_json_text(json{{"type", "shared_v4"}});
  request.idempotent = false;
  return request;
}

Result<ApiRequest> create_machine_request(const std::string& app, const Offer& offer, const LaunchSpec& launch,
                                          const FlySettings& settings) {
  auto size = std::find_if(machine_sizes().begin(), machine_sizes().end(),
                           [&](const MachineSize& known) { return known.name == offer.id; });
  if (size == machine_sizes().end())
    return fail(ErrorCode::invalid_argument, "fly: '" + offer.id + "' is not a machine size ferry offers", "offer");
  if (launch.image.empty())
    return fail(ErrorCode::invalid_argument,
                "fly: the manifest names no image; set `image:` (e.g. ghcr.io/OWNER/ferry-agent:cpu)", "image");
  if (launch.agent_port <= 0 || launch.agent_port > 65535)
    return fail(ErrorCode::invalid_argument, "fly: agent port " + std::to_string(launch.agent_port) + " is out of range");
  json env = json::object();
  for (const auto& [name, value] : launch.env) env[name] = value;
  json service = {
      {"protocol", "tcp"},
      {"internal_port", launch.agent_port},
      // shared_v4 addresses route other TCP ports only through Fly's TLS
      // handler; 443 with tls+http is the plain HTTPS route.
      {"ports", json::array({{{"port", 443}, {"handlers", json::array({"tls", "http"})}}})},
      {"autostop", "off"},
      {"autostart", false},
  };
  json config = {
      {"image", launch.image},
      {"guest", {{"cpu_kind", "performance"}, {"cpus", size->cpus}, {"memory_mb", size->memory_mb}}},
      {"env", env},
      {"services", json::array({service})},
      // The agent stops on its idle timeout or deadline; the machine must go
      // with it rather than restart and bill on.
      {"restart", {{"policy", "no"}}},
      {"auto_destroy", true},
      {"metadata", {{"ferry_label", launch.label}}},
  };
  ApiRequest request;
  request.method = "POST";
  request.path = "/v1/apps/" + app + "/machines";
  request.body = to_json_text(json{{"region", settings.region}, {"config", config}});
  request.idempotent = false;
  return request;
}

ApiRequest get_machine_request(const std::string& app, const std::string& machine_id) {
  ApiRequest request;
  request.path = "/v1/apps/" + app + "/machines/" + machine_id;
  return request;
}

ApiRequest delete_machine_request(const std::string& app, const std::string& machine_id) {
  ApiRequest request;
  request.method = "DELETE";
  request.path = "/v1/apps/" + app + "/machines/" + machine_id;
  request.query = {{"force", "true"}};
  return request;
}

ApiRequest delete_app_request(const std::string& app) {
  ApiRequest request;
  request.method = "DELETE";
  request.path = "/v1/apps/" + app;
  request.query = {{"force", "true"}};
  return request;
}

ApiRequest list_apps_request(const FlySettings& settings) {
  ApiRequest request;
  request.path = "/v1/apps";
  request.query = {{"org_slug", settings.org_slug}};
  return request;
}

ApiRequest list_machines_request(const std::string& app) {
  ApiRequest request;
  request.path = "/v1/apps/" + app + "/machines";
  return request;
}

}  // namespace ferry::providers::fly
