#include "agent/models/checkpoint.hpp"

#include <cstring>

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace ferry::models {
namespace {

c10::ScalarType scalar_type(ElementType type) {
  switch (type) {
    case ElementType::f16: return at::kHalf;
    case ElementType::bf16: return at::kBFloat16;
    case ElementType::f32: return at::kFloat;
    case ElementType::f64: return at::kDouble;
    case ElementType::i64: return at::kLong;
    case ElementType::i32: return at::kInt;
    case ElementType::i16: return at::kShort;
    case ElementType::i8: return at::kChar;
    case ElementType::u8: return at::kByte;
    case ElementType::boolean: return at::kBool;
  }
  return at::kFloat;
}

bool is_floating(ElementType type) {
  return type == ElementType::f16 || type == ElementType::bf16 || type == ElementType::f32 ||
         type == ElementType::f64;
}

}  // namespace

Result<at::Tensor> to_tensor(const TensorData& data, const LoadOptions& options) {
  try {
    const auto elements = static_cast<std::int64_t>(data.storage.size() / element_size(data.layout.type));
    if (auto ok = check_layout_fits(data.layout, elements, "tensor"); !ok) return fail(ok.error());
    // Copy into an owned, aligned buffer: file bytes need not be aligned.
    at::Tensor storage = at::empty({elements}, at::TensorOptions().dtype(scalar_type(data.layout.type)));
    std::memcpy(storage.data_ptr(), data.storage.data(), static_cast<std::size_t>(elements) * element_size(data.layout.type));
    at::Tensor view = storage.as_strided(data.layout.sizes, data.layout.strides, data.layout.storage_offset);
    const auto dtype = is_floating(data.layout.type) ? options.dtype : scalar_type(data.layout.type);
    return view.to(options.device, dtype, /*non_blocking=*/false, /*copy=*/true).contiguous();
  } catch (const std::exception& e) {
    return fail(ErrorCode::resource_exhausted, std::string("cannot load tensor: ") + e.what());
  }
}

Result<StateDict> to_state_dict(const CheckpointContents& contents, const LoadOptions& options) {
  StateDict state;
  for (const auto& tensor : contents.tensors) {
    auto value = to_tensor(tensor.data, options);
    if (!value) {
      Error error = value.error();
      error.message = fmt::format("{} (tensor '{}')", error.message, tensor.name);
      return fail(std::move(error));
    }
    state.emplace(tensor.name, std::move(*value));
  }
  return state;
}

Result<StateDict> load_state_dict(const std::filesystem::path& path, const LoadOptions& options) {
  auto contents = read_checkpoint(path);
  if (!contents) return fail(contents.error());
  return to_state_dict(*contents, options);
}

Result<DemucsCheckpoint> load_demucs_checkpoint(const std::filesystem::path& path, const LoadOptions& options) {
  auto contents = read_checkpoint(path);
  if (!contents) return fail(contents.error());
  if (!contents->klass) {
    return fail(ErrorCode::invalid_argument,
                "not a Demucs model file: it holds a bare state dict without klass and kwargs", path.string());
  }
  auto state = to_state_dict(*contents, options);
  if (!state) return fail(state.error());
  return DemucsCheckpoint{*contents->klass, contents->args, contents->kwargs, std::move(*state)};
}

}  // namespace ferry::models
