#include "agent/engines/compute.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#if FERRY_HAVE_TORCH
#include "agent/engines/torch_engines.hpp"
#endif

namespace ferry::agent {
namespace {

// The NVIDIA driver lists each GPU under /proc/driver/nvidia/gpus/<bus id>/
// (also inside containers given GPUs); its "information" file names the model.
[[maybe_unused]] std::optional<std::string> first_nvidia_gpu() {
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) {
    const std::string_view devices = visible;
    if (devices.empty() || devices == "-1") return std::nullopt;
  }
  std::error_code error;
  std::vector<std::filesystem::path> gpus;
  for (std::filesystem::directory_iterator it("/proc/driver/nvidia/gpus", error), end; !error && it != end;
       it.increment(error)) {
    gpus.push_back(it->path());
  }
  if (gpus.empty()) return std::nullopt;
  std::sort(gpus.begin(), gpus.end());
  std::ifstream information(gpus.front() / "information");
  for (std::string line; std::getline(information, line);) {
    if (line.rfind("Model:", 0) != 0) continue;
    const auto start = line.find_first_not_of(" \t", 6);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return std::string();
}

}  // namespace

ComputeInfo probe_compute() {
  ComputeInfo info;
  info.cpu_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  info.device = "cpu";
#if FERRY_HAVE_TORCH
  info.torch_available = find_torch_engines().has_value();
  info.torch_version = FERRY_TORCH_VERSION;
#if FERRY_TORCH_CUDA
  if (auto gpu = first_nvidia_gpu()) {
    info.device = "cuda:0";
    info.device_name = *gpu;
  }
#endif
#endif
  return info;
}

}  // namespace ferry::agent
