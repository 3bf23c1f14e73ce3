#pragma once
// The on-disk layout of the agent's jobs:
//
//   <root>/uploads/<sha256>        content-addressed uploads
//   <root>/uploads/.incoming-*     uploads being received (never served)
//   <root>/<id>/job.json           the job record, replaced atomically
//   <root>/<id>/inputs/            inputs fetched from URLs
//   <root>/<id>/outputs/           finished outputs
//   <root>/<id>/scratch/           engine temporaries, removed after the run
//
// Restart policy (recover_after_restart): finished jobs are kept as they are
// and keep serving their outputs; queued jobs are queued again; a job that
// was running when the agent stopped (crash, kill, shutdown) is run again
// from scratch with its outputs cleared, because engines cannot resume half
// an output. Each start of a run counts as an attempt; a job whose
// kMaxAttempts-th attempt was interrupted is failed with code `internal`
// rather than retried forever, since a job that repeatedly takes the agent
// down with it would otherwise never let the queue drain.

#include <filesystem>
#include <string>
#include <vector>

#include "agent/jobs/job.hpp"
#include "common/error.hpp"

namespace ferry::agent::jobs {

/// Attempts after which an interrupted job is failed instead of re-run.
inline constexpr int kMaxAttempts = 3;

/// What restarting does to one loaded job.
enum class Recovery {
  keep,          ///< finished: left as is
  requeue,       ///< queued, or interrupted with attempts left: run again
  mark_failed,   ///< interrupted too often: now failed
};

/// Applies the restart policy above to `job` (pure; the caller persists it
/// and clears outputs for a re-run).
Recovery recover_after_restart(Job& job);

class JobStore {
 public:
  /// Creates `root` and its uploads folder when missing.
  static Result<JobStore> open(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path uploads_dir() const { return root_ / "uploads"; }
  /// Where an upload with this digest lives (whether or not it exists).
  std::filesystem::path upload_path(const std::string& sha256) const { return uploads_dir() / sha256; }
  std::filesystem::path job_dir(const std::string& id) const { return root_ / id; }
  std::filesystem::path record_path(const std::string& id) const { return job_dir(id) / "job.json"; }
  std::filesystem::path inputs_dir(const std::string& id) const { return job_dir(id) / "inputs"; }
  std::filesystem::path outputs_dir(const std::string& id) const { return job_dir(id) / "outputs"; }
  std::filesystem::path scratch_dir(const std::string& id) const { return job_dir(id) / "scratch"; }

  /// Creates the job's folders and writes its record.
  Status create(const Job& job) const;
  /// Replaces job.json atomically.
  Status save(const Job& job) const;
  /// Empties (and recreates) a folder of the job: outputs before a re-run,
  /// scratch after one.
  Status reset_dir(const std::filesystem::path& dir) const;
  /// Removes the job's folder with everything in it.
  Status remove(const std::string& id) const;

  struct Loaded {
    std::vector<Job> jobs;              ///< sorted by creation time
    std::vector<std::string> warnings;  ///< one per skipped folder
  };
  /// Reads every `<id>/job.json`; unreadable or corrupt records are skipped
  /// with a warning rather than failing the agent's start.
  Loaded load_all() const;

 private:
  explicit JobStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace ferry::agent::jobs
