#pragma once
// Downloading registry models into the models folder: resumable (ranged
// requests appended to "<name>.partial"), verified by SHA-256 and renamed to
// the final name only when whole and correct. A corrupt file under its final
// name is noticed and fetched again.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "agent/models/registry.hpp"
#include "common/error.hpp"

namespace ferry::models {

/// Knobs of a fetch.
struct FetchOptions {
  /// Bytes asked for per request: a cut connection loses at most this much.
  std::uint64_t request_bytes = 64ull << 20;
  /// (file name, bytes present, bytes expected or 0); cheap to call often.
  std::function<void(const std::string& file, std::uint64_t done, std::uint64_t total)> progress;
};

/// What is on disk for one model file.
enum class FileState {
  missing,   ///< neither the file nor a partial download
  partial,   ///< an interrupted download ("<name>.partial")
  verified,  ///< present with the expected size and digest
  corrupt,   ///< present under its final name but wrong
};
std::string_view to_string(FileState state);

struct FileStatus {
  ModelFile file;
  FileState state = FileState::missing;
  std::uint64_t bytes = 0;  ///< of the file, or of the partial download
};

/// Where a fetch of `file` keeps its unfinished bytes.
std::filesystem::path partial_download_path(const std::filesystem::path& dir, const ModelFile& file);

/// Looks at `file` in `dir`, hashing it when present.
Result<FileStatus> inspect_file(const ModelFile& file, const std::filesystem::path& dir);

/// Makes `dir/<file.name>` present and verified: nothing to do when it
/// already is; otherwise resumes or starts the download. Errors:
/// unavailable / deadline_exceeded (offline: the message says what to
/// download from where and where to put it; the partial file is kept),
/// data_loss (the server's bytes do not match, even after a fresh start),
/// io_error.
Status fetch_file(const ModelFile& file, const std::filesystem::path& dir, const FetchOptions& options = {});

/// Fetches every file of `model` and writes its bag description (<name>.yaml).
Status fetch_model(const RegistryModel& model, const std::filesystem::path& dir, const FetchOptions& options = {});

/// The status of every file of `model`.
Result<std::vector<FileStatus>> inspect_model(const RegistryModel& model, const std::filesystem::path& dir);

}  // namespace ferry::models
