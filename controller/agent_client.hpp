#pragma once
// Typed calls to ferry-agent's /v1 API over HttpClient, with the bearer
// token. Error bodies become ferry::Error; idempotent calls are retried on
// transient failures with bounded backoff.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/http_client.hpp"

namespace ferry::controller {

/// One output of a finished agent job.
struct AgentOutput {
  std::string name;
  std::uint64_t bytes = 0;
  std::string sha256;
};

/// The agent's view of a job (the fields the controller uses).
struct AgentJob {
  std::string id;
  std::string kind;
  std::string state;  ///< queued | running | succeeded | failed | canceled
  std::string stage;
  std::optional<double> fraction;
  std::optional<double> eta_s;
  std::optional<Error> error;
  std::vector<AgentOutput> outputs;
  /// What the engine reported beyond its files (e.g. a loop's points); null when nothing.
  nlohmann::json result;
  /// Seconds the agent worked on it (its started_at to finished_at), once
  /// finished and when the agent reports both times.
  std::optional<double> work_s;

  /// True once the job will not change again.
  bool finished() const { return state == "succeeded" || state == "failed" || state == "canceled"; }
};

/// The agent's reply to an upload.
struct UploadReceipt {
  std::string sha256;
  std::uint64_t bytes = 0;
};

/// Seconds since the Unix epoch of an agent timestamp, "YYYY-MM-DDTHH:MM:SS[.fff]Z".
std::optional<double> unix_seconds_from_rfc3339(std::string_view text);

/// Parses a job object; errors name the missing or malformed field.
Result<AgentJob> agent_job_from_json(const nlohmann::json& json);

/// The Error an agent answer stands for: the body's {"error": {...}} when it
/// has one, else one derived from the status. `what` says which call it was.
Error error_from_response(const HttpResponse& response, const std::string& what);

/// How many times, and how patiently, idempotent calls are retried.
struct RetryPolicy {
  int attempts = 4;
  std::chrono::milliseconds first_delay{200};
  std::chrono::milliseconds max_delay{2000};
};

/// Delay before retry number `attempt` (1-based): doubling, capped.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt);

class AgentClient {
 public:
  /// `endpoint` like "http://127.0.0.1:8185" (no trailing slash needed).
  /// `should_stop` is polled during waits and transfers: true aborts them
  /// with ErrorCode::cancelled (the controller's Ctrl-C).
  AgentClient(std::string endpoint, std::string token, std::function<bool()> should_stop = {},
              RetryPolicy retry = {});

  const std::string& endpoint() const { return endpoint_; }

  /// GET /v1/health: the "status" field ("READY", "STARTING", ...); a 503
  /// with a status body is still an answer, not an error.
  Result<std::string> health();
  /// POST /v1/uploads, streaming the file; checks the returned digest
  /// against `sha256` (computed by the caller).
  Result<UploadReceipt> upload(const std::filesystem::path& file, const std::string& sha256,
                               const TransferProgress& progress = {});
  /// PUT /v1/jobs/{id}: idempotent create.
  Result<AgentJob> put_job(const std::string& id, const nlohmann::json& spec);
  /// GET /v1/jobs/{id}?wait=SECONDS: returns when the job changes or the wait ends.
  Result<AgentJob> get_job(const std::string& id, int wait_seconds = 0);
  /// POST /v1/jobs/{id}/cancel.
  Result<AgentJob> cancel_job(const std::string& id);
  /// GET /v1/jobs/{id}/outputs/{name} into `destination`.
  Status download_output(const std::string& id, const std::string& name, const std::filesystem::path& destination,
                         const TransferProgress& progress = {});

 private:
  HttpRequest request(std::string method, const std::string& path) const;
  /// Sends, retrying transport failures and 502/503/504 when `idempotent`.
  Result<HttpResponse> exchange(const HttpRequest& request, bool idempotent, const TransferProgress& progress = {});
  Result<AgentJob> job_from_response(const HttpResponse& response, const std::string& what);
  TransferProgress stoppable(const TransferProgress& progress) const;

  std::string endpoint_;
  std::string token_;
  std::function<bool()> should_stop_;
  RetryPolicy retry_;
  HttpClient http_;
};

}  // namespace ferry::controller
