#include "providers/api.hpp"

#include <cstdlib>
#include <random>
#include <thread>

namespace ferry::providers {

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string build_url(std::string_view base_url, const ApiRequest& request) {
  std::string url(base_url);
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += request.path;
  char separator = '?';
  for (const auto& [name, value] : request.query) {
    url += separator;
    url += percent_encode(name) + "=" + percent_encode(value);
    separator = '&';
  }
  return url;
}

std::string fill_template(std::string_view pattern, const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  std::size_t at = 0;
  while (at < pattern.size()) {
    auto open = pattern.find('{', at);
    if (open == std::string_view::npos) break;
    auto close = pattern.find('}', open);
    if (close == std::string_view::npos) break;
    out += pattern.substr(at, open - at);
    std::string_view name = pattern.substr(open + 1, close - open - 1);
    bool filled = false;
    for (const auto& [key, value] : values)
      if (key == name) {
        out += value;
        filled = true;
        break;
      }
    if (!filled) out += pattern.substr(open, close - open + 1);
    at = close + 1;
  }
  out += pattern.substr(at);
  return out;
}

std::optional<std::string> env_value(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

Result<std::string> credential_from_env(std::string_view provider, const char* variable,
                                        std::string_view how_to_get_one) {
  if (auto value = env_value(variable)) return *value;
  return fail(ErrorCode::unauthenticated,
              std::string(provider) + ": " + variable + " is not set; " + std::string(how_to_get_one), variable);
}

Error http_error(std::string_view provider, std::string_view step, int status, std::string_view detail,
                 const char* credential_variable) {
  std::string message = std::string(provider) + ": " + std::string(step) + ": HTTP " + std::to_string(status);
  if (!detail.empty()) message += ": " + std::string(detail);
  ErrorCode code = ErrorCode::internal;
  switch (status) {
    case 401:
      code = ErrorCode::unauthenticated;
      message += std::string("; the API key was refused: check ") + credential_variable;
      break;
    case 402:
      code = ErrorCode::resource_exhausted;
      message += "; add funds to the account";
      break;
    case 403:
      code = ErrorCode::permission_denied;
      message += std::string("; the key in ") + credential_variable + " may lack the permission";
      break;
    case 404:
      code = ErrorCode::not_found;
      break;
    case 400:
    case 422:
      code = ErrorCode::invalid_argument;
      break;
    case 409:
      code = ErrorCode::failed_precondition;
      break;
    case 429:
      code = ErrorCode::unavailable;
      message += "; rate limited even after backing off, try again in a minute";
      break;
    default:
      code = status >= 500 ? ErrorCode::unavailable : ErrorCode::internal;
      if (status >= 500) message += "; the provider's side failed, try again later";
  }
  return Error{code, message, ""};
}

ApiTransport::ApiTransport(std::string provider, std::string base_url, std::optional<std::string> bearer_token,
                           TransportOptions options)
    : provider_(std::move(provider)),
      base_url_(std::move(base_url)),
      bearer_token_(std::move(bearer_token)),
      options_(std::move(options)),
      random_state_(std::random_device{}()) {
  if (!options_.sleep) options_.sleep = [](std::chrono::milliseconds wait) { std::this_thread::sleep_for(wait); };
}

Result<HttpResponse> ApiTransport::send(const ApiRequest& request, std::string_view step) {
  return send_to(base_url_, request, step);
}

Result<HttpResponse> ApiTransport::send_to(std::string_view base_url, const ApiRequest& request,
                                           std::string_view step) {
  HttpRequest http;
  http.method = request.method;
  http.url = build_url(base_url, request);
  http.body = request.body;
  http.timeout = options_.timeout;
  http.headers.emplace_back("Accept", "application/json");
  if (!request.body.empty()) http.headers.emplace_back("Content-Type", "application/json");
  if (bearer_token_) http.headers.emplace_back("Authorization", "Bearer " + *bearer_token_);

  std::minstd_rand random(random_state_++);
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  for (int attempt = 1;; ++attempt) {
    auto response = client_.send(http);
    int status = response ? response->status : 0;
    std::optional<std::chrono::milliseconds> retry_after;
    if (response) retry_after = parse_retry_after(response->header("retry-after"), std::chrono::system_clock::now());
    auto wait = retry_delay(options_.retry, status, retry_after, request.idempotent, attempt, jitter(random));
    if (!wait) {
      if (response) return response;
      Error error = response.error();
      error.message = provider_ + ": " + std::string(step) + ": " + error.message;
      return fail(std::move(error));
    }
    options_.sleep(*wait);
  }
}

}  // namespace ferry::providers
