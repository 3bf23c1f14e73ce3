#pragma once
// Access to the ACE-Step reference fixtures (../shared/fixtures/acestep).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

namespace ferry::acestep::testing {

inline std::filesystem::path acestep_fixture(const std::string& name) {
  return std::filesystem::path(FERRY_FIXTURES_DIR) / "acestep" / name;
}

inline nlohmann::json read_fixture_json(const std::string& folder) {
  std::ifstream in(acestep_fixture(folder) / "fixture.json");
  return nlohmann::json::parse(in);
}

/// A float32 little-endian row-major file of the given shape.
inline at::Tensor read_f32(const std::filesystem::path& path, const std::vector<std::int64_t>& shape) {
  std::ifstream in(path, std::ios::binary);
  at::Tensor t = at::empty(shape, at::kFloat);
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * 4));
  if (!in || in.peek() != std::char_traits<char>::eof()) {
    throw std::runtime_error("cannot read " + path.string() + " as the expected shape");
  }
  return t;
}

/// max|a - b| / max|b|: the relative error the fixtures are judged by.
inline double relative_error(const at::Tensor& actual, const at::Tensor& expected) {
  const double scale = expected.abs().max().item<double>();
  return (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>() / std::max(scale, 1e-30);
}

}  // namespace ferry::acestep::testing
