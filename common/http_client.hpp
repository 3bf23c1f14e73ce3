#pragma once
// A small blocking HTTP client over libcurl, shared by the controller (agent
// and provider APIs) and the agent (inputs given as URLs). One instance per
// thread; it keeps its connection alive between calls.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace ferry {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                                   ///< sent as is when non-empty
  std::optional<std::filesystem::path> body_file;     ///< streamed from disk instead of `body`
  std::chrono::milliseconds timeout{30000};           ///< whole request
  std::chrono::milliseconds connect_timeout{10000};
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  /// The header's value, or "" when absent (name is matched case-insensitively).
  std::string header(const std::string& name) const;
};

/// Called with (bytes done, bytes total or 0 when unknown); return false to abort.
using TransferProgress = std::function<bool(std::uint64_t done, std::uint64_t total)>;

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Any status is a successful exchange; only transport failures (DNS,
  /// refused, timeout, TLS) are errors, as ErrorCode::unavailable or
  /// deadline_exceeded.
  Result<HttpResponse> send(const HttpRequest& request, const TransferProgress& progress = {});

  /// Streams the response body into `destination` (created or truncated).
  /// Non-2xx statuses are returned in the response with the body read into
  /// `HttpResponse::body` instead of the file (up to 64 KiB). `max_bytes`
  /// aborts with resource_exhausted when exceeded (0: no limit).
  Result<HttpResponse> download(const HttpRequest& request, const std::filesystem::path& destination,
                                std::uint64_t max_bytes = 0, const TransferProgress& progress = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Call once in main before threads start (curl_global_init).
void http_global_init();

}  // namespace ferry
