#pragma once
// Fly Machines answers parsed into typed values. Pure. Errors are
// {"error": "...", "status": "<code>"}; capacity problems move to the next offer.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/http_client.hpp"
#include "providers/provider.hpp"

namespace ferry::providers::fly {

inline constexpr const char* kDefaultAppUrlTemplate = "https://{app}.fly.dev";

/// `POST /v1/apps`: 200/201. A taken name is already_exists (pick another).
Status parse_create_app(const HttpResponse& response, const std::string& app);
/// `POST /v1/apps/{app}/ip_assignments`: the address.
Result<std::string> parse_allocate_ip(const HttpResponse& response, const std::string& app);
/// `POST /v1/apps/{app}/machines`: the machine id. Capacity answers (412,
/// 409 "could not reserve", a regional quota 403, status
/// insufficient_capacity) are offer-unavailable errors.
Result<std::string> parse_create_machine(const HttpResponse& response, const std::string& app);

InstanceState state_from_machine_state(const std::string& state);
/// One Machine object; `endpoint` (the app URL template filled with the
/// app's name) only once the machine is `started`.
Result<InstanceInfo> parse_machine_object(const nlohmann::json& machine, const std::string& app,
                                          const std::string& app_url_template);
/// `GET .../machines/{id}`: 404 is gone.
Result<InstanceInfo> parse_get_machine(const HttpResponse& response, const std::string& app,
                                       const std::string& machine_id, const std::string& app_url_template);
/// Deletes of a machine or an app: 200/202/204 and 404 are success.
Status parse_delete(const HttpResponse& response, const std::string& what);
/// `GET /v1/apps?org_slug=...` → the app names.
Result<std::vector<std::string>> parse_app_list(const HttpResponse& response);
/// `GET /v1/apps/{app}/machines` → a JSON array of machines.
Result<std::vector<InstanceInfo>> parse_machine_list(const HttpResponse& response, const std::string& app,
                                                     const std::string& app_url_template);

}  // namespace ferry::providers::fly
