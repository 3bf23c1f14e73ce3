#include "agent/jobs/job.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

namespace ferry::agent::jobs {
namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 5> kStateNames{{
    {JobState::queued, "queued"},
    {JobState::running, "running"},
    {JobState::succeeded, "succeeded"},
    {JobState::failed, "failed"},
    {JobState::canceled, "canceled"},
}};

nlohmann::json optional_time(const std::optional<TimePoint>& time) {
  return time ? nlohmann::json(format_rfc3339(*time)) : nlohmann::json(nullptr);
}

Error bad_record(std::string message, std::string field) {
  return Error{ErrorCode::data_loss, "job record: " + std::move(message), std::move(field)};
}

Result<std::optional<TimePoint>> read_optional_time(const nlohmann::json& json, const char* field) {
  auto it = json.find(field);
  if (it == json.end() || it->is_null()) return std::optional<TimePoint>{};
  if (!it->is_string()) return fail(bad_record("expected a timestamp string", field));
  auto parsed = parse_rfc3339(it->get<std::string>());
  if (!parsed) return fail(bad_record(parsed.error().message, field));
  return std::optional<TimePoint>{*parsed};
}

}  // namespace

std::string_view to_string(JobState state) {
  for (const auto& [value, name] : kStateNames)
    if (value == state) return name;
  return "failed";
}

std::optional<JobState> job_state_from_string(std::string_view name) {
  for (const auto& [value, known] : kStateNames)
    if (known == name) return value;
  return std::nullopt;
}

bool is_finished(JobState state) {
  return state == JobState::succeeded || state == JobState::failed || state == JobState::canceled;
}

std::optional<double> JobProgress::fraction() const {
  if (total <= 0) return std::nullopt;
  return std::clamp(done / total, 0.0, 1.0);
}

std::optional<double> estimate_eta_s(double elapsed_s, std::optional<double> fraction) {
  // Early in a stage the rate is dominated by start-up costs; an estimate
  // from the first percent or first second would mislead more than help.
  if (!fraction || *fraction < 0.01 || elapsed_s < 1.0) return std::nullopt;
  if (*fraction >= 1.0) return 0.0;
  return elapsed_s * (1.0 - *fraction) / *fraction;
}

nlohmann::json job_to_json(const Job& job, std::optional<std::size_t> queue_position) {
  nlohmann::json progress = {
      {"stage", job.progress.stage},
      {"done", job.progress.done},
      {"total", job.progress.total},
      {"fraction", job.progress.fraction() ? nlohmann::json(*job.progress.fraction()) : nlohmann::json(nullptr)},
      {"eta_s", job.progress.eta_s ? nlohmann::json(*job.progress.eta_s) : nlohmann::json(nullptr)},
  };
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& output : job.outputs)
    outputs.push_back({{"name", output.name}, {"bytes", output.bytes}, {"sha256", output.sha256}});
  nlohmann::json error = nullptr;
  if (job.error) {
    error = {{"code", std::string(to_string(job.error->code))}, {"message", job.error->message}};
    if (!job.error->field.empty()) error["field"] = job.error->field;
  }
  return {
      {"id", job.id},
      {"kind", job.kind},
      {"state", std::string(to_string(job.state))},
      {"progress", progress},
      {"error", error},
      {"outputs", outputs},
      {"result", job.result},
      {"spec", job.spec},
      {"attempts", job.attempts},
      {"queue_position", queue_position ? nlohmann::json(*queue_position) : nlohmann::json(nullptr)},
      {"created_at", format_rfc3339(job.created_at)},
      {"started_at", optional_time(job.started_at)},
      {"finished_at", optional_time(job.finished_at)},
  };
}

Result<Job> job_from_json(const nlohmann::json& json) {
  if (!json.is_object()) return fail(bad_record("expected a JSON object", ""));
  Job job;
  try {
    job.id = json.at("id").get<std::string>();
    if (!is_valid_job_id(job.id)) return fail(bad_record("invalid id '" + job.id + "'", "id"));
    job.kind = json.at("kind").get<std::string>();
    auto state = job_state_from_string(json.at("state").get<std::string>());
    if (!state) return fail(bad_record("unknown state", "state"));
    job.state = *state;
    if (auto it = json.find("progress"); it != json.end() && it->is_object()) {
      job.progress.stage = it->value("stage", "");
      job.progress.done = it->value("done", 0.0);
      job.progress.total = it->value("total", 0.0);
      if (auto eta = it->find("eta_s"); eta != it->end() && eta->is_number()) job.progress.eta_s = eta->get<double>();
    }
    if (auto it = json.find("error"); it != json.end() && !it->is_null()) {
      job.error = Error{error_code_from_string(it->at("code").get<std::string>()),
                        it->at("message").get<std::string>(), it->value("field", "")};
    }
    for (const auto& output : json.value("outputs", nlohmann::json::array())) {
      JobOutput parsed{output.at("name").get<std::string>(), output.at("bytes").get<std::uint64_t>(),
                       output.at("sha256").get<std::string>()};
      job.outputs.push_back(std::move(parsed));
    }
    if (auto it = json.find("result"); it != json.end()) job.result = *it;
    job.spec = json.at("spec");
    job.attempts = json.value("attempts", 0);
  } catch (const nlohmann::json::exception& e) {
    return fail(bad_record(e.what(), ""));
  }
  auto created = read_optional_time(json, "created_at");
  if (!created) return fail(created.error());
  job.created_at = created->value_or(TimePoint{});
  auto started = read_optional_time(json, "started_at");
  if (!started) return fail(started.error());
  job.started_at = *started;
  auto finished = read_optional_time(json, "finished_at");
  if (!finished) return fail(finished.error());
  job.finished_at = *finished;
  return job;
}

std::string format_rfc3339(TimePoint time) {
  auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  auto millis = (since_epoch - seconds).count();
  std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return text;
}

Result<TimePoint> parse_rfc3339(std::string_view text) {
  std::tm utc{};
  int millis = 0;
  auto invalid = [&] {
    return fail(ErrorCode::invalid_argument,
                "invalid timestamp '" + std::string(text) + "': expected YYYY-MM-DDTHH:MM:SS[.fff]Z");
  };
  auto number = [&](std::size_t at, std::size_t width, int& out) {
    if (at + width > text.size()) return false;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + width, out);
    return ec == std::errc() && end == text.data() + at + width;
  };
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z')
    return invalid();
  if (!number(0, 4, year) || !number(5, 2, month) || !number(8, 2, day) || !number(11, 2, hour) ||
      !number(14, 2, minute) || !number(17, 2, second))
    return invalid();
  if (text.size() > 20) {
    if (text[19] != '.' || text.size() < 22) return invalid();
    std::string_view fraction = text.substr(20, text.size() - 21);
    std::string digits(fraction.substr(0, 3));
    digits.resize(3, '0');
    if (!std::all_of(fraction.begin(), fraction.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return invalid();
    millis = std::stoi(digits);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return invalid();
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  std::time_t t = timegm(&utc);
  return TimePoint{std::chrono::seconds(t) + std::chrono::milliseconds(millis)};
}

std::string new_job_id() {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  thread_local std::random_device device;
  std::string id;
  id.reserve(26);
  // 26 symbols of 5 bits each; random_device gives 32 bits per call.
  while (id.size() < 26) {
    std::uint32_t bits = device();
    for (int i = 0; i < 6 && id.size() < 26; ++i, bits >>= 5) id.push_back(kAlphabet[bits & 31]);
  }
  return id;
}

bool is_valid_job_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace ferry::agent::jobs
