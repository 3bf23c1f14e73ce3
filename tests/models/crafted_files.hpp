#pragma once
// Builders for hand-made checkpoint files: ZIP archives with stored entries,
// pickles opcode by opcode, safetensors files. Tests use them to make valid
// files and precisely broken or hostile ones.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/models/zip_archive.hpp"

namespace ferry::models::testing {

inline void put_le(std::string& out, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

/// A ZIP archive of stored entries, laid out like PyTorch's writer (local
/// headers, data, central directory, end record). `method` marks every entry
/// with that compression method without compressing, to test refusals.
inline std::string make_zip(const std::vector<std::pair<std::string, std::string>>& entries, int method = 0) {
  std::string out, directory;
  for (const auto& [name, data] : entries) {
    const std::uint64_t offset = out.size();
    const std::uint32_t crc = crc32(data);
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2);
    put_le(out, 0, 2);
    put_le(out, method, 2);
    put_le(out, 0, 4);
    put_le(out, crc, 4);
    put_le(out, data.size(), 4);
    put_le(out, data.size(), 4);
    put_le(out, name.size(), 2);
    put_le(out, 0, 2);
    out += name;
    out += data;
    put_le(directory, 0x02014b50, 4);
    put_le(directory, 20, 2);
    put_le(directory, 20, 2);
    put_le(directory, 0, 2);
    put_le(directory, method, 2);
    put_le(directory, 0, 4);
    put_le(directory, crc, 4);
    put_le(directory, data.size(), 4);
    put_le(directory, data.size(), 4);
    put_le(directory, name.size(), 2);
    put_le(directory, 0, 2);
    put_le(directory, 0, 2);
    put_le(directory, 0, 2);
    put_le(directory, 0, 2);
    put_le(directory, 0, 4);
    put_le(directory, offset, 4);
    directory += name;
  }
  const std::uint64_t directory_offset = out.size();
  out += directory;
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 2);
  put_le(out, 0, 2);
  put_le(out, entries.size(), 2);
  put_le(out, entries.size(), 2);
  put_le(out, directory.size(), 4);
  put_le(out, directory_offset, 4);
  put_le(out, 0, 2);
  return out;
}

/// Writes pickle opcodes (protocol 2, as torch.save does).
class PickleWriter {
 public:
  PickleWriter() { bytes_ += "\x80\x02"; }
  PickleWriter& op(char opcode) { bytes_.push_back(opcode); return *this; }
  PickleWriter& raw(const std::string& data) { bytes_ += data; return *this; }
  PickleWriter& string(const std::string& s) {
    bytes_.push_back('X');
    put_le(bytes_, s.size(), 4);
    bytes_ += s;
    return *this;
  }
  PickleWriter& integer(std::int32_t v) {
    bytes_.push_back('J');
    put_le(bytes_, static_cast<std::uint32_t>(v), 4);
    return *this;
  }
  PickleWriter& global(const std::string& module, const std::string& name) {
    bytes_ += "c" + module + "\n" + name + "\n";
    return *this;
  }
  PickleWriter& mark() { return op('('); }
  PickleWriter& tuple() { return op('t'); }
  PickleWriter& empty_tuple() { return op(')'); }
  PickleWriter& empty_dict() { return op('}'); }
  PickleWriter& setitems() { return op('u'); }
  PickleWriter& reduce() { return op('R'); }
  PickleWriter& put(std::uint8_t index) { bytes_.push_back('q'); bytes_.push_back(static_cast<char>(index)); return *this; }
  PickleWriter& get(std::uint8_t index) { bytes_.push_back('h'); bytes_.push_back(static_cast<char>(index)); return *this; }
  /// A _rebuild_tensor_v2 call over storage `key` of `numel` elements of `storage_class`.
  PickleWriter& tensor(const std::string& key, const std::string& storage_class, std::int32_t numel,
                       const std::vector<std::int32_t>& sizes, const std::vector<std::int32_t>& strides,
                       std::int32_t offset = 0) {
    global("torch._utils", "_rebuild_tensor_v2").mark();
    mark().string("storage").global("torch", storage_class).string(key).string("cpu").integer(numel).tuple().op('Q');
    integer(offset);
    mark();
    for (auto s : sizes) integer(s);
    tuple().mark();
    for (auto s : strides) integer(s);
    tuple();
    op('\x89');
    global("collections", "OrderedDict").empty_tuple().reduce();
    return tuple().reduce();
  }
  std::string finish() { return bytes_ + "."; }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

/// A torch.save-style archive around `pickle` and storages {key, bytes}.
inline std::string make_torch_zip(const std::string& pickle,
                                  const std::vector<std::pair<std::string, std::string>>& storages) {
  std::vector<std::pair<std::string, std::string>> entries{{"archive/data.pkl", pickle}};
  for (const auto& [key, data] : storages) entries.emplace_back("archive/data/" + key, data);
  entries.emplace_back("archive/version", "3\n");
  return make_zip(entries);
}

/// A safetensors file from a JSON header and the data section.
inline std::string make_safetensors(const std::string& header, const std::string& data) {
  std::string out;
  put_le(out, header.size(), 8);
  return out + header + data;
}

}  // namespace ferry::models::testing
