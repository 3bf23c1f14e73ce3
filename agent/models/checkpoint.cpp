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
    const std::size_t width = element_size(data.layout.type);
    const auto elements = static_cast<std::int64_t>(data.storage.size() / width);
    if (auto ok = check_layout_fits(data.layout, elements, "tensor"); !ok) return fail(ok.error());
    const c10::ScalarType stored = scalar_type(data.layout.type);
    const c10::ScalarType wanted = is_floating(data.layout.type) ? options.dtype : stored;
    at::Tensor storage;
    if (reinterpret_cast<std::uintptr_t>(data.storage.data()) % width == 0) {
      // Read in place (only read: the copy below is the tensor), so that no
      // second buffer of the tensor's size exists on the way.
      storage = at::from_blob(const_cast<char*>(data.storage.data()), {elements}, at::TensorOptions().dtype(stored));
    } else {
      // File bytes need not be aligned; typed reads must be.
      storage = at::empty({elements}, at::TensorOptions().dtype(stored));
      std::memcpy(storage.data_ptr(), data.storage.data(), static_cast<std::size_t>(elements) * width);
    }
    const at::Tensor view = storage.as_strided(data.layout.sizes, data.layout.strides, data.layout.storage_offset);
    // One copy to the device and dtype, contiguous, owning its memory.
    const auto target = at::TensorOptions().device(options.device).dtype(wanted).memory_format(at::MemoryFormat::Contiguous);
    return view.to(target, /*non_blocking=*/false, /*copy=*/true);
  } catch (const std::exception& e) {
    return fail(ErrorCode::resource_exhausted, std::string("cannot load tensor: ") + e.what());
  }
}

Result<StateDict> to_state_dict(const CheckpointContents& contents, const LoadOptions& options) {
  StateDict state;
  for (const auto& tensor : contents.tensors) {
    auto value = to_tensor(tensor.data, options);
    if (contents.bytes) contents.bytes->release(tensor.data.storage);
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
  auto contents = read_checkpoint(path, options.max_file_bytes);
  if (!contents) return fail(contents.error());
  return to_state_dict(*contents, options);
}

Result<at::Tensor> load_tensor(const std::filesystem::path& path, const LoadOptions& options) {
  auto contents = read_checkpoint(path, options.max_file_bytes);
  if (!contents) return fail(contents.error());
  if (contents->tensors.size() != 1 || !contents->tensors.front().name.empty()) {
    return fail(ErrorCode::invalid_argument, "expected a file holding one bare tensor (torch.save(tensor)), found a state dict",
                path.string());
  }
  auto tensor = to_tensor(contents->tensors.front().data, options);
  if (!tensor) {
    Error error = tensor.error();
    if (error.field.empty()) error.field = path.string();
    return fail(std::move(error));
  }
  return tensor;
}

Result<DemucsCheckpoint> load_demucs_checkpoint(const std::filesystem::path& path, const LoadOptions& options) {
  auto contents = read_checkpoint(path, options.max_file_bytes);
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
