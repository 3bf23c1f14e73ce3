#pragma once
// Writing small model folders for the ACE-Step network tests: safetensors
// files from state dicts, and random weights named by the builders themselves.

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "agent/models/acestep/acestep_weights.hpp"
#include "agent/models/checkpoint.hpp"

namespace ferry::acestep::testing {

/// Writes `state` as a float32 safetensors file.
inline void write_safetensors(const std::filesystem::path& path, const models::StateDict& state) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, tensor] : state) {
    const at::Tensor values = tensor.to(at::kFloat).contiguous();
    const std::size_t begin = data.size();
    data.append(static_cast<const char*>(values.data_ptr()), static_cast<std::size_t>(values.numel()) * 4);
    header[name] = {{"dtype", "F32"}, {"shape", values.sizes().vec()}, {"data_offsets", {begin, data.size()}}};
  }
  const std::string text = header.dump();
  const std::uint64_t length = text.size();
  std::ofstream out(path, std::ios::binary);
  char length_bytes[8];
  std::memcpy(length_bytes, &length, 8);  // little-endian host
  out.write(length_bytes, 8);
  out << text << data;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

/// A table that synthesises random weights (random_weights) and keeps a copy
/// of each under its name, so that a builder's requests become a checkpoint.
struct RecordingTable {
  models::StateDict recorded;
  WeightTable table;
  explicit RecordingTable(std::uint64_t seed)
      : table([this, make = random_weights({}, seed)](const std::string& name, at::IntArrayRef shape) {
          at::Tensor value = make(name, shape);
          recorded[name] = value;
          return value;
        }) {}
  RecordingTable(const RecordingTable&) = delete;
  RecordingTable& operator=(const RecordingTable&) = delete;
};

}  // namespace ferry::acestep::testing
