#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include "agent/engines/loop/fft.hpp"

namespace ferry::agent::loop {
namespace {

std::vector<std::complex<double>> naive_dft(const std::vector<float>& input) {
  const std::size_t n = input.size();
  std::vector<std::complex<double>> out(n / 2 + 1);
  for (std::size_t k = 0; k < out.size(); ++k) {
    for (std::size_t i = 0; i < n; ++i) {
      const double angle = -2.0 * std::numbers::pi * double(k * i % n) / double(n);
      out[k] += double(input[i]) * std::complex<double>(std::cos(angle), std::sin(angle));
    }
  }
  return out;
}

class RealFftSizes : public ::testing::TestWithParam<std::size_t> {};

TEST_P(RealFftSizes, MatchesADirectDftOnRandomInput) {
  const std::size_t n = GetParam();
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> input(n);
  for (float& v : input) v = uniform(random);
  RealFft fft(n);
  std::vector<std::complex<float>> spectrum(fft.bins());
  fft.forward(input, spectrum);
  const auto expected = naive_dft(input);
  ASSERT_EQ(spectrum.size(), n / 2 + 1);
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_NEAR(spectrum[k].real(), expected[k].real(), 1e-3 * std::sqrt(double(n))) << "bin " << k;
    EXPECT_NEAR(spectrum[k].imag(), expected[k].imag(), 1e-3 * std::sqrt(double(n))) << "bin " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(PowersOfTwo, RealFftSizes, ::testing::Values(4, 8, 64, 1024));

TEST(RealFft, PutsASineIntoItsBin) {
  const std::size_t n = 256;
  std::vector<float> input(n);
  for (std::size_t i = 0; i < n; ++i) input[i] = float(std::cos(2.0 * std::numbers::pi * 10.0 * double(i) / n));
  RealFft fft(n);
  std::vector<std::complex<float>> spectrum(fft.bins());
  fft.forward(input, spectrum);
  for (std::size_t k = 0; k < spectrum.size(); ++k) {
    EXPECT_NEAR(std::abs(spectrum[k]), k == 10 ? n / 2.0 : 0.0, 1e-3) << "bin " << k;
  }
}

}  // namespace
}  // namespace ferry::agent::loop
