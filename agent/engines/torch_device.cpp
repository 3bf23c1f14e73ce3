#include "agent/engines/torch_device.hpp"

#include <ATen/Context.h>

#if FERRY_TORCH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace ferry::agent {

Result<c10::Device> choose_device(const std::string& device) {
  if (device != "auto" && device != "cpu" && device != "cuda")
    return fail(ErrorCode::invalid_argument, "device must be auto, cpu or cuda, got '" + device + "'", "device");
  const bool cuda = at::hasCUDA();
  if (device == "cuda" && !cuda) {
    return fail(ErrorCode::unsupported, "--device cuda was asked for but this build or machine has no CUDA device",
                "device");
  }
  if (device == "cpu" || !cuda) return c10::Device(c10::DeviceType::CPU);
  return c10::Device(c10::DeviceType::CUDA, 0);
}

c10::ScalarType transformer_dtype(const c10::Device& device) {
  if (!device.is_cuda()) return c10::ScalarType::Float;
#if FERRY_TORCH_CUDA
  // Turing and older GPUs emulate bfloat16 slowly; float32 is faster there.
  const auto* properties = at::cuda::getDeviceProperties(device.index() < 0 ? 0 : device.index());
  if (properties != nullptr && properties->major >= 8) return c10::ScalarType::BFloat16;
#endif
  return c10::ScalarType::Float;
}

std::string dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::ScalarType::BFloat16:
      return "bfloat16";
    case c10::ScalarType::Half:
      return "float16";
    case c10::ScalarType::Float:
      return "float32";
    default:
      return c10::toString(dtype);
  }
}

}  // namespace ferry::agent
