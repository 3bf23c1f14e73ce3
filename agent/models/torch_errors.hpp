#pragma once
// LibTorch exceptions as ferry errors, at the edge where models call into
// LibTorch. An allocation failure (CUDA out of memory, a CPU allocator that
// cannot allocate, cuDNN/cuBLAS running out of workspace) becomes
// resource_exhausted, which the separation pipeline answers by halving its
// batch; anything else is internal.

#include <string_view>

#include <c10/util/Exception.h>

#include "common/error.hpp"

namespace ferry::models {

/// True when `error` reports that memory could not be allocated.
bool is_out_of_memory(const c10::Error& error);

/// `error` as an Error: resource_exhausted when it is an allocation failure,
/// internal otherwise; the message is "<context>: <LibTorch's message>".
Error from_torch_error(const c10::Error& error, std::string_view context);

}  // namespace ferry::models
