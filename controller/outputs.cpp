#include "controller/outputs.hpp"

#include <unistd.h>

#include "common/files.hpp"
#include "common/sha256.hpp"

namespace ferry::controller {
namespace {

namespace fs = std::filesystem;

// Removes a temporary download unless it was published.
struct PartialFile {
  fs::path path;
  ~PartialFile() {
    if (!path.empty()) {
      std::error_code ignored;
      fs::remove(path, ignored);
    }
  }
};

Status verify_download(const fs::path& file, const AgentOutput& expected, const std::string& what) {
  std::error_code error;
  auto size = fs::file_size(file, error);
  if (error) return fail(ErrorCode::io_error, what + ": cannot read the downloaded file '" + file.string() + "'");
  if (size != expected.bytes)
    return fail(ErrorCode::data_loss, what + ": received " + std::to_string(size) + " bytes, the agent reported " +
                                          std::to_string(expected.bytes));
  auto digest = sha256_file(file);
  if (!digest) return fail(digest.error());
  if (*digest != expected.sha256)
    return fail(ErrorCode::data_loss, what + ": sha256 " + *digest + " does not match the agent's " + expected.sha256);
  return {};
}

}  // namespace

Result<std::vector<fs::path>> fetch_outputs(AgentClient& agent, const std::string& agent_job_id,
                                            const AgentJob& agent_job, const PlannedJob& job,
                                            const fs::path& output_dir) {
  std::error_code error;
  fs::create_directories(output_dir, error);
  if (error)
    return fail(ErrorCode::io_error, "cannot create the output folder '" + output_dir.string() + "': " + error.message(),
                output_dir.string());
  std::vector<fs::path> published;
  for (const auto& output : agent_job.outputs) {
    const std::string what = "output '" + output.name + "' of " + job.input.shown();
    if (!is_safe_name(output.name))
      return fail(ErrorCode::data_loss, what + ": the agent sent an unsafe file name; refusing to write it");
    fs::path final_path = output_dir / local_output_name(output.name, job.input.name, job.output_suffix);
    PartialFile partial{output_dir / ("." + final_path.filename().string() + ".part-" + std::to_string(::getpid()))};
    if (auto fetched = agent.download_output(agent_job_id, output.name, partial.path); !fetched)
      return fail(fetched.error());
    if (auto verified = verify_download(partial.path, output, what); !verified) return fail(verified.error());
    if (auto moved = publish_file(partial.path, final_path); !moved) return fail(moved.error());
    partial.path.clear();
    published.push_back(final_path);
  }
  return published;
}

}  // namespace ferry::controller
