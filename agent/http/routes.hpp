#pragma once
// Request routing as a pure function from method and target to an endpoint
// and its validated parameters, so every path rule is unit-tested without a
// socket. Ids and output names are checked here, before anything can reach
// the file system with them.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace ferry::agent::http {

enum class Endpoint {
  healthz,             ///< GET /healthz
  health,              ///< GET /v1/health, GET /health
  status,              ///< GET /v1/status, GET /status
  upload,              ///< POST /v1/uploads
  create_job,          ///< POST /v1/jobs, POST /job
  put_job,             ///< PUT /v1/jobs/{id}
  list_jobs,           ///< GET /v1/jobs, GET /jobs
  get_job,             ///< GET /v1/jobs/{id}[?wait=S], GET /job/{id}
  cancel_job,          ///< POST /v1/jobs/{id}/cancel
  delete_job,          ///< DELETE /v1/jobs/{id}
  get_output,          ///< GET /v1/jobs/{id}/outputs/{name}
  get_result,          ///< GET /result/{id}: the first output
  method_not_allowed,  ///< the path exists, the method does not (see Route::allow)
};

/// Longest long-poll a client may ask for.
inline constexpr std::chrono::seconds kMaxWait{60};

struct Route {
  Endpoint endpoint = Endpoint::healthz;
  bool requires_auth = true;
  std::string job_id;                        ///< for routes with {id}
  std::string output_name;                   ///< for routes with {name}
  std::chrono::milliseconds wait{0};         ///< get_job's ?wait=, capped at kMaxWait
  std::string allow;                         ///< method_not_allowed: "GET, PUT"
};

/// Matches a request. Errors: not_found for unknown paths, invalid_argument
/// (with the field) for bad ids, names, encodings or query values.
Result<Route> route_request(std::string_view method, std::string_view target);

/// Decodes %XX escapes of one path segment; nullopt for malformed escapes
/// or a decoded NUL.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace ferry::agent::http
