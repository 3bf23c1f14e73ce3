#pragma once
// What the provider modules share: a typed API request (built by each
// provider's pure request.cpp), the thin transport that sends it with auth
// and retries, and the environment lookups for credentials and base URLs.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/http_client.hpp"
#include "providers/retry.hpp"

namespace ferry::providers {

/// One call to a provider API, before a base URL and credentials are added.
struct ApiRequest {
  std::string method = "GET";
  std::string path;                                          ///< "/api/v0/bundles/"
  std::vector<std::pair<std::string, std::string>> query;    ///< unencoded; encoded by build_url
  std::string body;                                          ///< JSON text, or empty
  /// Safe to repeat after a 5xx or a lost answer (reads, deletes). Creates
  /// are not: a create whose answer was lost may have happened.
  bool idempotent = true;
};

/// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percent_encode(std::string_view text);
/// base (no trailing slash needed) + path + "?k=v&..." with encoded values.
std::string build_url(std::string_view base_url, const ApiRequest& request);

/// Fills `{name}` placeholders of an endpoint template such as
/// "https://{pod_id}-{port}.proxy.runpod.net"; unknown names stay as written.
std::string fill_template(std::string_view pattern, const std::vector<std::pair<std::string, std::string>>& values);

/// The value of an environment variable, or nullopt when unset or empty.
std::optional<std::string> env_value(const char* name);
/// The credential in `variable`, or unauthenticated: "<provider>: <variable>
/// is not set; <how_to_get_one>". The value is never put in any message.
Result<std::string> credential_from_env(std::string_view provider, const char* variable,
                                        std::string_view how_to_get_one);

/// The error for an HTTP status the provider answered with: 401 unauthenticated
/// (naming `credential_variable` to fix), 402 resource_exhausted, 403
/// permission_denied, 404 not_found, 400/409/422 invalid_argument or
/// failed_precondition, 429 and 5xx unavailable. The message is
/// "<provider>: <step>: HTTP <status>: <detail>" plus what to do.
Error http_error(std::string_view provider, std::string_view step, int status, std::string_view detail,
                 const char* credential_variable);

struct TransportOptions {
  RetryPolicy retry;
  std::chrono::milliseconds timeout{30000};       ///< one exchange
  /// How the transport waits between attempts (tests pass a recorder).
  std::function<void(std::chrono::milliseconds)> sleep;
};

/// Sends ApiRequests to one API: base URL, bearer token, JSON headers and the
/// retry policy. Any HTTP status is returned to the caller, who interprets
/// it; only a failed exchange (after retries) is an error, worded as
/// "<provider>: <step>: <what happened>".
class ApiTransport {
 public:
  ApiTransport(std::string provider, std::string base_url, std::optional<std::string> bearer_token,
               TransportOptions options = {});

  Result<HttpResponse> send(const ApiRequest& request, std::string_view step);
  /// Same, against another base URL (RunPod's GraphQL endpoint).
  Result<HttpResponse> send_to(std::string_view base_url, const ApiRequest& request, std::string_view step);

  const std::string& base_url() const { return base_url_; }
  bool has_credentials() const { return bearer_token_.has_value(); }

 private:
  std::string provider_;
  std::string base_url_;
  std::optional<std::string> bearer_token_;
  TransportOptions options_;
  HttpClient client_;
  unsigned random_state_;
};

}  // namespace ferry::providers
