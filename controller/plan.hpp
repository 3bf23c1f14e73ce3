#pragma once
// From a manifest to the list of agent jobs a run submits: input globs
// expanded, one job per (job entry, input), ids and output names chosen so
// that retries are safe and outputs of different jobs never overwrite each
// other. Pure apart from the file-system lookups of expand_input.
//
// Chained entries: an entry may take as input a file that an earlier entry of
// the same manifest produces, like `- loop: {input: results/track.mp3}` after
// a convert into `results/`. A plain path (no glob, not a URL) that lies
// inside the manifest's `output` folder and does not exist when the plan is
// made is such a file: its job waits until every job of the earlier entries
// has finished and its outputs are downloaded, then the file is looked up
// and uploaded. If it still does not exist then, that job fails with an
// error naming it and listing the earlier outputs.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.hpp"
#include "config/manifest.hpp"

namespace ferry::controller {

/// One concrete input: a local file (uploaded) or a URL (fetched by the agent).
struct PlannedInput {
  bool is_url = false;
  std::filesystem::path file;  ///< absolute, for local files
  std::string url;             ///< for URLs
  std::string name;            ///< file name, used by the agent to name outputs
  /// The file is an output of an earlier entry, awaited (see above).
  bool from_earlier_entry = false;
  /// No input at all: the job makes audio from a description (generate);
  /// `name` is then the outputs' file stem.
  bool generated = false;
  config::SourceLocation where;  ///< where the manifest names it, for messages
  /// As the user sees it: the absolute path, or the URL.
  std::string shown() const;
  /// The size a job's time is estimated on: 0 for a generated job, the
  /// local file's size when it exists now, nullopt for a URL or a file not
  /// made yet (an earlier entry's output, at plan time).
  std::optional<std::uint64_t> size_now() const;
};

/// One agent job.
struct PlannedJob {
  std::string key;          ///< "e1-i2": entry and input number, unique in the plan
  int entry_index = 0;      ///< position in `jobs:` (0-based)
  std::string kind;         ///< "convert", "loop"
  std::string summary;      ///< "mp3", "flac, 2s segments"
  PlannedInput input;
  config::JobParams params;
  int output_suffix = 0;    ///< > 0: outputs are renamed "<stem>-<suffix>..." to avoid a clash
  std::string label() const;  ///< "talk.wav -> mp3"
};

struct Plan {
  std::string name;
  std::string provider;
  std::filesystem::path manifest;
  std::filesystem::path output_dir;
  std::vector<PlannedJob> jobs;
  /// Distinct local files to upload, in first-use order.
  std::vector<std::filesystem::path> uploads;
};

/// Expands one `inputs:` entry relative to `base_dir`. A glob without a match,
/// or a plain path that does not exist or is not a regular file, is an error
/// naming it (and where the manifest says it).
Result<std::vector<PlannedInput>> expand_input(const config::InputSource& source,
                                               const std::filesystem::path& base_dir);

/// A key that is equal for two jobs whose outputs would carry the same
/// names: same input file name and same output kind and extension.
std::string output_clash_key(const std::string& input_name, const config::JobParams& params);

/// For each key in plan order: 0 for the first job with that key, 2, 3, ...
/// for later ones. Deterministic: depends only on the order of the plan.
std::vector<int> assign_output_suffixes(const std::vector<std::string>& keys);

/// The local file name for an agent output: unchanged for suffix 0, else
/// "-<suffix>" inserted after the input's stem when the output name starts
/// with it ("song.000.flac" -> "song-2.000.flac"), or before the first dot.
std::string local_output_name(const std::string& output_name, const std::string& input_name, int suffix);

/// True when `path` lies inside `folder` (both absolute and normalised).
bool is_inside(const std::filesystem::path& path, const std::filesystem::path& folder);

/// An output of an earlier entry that `source`, in entry number
/// `entry_index`, names: set when the rule above applies, else nullopt.
std::optional<PlannedInput> awaited_input(const config::InputSource& source, const std::filesystem::path& base_dir,
                                          const std::filesystem::path& output_dir, int entry_index);

/// Checks, once the earlier entries are done, that an awaited input now
/// exists as a regular file; the error names it, where the manifest asks for
/// it and which files the earlier entries brought home (`earlier_outputs`).
Status check_awaited_input(const PlannedInput& input, const std::vector<std::filesystem::path>& earlier_outputs);

/// Builds the plan; errors are the first input that does not resolve.
Result<Plan> build_plan(const config::Manifest& manifest);

/// Human-readable plan, several lines.
std::string describe_plan(const Plan& plan);
/// The plan as JSON (for `--dry-run --json`).
nlohmann::json plan_to_json(const Plan& plan);

}  // namespace ferry::controller
