#pragma once
// Tensors as checkpoint files describe them, before any LibTorch object
// exists: element type, layout and a view of the raw little-endian bytes.
// The readers validate these fully, so turning them into tensors cannot read
// out of bounds.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace ferry::models {

/// Element types a checkpoint may store.
enum class ElementType { f16, bf16, f32, f64, i64, i32, i16, i8, u8, boolean };

/// Bytes per element.
std::size_t element_size(ElementType type);
/// "float16", "float32", ... for messages.
std::string_view to_string(ElementType type);

/// Shape and strides (in elements) of a view into a storage.
struct TensorLayout {
  ElementType type = ElementType::f32;
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;
  std::int64_t storage_offset = 0;  ///< in elements

  /// Number of elements (product of sizes).
  std::int64_t numel() const;
};

/// A validated tensor: its layout fits inside `storage`, which stays valid as
/// long as the file's bytes do.
struct TensorData {
  TensorLayout layout;
  std::string_view storage;
};

/// Contiguous strides for `sizes`.
std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& sizes);

/// Checks that `layout` addresses only elements of a storage holding
/// `storage_elements` elements: non-negative sizes and strides, no overflow,
/// at most 16 dimensions. `what` names the tensor in the error.
Status check_layout_fits(const TensorLayout& layout, std::int64_t storage_elements, std::string_view what);

}  // namespace ferry::models
