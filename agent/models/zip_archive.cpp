#include "agent/models/zip_archive.hpp"

#include <array>
#include <unordered_map>

#include <fmt/format.h>

namespace ferry::models {
namespace {

constexpr std::uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr std::uint32_t kEndOfDirectorySignature = 0x06054b50;
constexpr std::uint32_t kZip64EndOfDirectorySignature = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::size_t kEndOfDirectorySize = 22;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kMaxCommentSize = 0xffff;
// Checkpoints hold one entry per tensor storage: a few thousand at most.
constexpr std::uint64_t kMaxEntries = 1'000'000;

tl::unexpected<Error> corrupt(std::string what) {
  return fail(ErrorCode::data_loss, "checkpoint archive is corrupt or truncated: " + std::move(what));
}

// Little-endian reads at an absolute position, bounds-checked.
class ByteView {
 public:
  explicit ByteView(std::string_view bytes) : bytes_(bytes) {}
  bool has(std::uint64_t pos, std::uint64_t count) const {
    return pos <= bytes_.size() && count <= bytes_.size() - pos;
  }
  std::uint64_t read(std::uint64_t pos, int width) const {
    std::uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) {
      value = (value << 8) | static_cast<unsigned char>(bytes_[pos + i]);
    }
    return value;
  }
  std::uint32_t u32(std::uint64_t pos) const { return static_cast<std::uint32_t>(read(pos, 4)); }
  std::uint16_t u16(std::uint64_t pos) const { return static_cast<std::uint16_t>(read(pos, 2)); }
  std::uint64_t u64(std::uint64_t pos) const { return read(pos, 8); }
  std::string_view slice(std::uint64_t pos, std::uint64_t count) const {
    return bytes_.substr(pos, count);
  }
  std::uint64_t size() const { return bytes_.size(); }

 private:
  std::string_view bytes_;
};

struct Directory {
  std::uint64_t entries = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

Result<std::uint64_t> find_end_of_directory(const ByteView& view) {
  if (view.size() < kEndOfDirectorySize) return corrupt("too short to be a ZIP file");
  const std::uint64_t last = view.size() - kEndOfDirectorySize;
  const std::uint64_t first = last > kMaxCommentSize ? last - kMaxCommentSize : 0;
  for (std::uint64_t pos = last + 1; pos-- > first;) {
    if (view.u32(pos) == kEndOfDirectorySignature &&
        pos + kEndOfDirectorySize + view.u16(pos + 20) == view.size()) {
      return pos;
    }
  }
  return corrupt("no end-of-central-directory record (not a ZIP file, or cut short)");
}

Result<Directory> read_directory_location(const ByteView& view, std::uint64_t eocd) {
  Directory dir{view.u16(eocd + 10), view.u32(eocd + 16), view.u32(eocd + 12)};
  const bool needs_zip64 = dir.entries == 0xffff || dir.offset == 0xffffffff || dir.size == 0xffffffff;
  if (!needs_zip64) return dir;
  if (eocd < 20 || view.u32(eocd - 20) != kZip64LocatorSignature) {
    return corrupt("ZIP64 fields without a ZIP64 locator");
  }
  const std::uint64_t record = view.u64(eocd - 20 + 8);
  if (!view.has(record, 56) || view.u32(record) != kZip64EndOfDirectorySignature) {
    return corrupt("ZIP64 end-of-central-directory record is missing or out of bounds");
  }
  return Directory{view.u64(record + 32), view.u64(record + 48), view.u64(record + 40)};
}

// Replaces 0xffffffff placeholders with the values of the ZIP64 extra field,
// which lists them in a fixed order: size, compressed size, header offset.
Status apply_zip64_extra(const ByteView& view, std::uint64_t extra, std::uint64_t extra_len,
                         std::uint64_t& size, std::uint64_t& compressed, std::uint64_t& local_offset) {
  std::uint64_t pos = extra;
  const std::uint64_t end = extra + extra_len;
  while (pos + 4 <= end) {
    const std::uint16_t id = view.u16(pos);
    const std::uint16_t len = view.u16(pos + 2);
    if (pos + 4 + len > end) return corrupt("extra field runs past its header");
    if (id == kZip64ExtraId) {
      std::uint64_t field = pos + 4;
      for (std::uint64_t* value : {&size, &compressed, &local_offset}) {
        if (*value != 0xffffffff) continue;
        if (field + 8 > pos + 4 + len) return corrupt("ZIP64 extra field too short");
        *value = view.u64(field);
        field += 8;
      }
      return {};
    }
    pos += 4 + len;
  }
  if (size == 0xffffffff || compressed == 0xffffffff || local_offset == 0xffffffff) {
    return corrupt("entry needs a ZIP64 extra field but has none");
  }
  return {};
}

}  // namespace

std::uint32_t crc32(std::string_view bytes) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xffffffffu;
  for (char ch : bytes) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

Result<ZipArchive> ZipArchive::open(std::string_view bytes) {
  const ByteView view(bytes);
  auto eocd = find_end_of_directory(view);
  if (!eocd) return fail(eocd.error());
  auto dir = read_directory_location(view, *eocd);
  if (!dir) return fail(dir.error());
  if (dir->entries > kMaxEntries) {
    return fail(ErrorCode::resource_exhausted,
                fmt::format("checkpoint archive declares {} entries (limit {})", dir->entries, kMaxEntries));
  }
  if (!view.has(dir->offset, dir->size) || dir->offset + dir->size > *eocd) {
    return corrupt("central directory lies outside the file");
  }

  ZipArchive archive;
  archive.bytes_ = bytes;
  std::uint64_t pos = dir->offset;
  const std::uint64_t dir_end = dir->offset + dir->size;
  for (std::uint64_t i = 0; i < dir->entries; ++i) {
    if (pos + kCentralHeaderSize > dir_end || view.u32(pos) != kCentralHeaderSignature) {
      return corrupt(fmt::format("central directory entry {} is missing or malformed", i));
    }
    const std::uint16_t flags = view.u16(pos + 8);
    const std::uint16_t method = view.u16(pos + 10);
    const std::uint32_t crc = view.u32(pos + 16);
    std::uint64_t compressed = view.u32(pos + 20);
    std::uint64_t size = view.u32(pos + 24);
    const std::uint64_t name_len = view.u16(pos + 28);
    const std::uint64_t extra_len = view.u16(pos + 30);
    const std::uint64_t comment_len = view.u16(pos + 32);
    std::uint64_t local_offset = view.u32(pos + 42);
    const std::uint64_t name_pos = pos + kCentralHeaderSize;
    if (name_pos + name_len + extra_len + comment_len > dir_end) {
      return corrupt(fmt::format("central directory entry {} runs past the directory", i));
    }
    std::string name(view.slice(name_pos, name_len));
    if (auto ok = apply_zip64_extra(view, name_pos + name_len, extra_len, size, compressed, local_offset); !ok) {
      return fail(ok.error());
    }
    if (flags & 0x1) {
      return fail(ErrorCode::unsupported, "checkpoint archive entry '" + name + "' is encrypted");
    }
    if (method != 0) {
      return fail(ErrorCode::unsupported,
                  fmt::format("checkpoint archive entry '{}' is compressed (method {}); PyTorch checkpoints "
                              "store entries uncompressed: re-save the file with torch.save",
                              name, method));
    }
    if (compressed != size) return corrupt("stored entry '" + name + "' has differing sizes");
    if (!view.has(local_offset, kLocalHeaderSize) || view.u32(local_offset) != kLocalHeaderSignature) {
      return corrupt("local header of entry '" + name + "' is missing");
    }
    const std::uint64_t data_offset =
        local_offset + kLocalHeaderSize + view.u16(local_offset + 26) + view.u16(local_offset + 28);
    if (!view.has(data_offset, size) || data_offset + size > dir->offset) {
      return corrupt("data of entry '" + name + "' runs past the end of the file");
    }
    if (!archive.index_.emplace(name, archive.entries_.size()).second) {
      return corrupt("duplicate entry '" + name + "'");
    }
    archive.entries_.push_back(ZipEntry{std::move(name), data_offset, size, crc});
    pos = name_pos + name_len + extra_len + comment_len;
  }
  return archive;
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

Result<std::string_view> ZipArchive::read(const ZipEntry& entry) const {
  std::string_view data = bytes_.substr(entry.data_offset, entry.size);
  if (crc32(data) != entry.crc32) {
    return corrupt("CRC-32 mismatch in entry '" + entry.name + "'");
  }
  return data;
}

}  // namespace ferry::models
