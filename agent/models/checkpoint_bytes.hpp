#pragma once
// The bytes of a checkpoint file, mapped into memory read-only instead of
// read into a buffer: a 5 GB safetensors file then costs address space, not
// 5 GB of memory next to the tensors made from it. Pages come in from the
// file as they are touched and go out again once a tensor has been copied
// (`release`), so loading needs about the converted weights plus one tensor.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace ferry::models {

/// Largest checkpoint file read by default: well above the biggest published
/// model file we serve (ACE-Step's 4.8 GB DiT), below anything absurd.
inline constexpr std::uint64_t kDefaultMaxCheckpointBytes = 64ull << 30;

/// Read-only bytes of a checkpoint: a memory map of its file, or a string held
/// in memory (crafted files, the fuzzer). Views into `view()` stay valid as
/// long as this object lives. Not copyable; share it through shared_ptr.
class CheckpointBytes {
 public:
  /// Maps `path` read-only. Refuses (resource_exhausted) a file over
  /// `max_bytes`, naming both sizes; not_found or io_error otherwise.
  /// The file must not shrink while mapped (checkpoints are published by
  /// rename, so a file in place never does).
  static Result<std::shared_ptr<const CheckpointBytes>> map_file(const std::filesystem::path& path,
                                                                  std::uint64_t max_bytes = kDefaultMaxCheckpointBytes);
  /// Holds `bytes` in memory.
  static std::shared_ptr<const CheckpointBytes> hold(std::shared_ptr<const std::string> bytes);

  CheckpointBytes(const CheckpointBytes&) = delete;
  CheckpointBytes& operator=(const CheckpointBytes&) = delete;
  ~CheckpointBytes();

  std::string_view view() const { return view_; }
  /// Whether the bytes are a memory map of a file.
  bool is_mapped() const { return mapping_ != nullptr; }

  /// Says the caller is done with `range` (a view into `view()`) for now: a
  /// mapping drops those pages from the process's resident memory (reading
  /// them again brings them back from the file); held strings are unaffected.
  void release(std::string_view range) const;

 private:
  CheckpointBytes() = default;
  void* mapping_ = nullptr;
  std::size_t mapped_size_ = 0;
  std::shared_ptr<const std::string> held_;
  std::string_view view_;
};

}  // namespace ferry::models
