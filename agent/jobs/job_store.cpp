#include "agent/jobs/job_store.hpp"

#include <algorithm>
#include <system_error>

#include "common/files.hpp"

namespace ferry::agent::jobs {
namespace fs = std::filesystem;
namespace {

Error fs_error(const std::string& what, const fs::path& path, const std::error_code& ec) {
  return Error{ErrorCode::io_error, what + " '" + path.string() + "': " + ec.message(), {}};
}

}  // namespace

Recovery recover_after_restart(Job& job) {
  if (is_finished(job.state)) return Recovery::keep;
  if (job.state == JobState::running && job.attempts >= kMaxAttempts) {
    job.state = JobState::failed;
    job.error = Error{ErrorCode::internal,
                      "interrupted: the agent stopped while this job was running (" +
                          std::to_string(job.attempts) + " attempts)",
                      {}};
    job.finished_at = Clock::now();
    return Recovery::mark_failed;
  }
  job.state = JobState::queued;
  job.progress = JobProgress{};
  job.outputs.clear();
  job.started_at.reset();
  return Recovery::requeue;
}

Result<JobStore> JobStore::open(fs::path root) {
  std::error_code ec;
  fs::create_directories(root / "uploads", ec);
  if (ec) return fail(fs_error("cannot create the jobs folder", root, ec));
  return JobStore(std::move(root));
}

Status JobStore::create(const Job& job) const {
  std::error_code ec;
  for (const auto& dir : {inputs_dir(job.id), outputs_dir(job.id), scratch_dir(job.id)}) {
    fs::create_directories(dir, ec);
    if (ec) return fail(fs_error("cannot create", dir, ec));
  }
  return save(job);
}

Status JobStore::save(const Job& job) const {
  return write_file_atomic(record_path(job.id), job_to_json(job).dump(2) + "\n");
}

Status JobStore::reset_dir(const fs::path& dir) const {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return fail(fs_error("cannot clear", dir, ec));
  fs::create_directories(dir, ec);
  if (ec) return fail(fs_error("cannot create", dir, ec));
  return {};
}

Status JobStore::remove(const std::string& id) const {
  std::error_code ec;
  fs::remove_all(job_dir(id), ec);
  if (ec) return fail(fs_error("cannot remove", job_dir(id), ec));
  return {};
}

JobStore::Loaded JobStore::load_all() const {
  Loaded loaded;
  std::error_code ec;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name == "uploads" || !it->is_directory()) continue;
    const auto record = it->path() / "job.json";
    auto text = read_file(record);
    if (!text) {
      loaded.warnings.push_back("skipping '" + it->path().string() + "': no readable job.json");
      continue;
    }
    auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      loaded.warnings.push_back("skipping '" + record.string() + "': not valid JSON");
      continue;
    }
    auto job = job_from_json(json);
    if (!job) {
      loaded.warnings.push_back("skipping '" + record.string() + "': " + job.error().describe());
      continue;
    }
    if (job->id != name) {
      loaded.warnings.push_back("skipping '" + record.string() + "': its id '" + job->id +
                                "' does not match the folder name");
      continue;
    }
    loaded.jobs.push_back(std::move(*job));
  }
  if (ec) loaded.warnings.push_back("cannot list '" + root_.string() + "': " + ec.message());
  std::stable_sort(loaded.jobs.begin(), loaded.jobs.end(),
                   [](const Job& a, const Job& b) { return a.created_at < b.created_at; });
  return loaded;
}

}  // namespace ferry::agent::jobs
