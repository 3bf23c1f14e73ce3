#include "providers/fly/response.hpp"

#include "providers/api.hpp"
#include "providers/fly/request.hpp"
#include "providers/json_fields.hpp"

namespace ferry::providers::fly {
namespace {

using nlohmann::json;
constexpr const char* kCredential = "FLY_API_TOKEN";

std::string fly_status_code(const std::string& body) {
  auto parsed = json::parse(body, nullptr, false);
  if (!parsed.is_object()) return {};
  auto found = parsed.find("status");
  return found != parsed.end() && found->is_string() ? found->get<std::string>() : std::string();
}

bool mentions(const std::string& text, std::string_view needle) { return text.find(needle) != std::string::npos; }

Result<json> body_with_status(const HttpResponse& response, const std::string& step,
                              std::initializer_list<int> expected) {
  bool ok = false;
  for (int status : expected) ok = ok || response.status == status;
  if (!ok) return fail(http_error("fly", step, response.status, error_text(response.body), kCredential));
  return parse_json(response.body, "fly: " + step);
}

}  // namespace

Status parse_create_app(const HttpResponse& response, const std::string& app) {
  const std::string step = "create app " + app;
  if (response.status == 200 || response.status == 201) return {};
  std::string detail = error_text(response.body);
  if (response.status == 422 && (fly_status_code(response.body) == "name_taken" || mentions(detail, "taken")))
    return fail(ErrorCode::already_exists, "fly: " + step + ": the name is taken", "app");
  return fail(http_error("fly", step, response.status, detail, kCredential));
}

Result<std::string> parse_allocate_ip(const HttpResponse& response, const std::string& app) {
  const std::string step = "allocate an address for " + app;
  auto body = body_with_status(response, step, {200, 201});
  if (!body) return fail(body.error());
  JsonFields fields(*body, "fly: " + step);
  std::string ip = fields.text("ip");
  if (!fields.ok()) return fail(fields.error());
  return ip;
}

Result<std::string> parse_create_machine(const HttpResponse& response, const std::string& app) {
  const std::string step = "create a machine in " + app;
  if (response.status != 200 && response.status != 201) {
    std::string detail = error_text(response.body);
    std::string code = fly_status_code(response.body);
    bool capacity = code == "insufficient_capacity" || response.status == 412 ||
                    (response.status == 409 && mentions(detail, "could not reserve")) ||
                    (response.status == 403 && mentions(detail, "quota"));
    Error error = http_error("fly", step, response.status, detail, kCredential);
    if (capacity) {
      error.code = ErrorCode::unavailable;
      error.field = kOfferUnavailableField;
      error.message += "; the region is out of capacity, try another region";
    }
    return fail(std::move(error));
  }
  auto body = parse_json(response.body, "fly: " + step);
  if (!body) return fail(body.error());
  JsonFields fields(*body, "fly: " + step);
  std::string id = fields.text("id");
  if (!fields.ok()) return fail(fields.error());
  return id;
}

InstanceState state_from_machine_state(const std::string& state) {
  if (state == "created" || state == "creating" || state == "starting" || state == "restarting" ||
      state == "updating" || state == "replacing")
    return InstanceState::starting;
  if (state == "started") return InstanceState::running;
  if (state == "stopping" || state == "suspending") return InstanceState::stopping;
  if (state == "stopped" || state == "suspended" || state == "failed" || state == "launch_failed")
    return InstanceState::exited;
  if (state == "destroying" || state == "destroyed" || state == "replaced" || state == "migrated")
    return InstanceState::gone;
  return InstanceState::unknown;
}

Result<InstanceInfo> parse_machine_object(const json& machine, const std::string& app,
                                          const std::string& app_url_template) {
  JsonFields fields(machine, "fly: machine in " + app);
  std::string machine_id = fields.text("id");
  std::string state = fields.text("state");
  const json* config = fields.optional_object("config");
  if (!fields.ok()) return fail(fields.error());
  InstanceInfo info;
  info.id = instance_id(app, machine_id);
  info.state = state_from_machine_state(state);
  info.detail = state;
  if (config) {
    JsonFields config_fields(*config, "fly: config of machine " + machine_id);
    if (const json* metadata = config_fields.optional_object("metadata")) {
      JsonFields meta(*metadata, "fly: metadata of machine " + machine_id);
      info.label = meta.optional_text("ferry_label").value_or("");
    }
  }
  if (info.state == InstanceState::running) info.endpoint = fill_template(app_url_template, {{"app", app}});
  return info;
}

Result<InstanceInfo> parse_get_machine(const HttpResponse& response, const std::string& app,
                                       const std::string& machine_id, const std::string& app_url_template) {
  if (response.status == 404) {
    InstanceInfo gone;
    gone.id = instance_id(app, machine_id);
    gone.state = InstanceState::gone;
    return gone;
  }
  const std::string step = "get machine " + machine_id + " of " + app;
  auto body = body_with_status(response, step, {200});
  if (!body) return fail(body.error());
  return parse_machine_object(*body, app, app_url_template);
}

Status parse_delete(const HttpResponse& response, const std::string& what) {
  if (response.status == 200 || response.status == 202 || response.status == 204 || response.status == 404) return {};
  return fail(http_error("fly", "delete " + what, response.status, error_text(response.body), kCredential));
}

Result<std::vector<std::string>> parse_app_list(const HttpResponse& response) {
  auto body = body_with_status(response, "list apps", {200});
  if (!body) return fail(body.error());
  JsonFields top(*body, "fly: list apps");
  const json* apps = top.optional_array("apps");
  if (!top.ok()) return fail(top.error());
  std::vector<std::string> names;
  if (!apps) return names;
  for (const auto& app : *apps) {
    JsonFields fields(app, "fly: app in the list");
    std::string name = fields.text("name");
    if (!fields.ok()) return fail(fields.error());
    names.push_back(name);
  }
  return names;
}

Result<std::vector<InstanceInfo>> parse_machine_list(const HttpResponse& response, const std::string& app,
                                                     const std::string& app_url_template) {
  if (response.status == 404) return std::vector<InstanceInfo>{};
  auto body = body_with_status(response, "list machines of " + app, {200});
  if (!body) return fail(body.error());
  if (!body->is_array())
    return fail(ErrorCode::data_loss, "fly: list machines of " + app + ": expected a JSON array, got " +
                                          json_type_name(*body));
  std::vector<InstanceInfo> machines;
  for (const auto& machine : *body) {
    auto info = parse_machine_object(machine, app, app_url_template);
    if (!info) return fail(info.error());
    machines.push_back(std::move(*info));
  }
  return machines;
}

}  // namespace ferry::providers::fly
