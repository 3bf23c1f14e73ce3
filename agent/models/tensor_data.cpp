#include "agent/models/tensor_data.hpp"

#include <fmt/format.h>

namespace ferry::models {

std::size_t element_size(ElementType type) {
  switch (type) {
    case ElementType::f16: case ElementType::bf16: case ElementType::i16: return 2;
    case ElementType::f32: case ElementType::i32: return 4;
    case ElementType::f64: case ElementType::i64: return 8;
    case ElementType::i8: case ElementType::u8: case ElementType::boolean: return 1;
  }
  return 1;
}

std::string_view to_string(ElementType type) {
  switch (type) {
    case ElementType::f16: return "float16";
    case ElementType::bf16: return "bfloat16";
    case ElementType::f32: return "float32";
    case ElementType::f64: return "float64";
    case ElementType::i64: return "int64";
    case ElementType::i32: return "int32";
    case ElementType::i16: return "int16";
    case ElementType::i8: return "int8";
    case ElementType::u8: return "uint8";
    case ElementType::boolean: return "bool";
  }
  return "unknown";
}

std::int64_t TensorLayout::numel() const {
  std::int64_t n = 1;
  for (auto s : sizes) n *= s;
  return n;
}

std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& sizes) {
  std::vector<std::int64_t> strides(sizes.size(), 1);
  for (std::size_t i = sizes.size(); i-- > 1;) strides[i - 1] = strides[i] * std::max<std::int64_t>(sizes[i], 1);
  return strides;
}

Status check_layout_fits(const TensorLayout& layout, std::int64_t storage_elements, std::string_view what) {
  constexpr std::size_t kMaxDims = 16;
  auto bad = [&](const std::string& why) {
    return fail(ErrorCode::data_loss, fmt::format("tensor '{}' has an invalid layout: {}", what, why));
  };
  if (layout.sizes.size() != layout.strides.size()) return bad("sizes and strides differ in length");
  if (layout.sizes.size() > kMaxDims) return bad(fmt::format("more than {} dimensions", kMaxDims));
  if (layout.storage_offset < 0 || storage_elements < 0) return bad("negative offset");
  std::int64_t numel = 1;
  std::int64_t last = layout.storage_offset;  // highest element index addressed
  for (std::size_t d = 0; d < layout.sizes.size(); ++d) {
    const std::int64_t size = layout.sizes[d];
    const std::int64_t stride = layout.strides[d];
    if (size < 0 || stride < 0) return bad("negative size or stride");
    if (__builtin_mul_overflow(numel, size, &numel)) return bad("element count overflows");
    if (size == 0) continue;
    std::int64_t reach = 0;
    if (__builtin_mul_overflow(size - 1, stride, &reach) || __builtin_add_overflow(last, reach, &last)) {
      return bad("extent overflows");
    }
  }
  if (numel > 0 && last >= storage_elements) {
    return bad(fmt::format("it reaches element {} of a storage of {}", last, storage_elements));
  }
  return {};
}

}  // namespace ferry::models
