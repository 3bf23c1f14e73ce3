#include "controller/agent_client.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <thread>

#include <nlohmann/json.hpp>

namespace ferry::controller {
namespace {

using nlohmann::json;

std::optional<double> optional_number(const json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_number()) return std::nullopt;
  return found->get<double>();
}

std::string string_or_empty(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

bool is_transient_status(int status) { return status == 502 || status == 503 || status == 504; }

std::optional<double> timestamp_field(const json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return std::nullopt;
  return unix_seconds_from_rfc3339(found->get_ref<const std::string&>());
}

}  // namespace

std::optional<double> unix_seconds_from_rfc3339(std::string_view text) {
  std::tm parts{};
  std::string copy(text);
  const char* rest = ::strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
  if (!rest) return std::nullopt;
  double fraction = 0;
  if (*rest == '.') {
    double scale = 0.1;
    const char* digit = rest + 1;
    if (!std::isdigit(static_cast<unsigned char>(*digit))) return std::nullopt;
    for (; std::isdigit(static_cast<unsigned char>(*digit)); ++digit, scale /= 10) fraction += (*digit - '0') * scale;
    rest = digit;
  }
  if (std::string_view(rest) != "Z") return std::nullopt;
  return static_cast<double>(::timegm(&parts)) + fraction;
}

Result<AgentJob> agent_job_from_json(const json& body) {
  if (!body.is_object()) return fail(ErrorCode::data_loss, "agent sent a job that is not a JSON object");
  AgentJob job;
  job.id = string_or_empty(body, "id");
  job.kind = string_or_empty(body, "kind");
  job.state = string_or_empty(body, "state");
  if (job.id.empty()) return fail(ErrorCode::data_loss, "agent sent a job without an id", "id");
  if (job.state.empty()) return fail(ErrorCode::data_loss, "agent sent job '" + job.id + "' without a state", "state");
  if (auto progress = body.find("progress"); progress != body.end() && progress->is_object()) {
    job.stage = string_or_empty(*progress, "stage");
    job.fraction = optional_number(*progress, "fraction");
    job.eta_s = optional_number(*progress, "eta_s");
  }
  if (auto error = body.find("error"); error != body.end() && error->is_object()) {
    job.error = Error{error_code_from_string(string_or_empty(*error, "code")), string_or_empty(*error, "message"),
                      string_or_empty(*error, "field")};
  }
  if (auto outputs = body.find("outputs"); outputs != body.end() && outputs->is_array()) {
    for (std::size_t i = 0; i < outputs->size(); ++i) {
      const auto& output = (*outputs)[i];
      std::string where = "outputs[" + std::to_string(i) + "]";
      if (!output.is_object()) return fail(ErrorCode::data_loss, "agent sent a malformed output", where);
      AgentOutput parsed;
      parsed.name = string_or_empty(output, "name");
      parsed.sha256 = string_or_empty(output, "sha256");
      auto bytes = output.find("bytes");
      if (parsed.name.empty() || parsed.sha256.empty() || bytes == output.end() || !bytes->is_number_unsigned())
        return fail(ErrorCode::data_loss, "agent sent an output without name, bytes and sha256", where);
      parsed.bytes = bytes->get<std::uint64_t>();
      job.outputs.push_back(std::move(parsed));
    }
  }
  if (auto result = body.find("result"); result != body.end()) job.result = *result;
  if (job.finished()) {
    auto started = timestamp_field(body, "started_at");
    auto finished = timestamp_field(body, "finished_at");
    // To the agent's millisecond: the doubles of two epoch times carry noise below it.
    if (started && finished && *finished >= *started) job.work_s = std::round((*finished - *started) * 1000) / 1000;
  }
  return job;
}

Error error_from_response(const HttpResponse& response, const std::string& what) {
  auto body = json::parse(response.body, nullptr, false);
  if (body.is_object()) {
    if (auto error = body.find("error"); error != body.end() && error->is_object()) {
      std::string message = string_or_empty(*error, "message");
      std::string code = string_or_empty(*error, "code");
      return Error{code.empty() ? error_code_from_http_status(response.status) : error_code_from_string(code),
                   what + ": " + (message.empty() ? "HTTP " + std::to_string(response.status) : message),
                   string_or_empty(*error, "field")};
    }
  }
  return Error{error_code_from_http_status(response.status),
               what + ": agent answered HTTP " + std::to_string(response.status), {}};
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt) {
  auto delay = policy.first_delay;
  for (int i = 1; i < attempt && delay < policy.max_delay; ++i) delay *= 2;
  return std::min(delay, policy.max_delay);
}

AgentClient::AgentClient(std::string endpoint, std::string token, std::function<bool()> should_stop,
                         RetryPolicy retry)
    : endpoint_(std::move(endpoint)), token_(std::move(token)), should_stop_(std::move(should_stop)), retry_(retry) {
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
}

HttpRequest AgentClient::request(std::string method, const std::string& path) const {
  HttpRequest request;
  request.method = std::move(method);
  request.url = endpoint_ + path;
  if (!token_.empty()) request.headers.emplace_back("Authorization", "Bearer " + token_);
  return request;
}

TransferProgress AgentClient::stoppable(const TransferProgress& progress) const {
  return [this, progress](std::uint64_t done, std::uint64_t total) {
    if (should_stop_ && should_stop_()) return false;
    return progress ? progress(done, total) : true;
  };
}

Result<HttpResponse> AgentClient::exchange(const HttpRequest& request, bool idempotent,
                                           const TransferProgress& progress) {
  int attempts = idempotent ? std::max(1, retry_.attempts) : 1;
  for (int attempt = 1;; ++attempt) {
    auto response = http_.send(request, stoppable(progress));
    bool transient = response ? is_transient_status(response->status) : response.error().code == ErrorCode::unavailable;
    if (!transient || attempt >= attempts) return response;
    // Sleep in small steps so an interrupt is not held up by the backoff.
    auto until = std::chrono::steady_clock::now() + backoff_delay(retry_, attempt);
    while (std::chrono::steady_clock::now() < until) {
      if (should_stop_ && should_stop_()) return fail(ErrorCode::cancelled, request.method + " " + request.url + ": interrupted");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

Result<AgentJob> AgentClient::job_from_response(const HttpResponse& response, const std::string& what) {
  if (response.status < 200 || response.status >= 300) return fail(error_from_response(response, what));
  auto body = json::parse(response.body, nullptr, false);
  if (body.is_discarded()) return fail(ErrorCode::data_loss, what + ": agent answered with invalid JSON");
  return agent_job_from_json(body);
}

Result<std::string> AgentClient::health() {
  auto req = request("GET", "/v1/health");
  req.timeout = std::chrono::seconds(5);
  req.connect_timeout = std::chrono::seconds(2);
  auto response = http_.send(req, stoppable({}));
  if (!response) return fail(response.error());
  auto body = json::parse(response->body, nullptr, false);
  if (body.is_object() && body.contains("status") && body["status"].is_string())
    return body["status"].get<std::string>();
  return fail(error_from_response(*response, "agent health check"));
}

Result<UploadReceipt> AgentClient::upload(const std::filesystem::path& file, const std::string& sha256,
                                          const TransferProgress& progress) {
  std::error_code size_error;
  auto size = std::filesystem::file_size(file, size_error);
  if (size_error) return fail(ErrorCode::not_found, "cannot read input '" + file.string() + "'", file.string());
  auto req = request("POST", "/v1/uploads");
  req.body_file = file;
  req.headers.emplace_back("Content-Type", "application/octet-stream");
  req.headers.emplace_back("X-Content-Sha256", sha256);
  // Generous for slow links: a minute plus one second per megabyte.
  req.timeout = std::chrono::seconds(60 + static_cast<long>(size / 1'000'000));
  const std::string what = "upload of '" + file.string() + "'";
  // Uploads are content-addressed, so sending the same bytes again is safe.
  auto response = exchange(req, true, progress);
  if (!response) return fail(response.error());
  if (response->status < 200 || response->status >= 300) return fail(error_from_response(*response, what));
  auto body = json::parse(response->body, nullptr, false);
  UploadReceipt receipt;
  if (body.is_object()) {
    receipt.sha256 = string_or_empty(body, "sha256");
    if (auto bytes = body.find("bytes"); bytes != body.end() && bytes->is_number_unsigned())
      receipt.bytes = bytes->get<std::uint64_t>();
  }
  if (receipt.sha256 != sha256 || receipt.bytes != size)
    return fail(ErrorCode::data_loss, what + ": the agent received " + std::to_string(receipt.bytes) +
                                          " bytes with sha256 '" + receipt.sha256 + "', expected " +
                                          std::to_string(size) + " bytes with sha256 '" + sha256 + "'",
                file.string());
  return receipt;
}

Result<AgentJob> AgentClient::put_job(const std::string& id, const json& spec) {
  auto req = request("PUT", "/v1/jobs/" + id);
  req.body = spec.dump();
  req.headers.emplace_back("Content-Type", "application/json");
  auto response = exchange(req, true);
  if (!response) return fail(response.error());
  return job_from_response(*response, "submitting job " + id);
}

Result<AgentJob> AgentClient::get_job(const std::string& id, int wait_seconds) {
  auto req = request("GET", "/v1/jobs/" + id + (wait_seconds > 0 ? "?wait=" + std::to_string(wait_seconds) : ""));
  req.timeout = std::chrono::seconds(wait_seconds + 15);
  auto response = exchange(req, true);
  if (!response) return fail(response.error());
  return job_from_response(*response, "reading job " + id);
}

Result<AgentJob> AgentClient::cancel_job(const std::string& id) {
  auto req = request("POST", "/v1/jobs/" + id + "/cancel");
  req.timeout = std::chrono::seconds(10);
  // Cancelling twice is harmless, so it is retried like a read.
  auto response = exchange(req, true);
  if (!response) return fail(response.error());
  return job_from_response(*response, "cancelling job " + id);
}

Status AgentClient::download_output(const std::string& id, const std::string& name,
                                    const std::filesystem::path& destination, const TransferProgress& progress) {
  auto req = request("GET", "/v1/jobs/" + id + "/outputs/" + name);
  req.timeout = std::chrono::hours(2);
  const std::string what = "download of output '" + name + "' of job " + id;
  Result<HttpResponse> response = fail(ErrorCode::internal, what);
  for (int attempt = 1;; ++attempt) {
    response = http_.download(req, destination, 0, stoppable(progress));
    bool transient = response ? is_transient_status(response->status) : response.error().code == ErrorCode::unavailable;
    if (!transient || attempt >= retry_.attempts) break;
    std::this_thread::sleep_for(backoff_delay(retry_, attempt));
  }
  if (!response) return fail(response.error());
  if (response->status < 200 || response->status >= 300) return fail(error_from_response(*response, what));
  return {};
}

}  // namespace ferry::controller
