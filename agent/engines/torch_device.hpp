#pragma once
// Which device and number type an engine computes on. LibTorch headers:
// include only from agent/engines and agent/models.

#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "agent/engines/compute.hpp"
#include "common/error.hpp"

namespace ferry::agent {

/// "auto" (the first GPU when there is one, else the CPU), "cpu" or "cuda".
/// Asking for cuda without one is unsupported; anything else invalid_argument.
Result<c10::Device> choose_device(const std::string& device);

/// The number type for transformer models on `device`: bfloat16 on GPUs
/// that compute in it natively (compute capability 8.0 and later), float32
/// elsewhere. Never float16: ACE-Step's activations overflow it.
c10::ScalarType transformer_dtype(const c10::Device& device);

/// Sets LibTorch's intra-op threads (0: one per hardware thread) and
/// describes the device as LibTorch sees it.
ComputeInfo configure_torch_compute(int threads);

/// "float32", "bfloat16": for logs and job results.
std::string dtype_name(c10::ScalarType dtype);

}  // namespace ferry::agent
