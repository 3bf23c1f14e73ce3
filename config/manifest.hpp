#pragma once
// The YAML manifest, parsed into typed structs. Every error names the file,
// line and column, the field, what was expected and, for unknown keys, the
// closest known key ("did you mean 'resources'?").

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/error.hpp"
#include "config/job_spec.hpp"
#include "config/units.hpp"

namespace ferry::config {

/// Where a value came from, for error messages: "stems.yaml:12:7".
struct SourceLocation {
  std::string file;
  int line = 0;    ///< 1-based
  int column = 0;  ///< 1-based
  std::string to_string() const;
};

struct GpuRequest {
  Range<std::uint64_t> memory_bytes;  ///< per GPU
  Range<double> count{1.0, 1.0};
  std::vector<std::string> names;     ///< e.g. "RTX_4090", "A100"; empty = any
};

struct Resources {
  std::optional<GpuRequest> gpu;       ///< absent: CPU only
  std::optional<std::uint64_t> disk_bytes;
  std::optional<double> max_price_per_hour;
  bool spot = false;
};

/// One entry of `inputs:`: a local glob/path (relative to the manifest's
/// folder) or an http(s) URL the agent fetches.
struct InputSource {
  enum class Kind { path, url };
  Kind kind = Kind::path;
  std::string text;
  SourceLocation where;
};

/// A manifest job entry: its inputs as written and the parameters sent to the
/// agent (one agent job per expanded input file).
struct JobEntry {
  std::vector<InputSource> inputs;
  JobParams params;
  SourceLocation where;
};

struct Manifest {
  std::filesystem::path file;        ///< the manifest itself
  std::filesystem::path base_dir;    ///< its folder: relative paths start here
  std::string name;                  ///< defaults to the file's stem
  std::string provider = "local";    ///< vast | runpod | fly | local
  int instances = 1;
  Resources resources;
  std::string image;                 ///< empty: the provider's default
  std::optional<std::chrono::milliseconds> idle_timeout;
  std::optional<std::chrono::milliseconds> max_duration;
  std::optional<double> budget;      ///< dollars for the whole run
  std::filesystem::path output;      ///< absolute, default base_dir/results
  std::vector<JobEntry> jobs;
};

/// Parses YAML text; `file` is used for messages and to resolve relative paths.
/// Errors: invalid_argument (message "file:line:column: path: ...", `field`
/// = the path), unsupported for job kinds not in this build, and
/// resource_exhausted for text over 1 MiB.
Result<Manifest> parse_manifest(std::string_view yaml, const std::filesystem::path& file);
/// Reads and parses a manifest file; a missing file is not_found.
Result<Manifest> load_manifest(const std::filesystem::path& file);

}  // namespace ferry::config
