#include <string>

#include "agent/jobs/job_manager.hpp"
#include "common/http_client.hpp"

namespace ferry::agent::jobs {
namespace {

// Whole-transfer limit for one URL input; large media on a slow origin can
// take a while, but a fetch that hangs must not hold the queue forever.
constexpr std::chrono::hours kUrlFetchTimeout{2};

std::string default_input_name(const config::InputRef& ref, std::size_t index) {
  if (!ref.name.empty()) return ref.name;
  std::string_view path = ref.url;
  if (auto query = path.find_first_of("?#"); query != std::string_view::npos) path = path.substr(0, query);
  if (auto slash = path.rfind('/'); slash != std::string_view::npos) path = path.substr(slash + 1);
  return path.empty() ? "input-" + std::to_string(index) : std::string(path);
}

Result<LocalInput> fetch_url(const config::InputRef& ref, std::size_t index, const std::filesystem::path& inputs_dir,
                             std::uint64_t max_bytes, const std::atomic<bool>& cancel) {
  const auto destination = inputs_dir / ("input-" + std::to_string(index));
  const std::string field = "inputs[" + std::to_string(index) + "].url";
  HttpClient client;
  HttpRequest request;
  request.url = ref.url;
  request.timeout = kUrlFetchTimeout;
  auto response = client.download(request, destination, max_bytes,
                                  [&](std::uint64_t, std::uint64_t) { return !cancel.load(); });
  if (!response) {
    std::error_code ec;
    std::filesystem::remove(destination, ec);
    if (cancel) return fail(ErrorCode::cancelled, "canceled while fetching " + ref.url);
    Error error = response.error();
    error.message = "cannot fetch input " + ref.url + ": " + error.message;
    error.field = field;
    return fail(std::move(error));
  }
  if (response->status < 200 || response->status >= 300) {
    std::error_code ec;
    std::filesystem::remove(destination, ec);
    return fail(ErrorCode::unavailable,
                "cannot fetch input " + ref.url + ": the server answered HTTP " + std::to_string(response->status),
                field);
  }
  return LocalInput{destination, default_input_name(ref, index)};
}

}  // namespace

InputResolver make_input_resolver(const JobStore& store, std::uint64_t max_url_bytes) {
  return [store, max_url_bytes](const config::JobSpec& spec, const std::filesystem::path& inputs_dir,
                                const std::atomic<bool>& cancel) -> Result<std::vector<LocalInput>> {
    std::vector<LocalInput> inputs;
    for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
      const auto& ref = spec.inputs[i];
      if (!ref.upload_sha256.empty()) {
        inputs.push_back({store.upload_path(ref.upload_sha256), ref.name.empty() ? ref.upload_sha256 : ref.name});
        continue;
      }
      auto fetched = fetch_url(ref, i, inputs_dir, max_url_bytes, cancel);
      if (!fetched) return fail(fetched.error());
      inputs.push_back(std::move(*fetched));
    }
    return inputs;
  };
}

}  // namespace ferry::agent::jobs
