#pragma once
// The compute device the agent's engines run on. Kept free of LibTorch
// headers so the HTTP layer can report it without compiling them.

#include <string>

namespace ferry::agent {

struct ComputeInfo {
  std::string device;        ///< "cpu" or "cuda:0"
  std::string device_name;   ///< GPU model, or "" on CPU
  int cpu_threads = 0;       ///< intra-op threads LibTorch uses (or will use)
  bool torch_available = false;
  std::string torch_version;
};

/// Describes the device without loading LibTorch: every hardware thread,
/// the first NVIDIA GPU the driver shows (CUDA builds only) and whether the
/// LibTorch engines are installed. What the agent reports before its first
/// separate or generate job loads them.
ComputeInfo probe_compute();

/// Loads the LibTorch engines, sets LibTorch's intra-op thread count (0:
/// one per hardware thread, which Debian's LibTorch does not do by default)
/// and describes the device as LibTorch sees it. Without the engines:
/// probe_compute(), after a warning.
ComputeInfo configure_compute(int threads = 0);

}  // namespace ferry::agent
