#include "agent/engines/compute.hpp"

#include <thread>

#ifdef FERRY_HAVE_TORCH
#include <torch/torch.h>
#include <torch/version.h>
#endif

namespace ferry::agent {

ComputeInfo configure_compute(int threads) {
  ComputeInfo info;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  info.cpu_threads = threads;
  info.device = "cpu";
#ifdef FERRY_HAVE_TORCH
  at::set_num_threads(threads);
  info.cpu_threads = at::get_num_threads();
  info.torch_available = true;
  info.torch_version = TORCH_VERSION;
  if (torch::cuda::is_available()) {
    info.device = "cuda:0";
  }
#endif
  return info;
}

}  // namespace ferry::agent
