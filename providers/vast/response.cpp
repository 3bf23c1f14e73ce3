#include "providers/vast/response.hpp"

#include <algorithm>
#include <cctype>

#include "providers/api.hpp"
#include "providers/json_fields.hpp"

namespace ferry::providers::vast {
namespace {

using nlohmann::json;
constexpr const char* kCredential = "VAST_API_KEY";

std::string trim(std::string text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

bool mentions(const std::string& text, std::string_view needle) { return text.find(needle) != std::string::npos; }

// The error code and message of a Vast error body, whichever keys it uses.
struct VastFailure {
  std::string code;
  std::string message;
};
VastFailure read_failure(const std::string& body) {
  VastFailure failure;
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    if (auto found = parsed.find("error"); found != parsed.end() && found->is_string()) failure.code = *found;
  }
  failure.message = error_text(body);
  return failure;
}

}  // namespace

Result<Offer> parse_offer(const json& row, bool spot) {
  JsonFields fields(row, "vast: offer");
  Offer offer;
  offer.provider = "vast";
  offer.id = fields.id("id");
  offer.gpu_name = fields.optional_text("gpu_name").value_or("");
  offer.gpu_count = static_cast<int>(fields.optional_integer("num_gpus").value_or(0));
  double gpu_ram_mb = fields.optional_number("gpu_ram").value_or(0);
  offer.price_per_hour = fields.number("dph_total");
  // reliability2 is what Vast computes today; older rows carry reliability.
  auto reliability = fields.optional_number("reliability2");
  if (!reliability) reliability = fields.optional_number("reliability");
  offer.region = trim(fields.optional_text("geolocation").value_or(""));
  offer.cuda_version = fields.optional_number("cuda_max_good").value_or(0);
  offer.tier = fields.optional_text("verification").value_or("");
  if (auto machine = fields.optional_integer("machine_id")) offer.machine_id = std::to_string(*machine);
  double cpu_ram_mb = fields.optional_number("cpu_ram").value_or(0);
  offer.cpu_count = static_cast<int>(fields.optional_number("cpu_cores_effective").value_or(0));
  if (spot) {
    // A bid must at least meet the host's minimum.
    if (auto min_bid = fields.optional_number("min_bid")) offer.price_per_hour = *min_bid;
    offer.spot = true;
  }
  if (!fields.ok()) return fail(fields.error());
  if (offer.price_per_hour < 0 || gpu_ram_mb < 0 || offer.gpu_count < 0)
    return fail(ErrorCode::data_loss, "vast: offer " + offer.id + ": negative price, memory or GPU count");
  offer.reliability = reliability ? *reliability : 0;
  offer.gpu_memory_bytes = static_cast<std::uint64_t>(gpu_ram_mb * 1e6);
  offer.memory_bytes = static_cast<std::uint64_t>(cpu_ram_mb * 1e6);
  return offer;
}

Result<ParsedOffers> parse_search(const HttpResponse& response, bool spot) {
  const std::string step = "vast: search offers";
  if (response.status != 200)
    return fail(http_error("vast", "search offers", response.status, error_text(response.body), kCredential));
  auto body = parse_json(response.body, step);
  if (!body) return fail(body.error());
  JsonFields top(*body, step);
  const json& rows = top.array("offers");
  if (!top.ok()) return fail(top.error());
  ParsedOffers parsed;
  for (std::size_t index = 0; index < rows.size(); ++index) {
    const json& row = rows[index];
    if (row.is_object()) {
      auto rented = row.find("rented");
      if (rented != row.end() && rented->is_boolean() && rented->get<bool>()) continue;
    }
    auto offer = parse_offer(row, spot);
    if (offer)
      parsed.offers.push_back(std::move(*offer));
    else
      parsed.skipped.push_back("row " + std::to_string(index) + ": " + offer.error().message);
  }
  return parsed;
}

CreateOutcome parse_create(const HttpResponse& response, const std::string& offer_id) {
  const std::string step = "create instance on offer " + offer_id;
  CreateOutcome outcome;
  auto body = json::parse(response.body, nullptr, false);
  bool success = false;
  if (body.is_object()) {
    if (auto found = body.find("new_contract"); found != body.end()) {
      if (found->is_number_integer() && found->get<std::int64_t>() > 0)
        outcome.instance_id = std::to_string(found->get<std::int64_t>());
      else if (found->is_string() && !found->get_ref<const std::string&>().empty())
        outcome.instance_id = found->get<std::string>();
    }
    if (auto found = body.find("success"); found != body.end() && found->is_boolean()) success = *found;
  }
  if (response.status == 200 && success && outcome.instance_id) return outcome;
  if (response.status == 200 && body.is_object() && outcome.instance_id && body.find("success") == body.end())
    return outcome;  // some answers omit "success"; a contract id is what counts

  VastFailure failure = read_failure(response.body);
  bool offer_gone = response.status == 410 || failure.code == "no_such_ask" || mentions(failure.message, "no_such_ask") ||
                    mentions(failure.message, "3603");
  if (offer_gone) {
    outcome.error = Error{ErrorCode::unavailable,
                          "vast: " + step + ": the offer is no longer available (" + failure.message + ")",
                          kOfferUnavailableField};
  } else if (response.status == 200) {
    outcome.error = Error{ErrorCode::data_loss,
                          "vast: " + step + ": the answer carries no instance id (" + excerpt(response.body) + ")",
                          ""};
  } else {
    outcome.error = http_error("vast", step, response.status, failure.message, kCredential);
  }
  return outcome;
}

InstanceState state_from_status(const std::optional<std::string>& actual_status, const std::string& status_msg) {
  if (!actual_status) return InstanceState::pending;  // contract still being set up
  const std::string& status = *actual_status;
  if (status == "created")
    return mentions(status_msg, "OCI runtime create failed") ? InstanceState::exited : InstanceState::starting;
  if (status == "loading" || status == "rebooting" || status == "restarting") return InstanceState::starting;
  if (status == "running") return InstanceState::running;
  // exited, unknown and offline never become running again; stopped is how
  // an outbid spot instance ends; frozen is never asked for.
  if (status == "exited" || status == "unknown" || status == "offline" || status == "stopped" || status == "frozen")
    return InstanceState::exited;
  return InstanceState::unknown;
}

std::optional<std::string> resolve_endpoint(const json& instance, int agent_port) {
  if (!instance.is_object()) return std::nullopt;
  auto address = instance.find("public_ipaddr");
  if (address == instance.end() || !address->is_string()) return std::nullopt;
  std::string ip = trim(address->get<std::string>());
  if (ip.empty()) return std::nullopt;
  auto ports = instance.find("ports");
  if (ports == instance.end() || !ports->is_object()) return std::nullopt;
  auto mapping = ports->find(std::to_string(agent_port) + "/tcp");
  if (mapping == ports->end() || !mapping->is_array() || mapping->empty() || !(*mapping)[0].is_object())
    return std::nullopt;
  const json& first = (*mapping)[0];
  auto host_port = first.find("HostPort");
  if (host_port == first.end()) return std::nullopt;
  long port = 0;
  if (host_port->is_string()) {
    std::string text = trim(host_port->get<std::string>());
    if (text.empty() || text.size() > 5 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return std::nullopt;
    port = std::stol(text);
  } else if (host_port->is_number_integer()) {
    port = host_port->get<long>();
  }
  if (port <= 0 || port > 65535) return std::nullopt;
  bool ipv6 = ip.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

Result<InstanceInfo> parse_instance_object(const json& instance, int agent_port) {
  JsonFields fields(instance, "vast: instance");
  InstanceInfo info;
  info.id = fields.id("id");
  auto actual = fields.optional_text("actual_status");
  std::string status_msg = trim(fields.optional_text("status_msg").value_or(""));
  info.label = fields.optional_text("label").value_or("");
  info.price_per_hour = fields.optional_number("dph_total");
  fields.optional_text("public_ipaddr");
  fields.optional_object("ports");
  if (!fields.ok()) return fail(fields.error());
  info.state = state_from_status(actual, status_msg);
  info.detail = actual ? *actual : "provisioning";
  if (!status_msg.empty()) info.detail += ": " + status_msg;
  // Ports of a stopped instance are not trusted: only a running one serves.
  if (info.state == InstanceState::running) info.endpoint = resolve_endpoint(instance, agent_port);
  return info;
}

Result<InstanceInfo> parse_get(const HttpResponse& response, const std::string& instance_id, int agent_port) {
  const std::string step = "vast: get instance " + instance_id;
  InstanceInfo gone;
  gone.id = instance_id;
  gone.state = InstanceState::gone;
  if (response.status == 404) return gone;
  if (response.status != 200)
    return fail(http_error("vast", "get instance " + instance_id, response.status, error_text(response.body),
                           kCredential));
  auto body = parse_json(response.body, step);
  if (!body) return fail(body.error());
  if (!body->is_object()) return fail(ErrorCode::data_loss, step + ": expected a JSON object");
  auto wrapper = body->find("instances");
  if (wrapper == body->end())
    return fail(ErrorCode::data_loss, step + ": the answer has no 'instances' field (" + excerpt(response.body) + ")");
  if (wrapper->is_null()) return gone;  // what Vast answers once an instance is destroyed
  const json* instance = &*wrapper;
  // The plural key holds one object; tolerate a one-element list.
  if (wrapper->is_array()) {
    if (wrapper->empty()) return gone;
    instance = &(*wrapper)[0];
  }
  auto info = parse_instance_object(*instance, agent_port);
  if (!info) return fail(ErrorCode::data_loss, "vast: get instance " + instance_id + ": " + info.error().message);
  if (info->id != instance_id)
    return fail(ErrorCode::data_loss, step + ": the answer describes instance " + info->id);
  return info;
}

Status parse_destroy(const HttpResponse& response, const std::string& instance_id) {
  if (response.status == 404) return {};
  VastFailure failure = read_failure(response.body);
  if (failure.code == "no_such_instance" || failure.code == "not_found") return {};
  if (response.status == 200) {
    auto body = json::parse(response.body, nullptr, false);
    if (body.is_object()) {
      auto success = body.find("success");
      if (success == body.end() || (success->is_boolean() && success->get<bool>())) return {};
    }
    return fail(ErrorCode::unavailable,
                "vast: destroy instance " + instance_id + ": Vast did not confirm (" + failure.message + ")");
  }
  return fail(http_error("vast", "destroy instance " + instance_id, response.status, failure.message, kCredential));
}

Result<ListPage> parse_list_page(const HttpResponse& response, int agent_port) {
  const std::string step = "vast: list instances";
  if (response.status != 200)
    return fail(http_error("vast", "list instances", response.status, error_text(response.body), kCredential));
  auto body = parse_json(response.body, step);
  if (!body) return fail(body.error());
  JsonFields top(*body, step);
  const json* rows = top.optional_array("instances");
  auto next = top.optional_text("next_token");
  if (!top.ok()) return fail(top.error());
  ListPage page;
  if (next && !next->empty()) page.next_token = next;
  if (!rows) return page;
  for (const auto& row : *rows) {
    auto info = parse_instance_object(row, agent_port);
    if (!info) return fail(ErrorCode::data_loss, step + ": " + info.error().message);
    page.instances.push_back(std::move(*info));
  }
  return page;
}

}  // namespace ferry::providers::vast
