#pragma once
// Access to the reference fixtures made by PyTorch Demucs (../shared/fixtures/demucs).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

namespace ferry::models::testing {

inline std::filesystem::path demucs_fixture(const std::string& name) {
  return std::filesystem::path(FERRY_FIXTURES_DIR) / "demucs" / name;
}

inline nlohmann::json read_fixture_json(const std::filesystem::path& folder) {
  std::ifstream in(folder / "fixture.json");
  return nlohmann::json::parse(in);
}

/// A float32 little-endian file of the given shape.
inline at::Tensor read_f32(const std::filesystem::path& path, const std::vector<std::int64_t>& shape) {
  std::ifstream in(path, std::ios::binary);
  at::Tensor t = at::empty(shape, at::kFloat);
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * 4));
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return t;
}

/// SDR of `estimate` against `reference` per entry of the first dimension:
/// 10 log10(sum ref^2 / sum (ref - est)^2).
inline std::vector<double> sdr_per_source(const at::Tensor& reference, const at::Tensor& estimate) {
  std::vector<double> out;
  for (std::int64_t s = 0; s < reference.size(0); ++s) {
    const auto ref = reference[s].to(at::kDouble);
    const auto err = ref - estimate[s].to(at::kDouble);
    const double signal = ref.pow(2).sum().item<double>();
    const double noise = err.pow(2).sum().item<double>();
    out.push_back(10.0 * std::log10(signal / std::max(noise, 1e-30)));
  }
  return out;
}

}  // namespace ferry::models::testing
