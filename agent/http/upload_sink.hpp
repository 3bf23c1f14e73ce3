#pragma once
// Receives an upload in pieces: writes them to a hidden temporary file in the
// uploads folder, hashes them on the way and enforces the size limit, then
// publishes the file under its sha256. Nothing is ever held in memory, and a
// file with a digest for a name is always complete.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/sha256.hpp"

namespace ferry::agent::http {

struct UploadReceipt {
  std::string sha256;
  std::uint64_t bytes = 0;
};

class UploadSink {
 public:
  /// Opens a temporary file in `uploads_dir`.
  static Result<std::unique_ptr<UploadSink>> create(const std::filesystem::path& uploads_dir, std::uint64_t max_bytes);
  ~UploadSink();  ///< deletes the temporary file unless finished
  UploadSink(const UploadSink&) = delete;
  UploadSink& operator=(const UploadSink&) = delete;

  /// Appends a piece. resource_exhausted once the total passes the limit
  /// (the partial file is deleted at once), io_error when the disk fails.
  Status write(const void* data, std::size_t size);
  /// Checks `expected_sha256` (lowercase hex, or empty to skip) and publishes
  /// the file as `<uploads_dir>/<sha256>`. A mismatch is data_loss and the
  /// data is discarded.
  Result<UploadReceipt> finish(std::string_view expected_sha256);
  /// Discards what was received.
  void abort();

  std::uint64_t bytes() const { return bytes_; }

 private:
  UploadSink(std::filesystem::path uploads_dir, std::filesystem::path temp_path, int fd, std::uint64_t max_bytes);

  std::filesystem::path uploads_dir_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  std::uint64_t max_bytes_ = 0;
  std::uint64_t bytes_ = 0;
  Sha256 hasher_;
  bool done_ = false;
};

}  // namespace ferry::agent::http
