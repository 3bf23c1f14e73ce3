#pragma once
// What every benchmark prints about the machine it ran on, so figures from
// different runs can be compared.

#include <fstream>
#include <string>
#include <thread>

namespace ferry::bench {

/// The CPU's model name from /proc/cpuinfo, or "unknown CPU".
inline std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    auto colon = line.find(':');
    return colon == std::string::npos ? line : line.substr(colon + 2);
  }
  return "unknown CPU";
}

/// "AMD EPYC ..., 2 hardware threads".
inline std::string machine_description() {
  return cpu_model() + ", " + std::to_string(std::thread::hardware_concurrency()) + " hardware threads";
}

}  // namespace ferry::bench
