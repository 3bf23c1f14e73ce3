#include "agent/http/routes.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <vector>

#include "agent/jobs/job.hpp"
#include "common/files.hpp"

namespace ferry::agent::http {
namespace {

struct RouteRule {
  std::string_view method;
  std::string_view pattern;  // "{id}" and "{name}" match one segment
  Endpoint endpoint;
  bool requires_auth;
};

constexpr std::array<RouteRule, 17> kRules{{
    {"GET", "/healthz", Endpoint::healthz, false},
    {"GET", "/v1/health", Endpoint::health, false},
    {"GET", "/health", Endpoint::health, false},
    {"GET", "/v1/status", Endpoint::status, true},
    {"GET", "/status", Endpoint::status, true},
    {"POST", "/v1/uploads", Endpoint::upload, true},
    {"POST", "/v1/jobs", Endpoint::create_job, true},
    {"POST", "/job", Endpoint::create_job, true},
    {"GET", "/v1/jobs", Endpoint::list_jobs, true},
    {"GET", "/jobs", Endpoint::list_jobs, true},
    {"PUT", "/v1/jobs/{id}", Endpoint::put_job, true},
    {"GET", "/v1/jobs/{id}", Endpoint::get_job, true},
    {"DELETE", "/v1/jobs/{id}", Endpoint::delete_job, true},
    {"GET", "/job/{id}", Endpoint::get_job, true},
    {"POST", "/v1/jobs/{id}/cancel", Endpoint::cancel_job, true},
    {"GET", "/v1/jobs/{id}/outputs/{name}", Endpoint::get_output, true},
    {"GET", "/result/{id}", Endpoint::get_result, true},
}};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  path.remove_prefix(1);  // the leading '/'
  for (;;) {
    auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Binds the pattern's placeholders; false when the literal parts differ.
bool match(std::string_view pattern, const std::vector<std::string>& segments, std::string* id, std::string* name) {
  auto rule_segments = split_path(pattern);
  if (rule_segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (rule_segments[i] == "{id}") *id = segments[i];
    else if (rule_segments[i] == "{name}") *name = segments[i];
    else if (rule_segments[i] != segments[i]) return false;
  }
  return true;
}

Result<std::chrono::milliseconds> parse_wait(std::string_view query) {
  std::chrono::milliseconds wait{0};
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) != "wait") continue;
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    double seconds = -1;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(seconds) || seconds < 0)
      return fail(ErrorCode::invalid_argument,
                  "wait must be a number of seconds between 0 and " + std::to_string(kMaxWait.count()), "wait");
    wait = std::chrono::milliseconds(static_cast<long long>(std::min(seconds, double(kMaxWait.count())) * 1000));
  }
  return wait;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    char decoded = static_cast<char>(high * 16 + low);
    if (decoded == '\0') return std::nullopt;
    out.push_back(decoded);
    i += 2;
  }
  return out;
}

Result<Route> route_request(std::string_view method, std::string_view target) {
  if (target.empty() || target.front() != '/')
    return fail(ErrorCode::invalid_argument, "the request target must be a path starting with '/'", "target");
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  std::vector<std::string> segments;
  for (auto raw : split_path(path)) {
    auto decoded = percent_decode(raw);
    if (!decoded)
      return fail(ErrorCode::invalid_argument, "malformed percent-encoding in the path '" + std::string(path) + "'",
                  "target");
    // Checked on the decoded form so that "%2e%2e" and "%2F" cannot smuggle
    // a traversal past the per-parameter checks below.
    if (*decoded == "." || *decoded == ".." || decoded->find('/') != std::string::npos ||
        decoded->find('\\') != std::string::npos)
      return fail(ErrorCode::invalid_argument, "path segments may not be '.', '..' or contain slashes", "target");
    segments.push_back(std::move(*decoded));
  }

  std::string allow;
  for (const auto& rule : kRules) {
    std::string id, name;
    if (!match(rule.pattern, segments, &id, &name)) continue;
    if (rule.method != method) {
      if (allow.find(rule.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + std::string(rule.method);
      continue;
    }
    Route route;
    route.endpoint = rule.endpoint;
    route.requires_auth = rule.requires_auth;
    if (rule.pattern.find("{id}") != std::string_view::npos && !jobs::is_valid_job_id(id))
      return fail(ErrorCode::invalid_argument, "job ids are 1-64 characters of A-Z, a-z, 0-9, '_' and '-'", "id");
    if (rule.pattern.find("{name}") != std::string_view::npos && !is_safe_name(name))
      return fail(ErrorCode::invalid_argument,
                  "output names are 1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'",
                  "name");
    route.job_id = std::move(id);
    route.output_name = std::move(name);
    if (route.endpoint == Endpoint::get_job) {
      auto wait = parse_wait(query);
      if (!wait) return fail(wait.error());
      route.wait = *wait;
    }
    return route;
  }
  if (!allow.empty()) {
    Route route;
    route.endpoint = Endpoint::method_not_allowed;
    route.requires_auth = false;
    route.allow = std::move(allow);
    return route;
  }
  return fail(ErrorCode::not_found, "no such endpoint: " + std::string(method) + " " + std::string(path), "target");
}

}  // namespace ferry::agent::http
