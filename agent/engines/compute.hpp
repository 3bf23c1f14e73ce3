#pragma once
// The compute device the agent's engines run on. Kept free of LibTorch
// headers so the HTTP layer can report it without compiling them.

#include <string>

namespace ferry::agent {

struct ComputeInfo {
  std::string device;        ///< "cpu" or "cuda:0"
  std::string device_name;   ///< GPU model, or "" on CPU
  int cpu_threads = 0;       ///< intra-op threads LibTorch uses
  bool torch_available = false;
  std::string torch_version;
};

/// Sets LibTorch's intra-op thread count (0: one per hardware thread, which
/// Debian's LibTorch does not do by default) and describes the device.
ComputeInfo configure_compute(int threads = 0);

}  // namespace ferry::agent
