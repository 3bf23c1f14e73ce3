#include <algorithm>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "agent/models/checkpoint_contents.hpp"

namespace ferry::models {
namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;  // the format's own limit

std::optional<ElementType> safetensors_type(std::string_view name) {
  if (name == "F16") return ElementType::f16;
  if (name == "BF16") return ElementType::bf16;
  if (name == "F32") return ElementType::f32;
  if (name == "F64") return ElementType::f64;
  if (name == "I64") return ElementType::i64;
  if (name == "I32") return ElementType::i32;
  if (name == "I16") return ElementType::i16;
  if (name == "I8") return ElementType::i8;
  if (name == "U8") return ElementType::u8;
  if (name == "BOOL") return ElementType::boolean;
  return std::nullopt;
}

tl::unexpected<Error> bad(const std::string& what) {
  return fail(ErrorCode::data_loss, "safetensors file is malformed: " + what);
}

}  // namespace

Result<std::vector<NamedTensor>> parse_safetensors(std::string_view bytes) {
  if (bytes.size() < 8) return bad("shorter than its header length");
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<unsigned char>(bytes[i]);
  if (header_size > kMaxHeaderBytes) return bad(fmt::format("header of {} bytes", header_size));
  if (header_size > bytes.size() - 8) return bad("header runs past the end of the file");
  const std::string_view data = bytes.substr(8 + header_size);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_size), nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return bad("header is not a JSON object");

  std::vector<NamedTensor> tensors;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    if (!info.is_object()) return bad("entry '" + name + "' is not an object");
    const auto dtype = info.find("dtype");
    const auto shape = info.find("shape");
    const auto offsets = info.find("data_offsets");
    if (dtype == info.end() || !dtype->is_string() || shape == info.end() || !shape->is_array() ||
        offsets == info.end() || !offsets->is_array() || offsets->size() != 2 ||
        !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
      return bad("entry '" + name + "' lacks dtype, shape or data_offsets");
    }
    const auto type = safetensors_type(dtype->get<std::string>());
    if (!type) {
      return fail(ErrorCode::unsupported,
                  fmt::format("safetensors entry '{}' has unsupported dtype {}", name, dtype->get<std::string>()));
    }
    TensorLayout layout{*type, {}, {}, 0};
    for (const auto& dim : *shape) {
      if (!dim.is_number_unsigned() || dim.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
        return bad("entry '" + name + "' has a bad shape");
      }
      layout.sizes.push_back(static_cast<std::int64_t>(dim.get<std::uint64_t>()));
    }
    layout.strides = contiguous_strides(layout.sizes);
    const auto begin = (*offsets)[0].get<std::uint64_t>();
    const auto end = (*offsets)[1].get<std::uint64_t>();
    if (begin > end || end > data.size()) return bad("entry '" + name + "' lies outside the data");
    const std::uint64_t elements = (end - begin) / element_size(*type);
    if ((end - begin) % element_size(*type) != 0) return bad("entry '" + name + "' has a partial element");
    if (auto ok = check_layout_fits(layout, static_cast<std::int64_t>(elements), name); !ok) return fail(ok.error());
    if (static_cast<std::uint64_t>(layout.numel()) != elements) {
      return bad(fmt::format("entry '{}' has {} elements of data for a shape of {}", name, elements, layout.numel()));
    }
    tensors.push_back(NamedTensor{name, TensorData{layout, data.substr(begin, end - begin)}});
  }
  // File order, so that loading reads the file front to back. Writers lay
  // tensors end to end: bytes claimed twice mean a damaged or crafted header.
  std::stable_sort(tensors.begin(), tensors.end(), [](const NamedTensor& a, const NamedTensor& b) {
    return a.data.storage.data() < b.data.storage.data();
  });
  const NamedTensor* previous = nullptr;
  for (const auto& tensor : tensors) {
    if (tensor.data.storage.empty()) continue;
    if (previous && tensor.data.storage.data() < previous->data.storage.data() + previous->data.storage.size()) {
      return bad(fmt::format("entries '{}' and '{}' overlap", previous->name, tensor.name));
    }
    previous = &tensor;
  }
  return tensors;
}

}  // namespace ferry::models
