#pragma once
// A read-only view of a ZIP archive held in memory, limited to what PyTorch's
// checkpoint writer produces: entries stored without compression, optional
// ZIP64 records. Every offset and size is checked against the buffer before
// use, so a truncated or hostile file yields an error, never a bad read.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"

namespace ferry::models {

/// One stored file of the archive, as listed by the central directory.
struct ZipEntry {
  std::string name;
  std::uint64_t data_offset = 0;  ///< where the entry's bytes start in the buffer
  std::uint64_t size = 0;         ///< bytes (stored entries: compressed == uncompressed)
  std::uint32_t crc32 = 0;        ///< as declared by the central directory
};

/// CRC-32 (IEEE 802.3, the ZIP polynomial) of `bytes`.
std::uint32_t crc32(std::string_view bytes);

/// The parsed central directory of an archive whose bytes outlive it.
class ZipArchive {
 public:
  /// Parses the central directory of `bytes` (which must stay alive as long
  /// as the archive). Refuses compressed or encrypted entries, entries that
  /// overlap the directory or run past the end, and absurd entry counts.
  static Result<ZipArchive> open(std::string_view bytes);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  /// The entry called `name`, or nullptr.
  const ZipEntry* find(std::string_view name) const;
  /// The bytes of `entry`, after checking its CRC-32.
  Result<std::string_view> read(const ZipEntry& entry) const;

 private:
  std::string_view bytes_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace ferry::models
