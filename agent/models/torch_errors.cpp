#include "agent/models/torch_errors.hpp"

#include <array>
#include <string>

namespace ferry::models {

bool is_out_of_memory(const c10::Error& error) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&error) != nullptr) return true;
  // Older LibTorch releases and some back ends throw a plain c10::Error.
  constexpr std::array<std::string_view, 5> kMarkers{"out of memory", "can't allocate memory", "not enough memory",
                                                     "CUDNN_STATUS_ALLOC_FAILED", "CUBLAS_STATUS_ALLOC_FAILED"};
  const std::string_view message = error.what_without_backtrace();
  for (auto marker : kMarkers) {
    if (message.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

Error from_torch_error(const c10::Error& error, std::string_view context) {
  return Error{is_out_of_memory(error) ? ErrorCode::resource_exhausted : ErrorCode::internal,
               std::string(context) + ": " + error.what_without_backtrace(),
               {}};
}

}  // namespace ferry::models
