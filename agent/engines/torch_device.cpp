#include "agent/engines/torch_device.hpp"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <thread>

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

ComputeInfo configure_torch_compute(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  ComputeInfo info;
  info.cpu_threads = at::get_num_threads();
  info.torch_available = true;
  info.torch_version = TORCH_VERSION;
  info.device = "cpu";
  if (at::hasCUDA()) {
    info.device = "cuda:0";
#if FERRY_TORCH_CUDA
    if (const auto* properties = at::cuda::getDeviceProperties(0)) info.device_name = properties->name;
#endif
  }
  return info;
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
