#include "agent/engines/loop/fft.hpp"

#include <cassert>
#include <cmath>
#include <numbers>

namespace ferry::agent::loop {

namespace {
// Plain product: std::complex's operator* checks for infinities and NaNs
// through a library call, which dominates the cost of a transform.
inline std::complex<float> multiply(std::complex<float> a, std::complex<float> b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}
}  // namespace

RealFft::RealFft(std::size_t size) : size_(size) {
  assert(size >= 4 && is_power_of_two(size));
  const std::size_t half = size / 2;
  bit_reversed_.resize(half);
  std::size_t bits = 0;
  while ((std::size_t{1} << bits) < half) ++bits;
  for (std::size_t i = 0; i < half; ++i) {
    std::size_t reversed = 0;
    for (std::size_t b = 0; b < bits; ++b) {
      if (i & (std::size_t{1} << b)) reversed |= std::size_t{1} << (bits - 1 - b);
    }
    bit_reversed_[i] = reversed;
  }
  // Twiddles in double precision first, so long transforms stay accurate.
  for (std::size_t length = 2; length <= half; length <<= 1) {
    for (std::size_t j = 0; j < length / 2; ++j) {
      const double angle = -2.0 * std::numbers::pi * double(j) / double(length);
      stage_twiddles_.emplace_back(float(std::cos(angle)), float(std::sin(angle)));
    }
  }
  split_twiddles_.resize(half + 1);
  for (std::size_t k = 0; k <= half; ++k) {
    const double angle = -2.0 * std::numbers::pi * double(k) / double(size);
    split_twiddles_[k] = {float(std::cos(angle)), float(std::sin(angle))};
  }
  scratch_.resize(half);
}

void RealFft::complex_in_place(std::vector<std::complex<float>>& data) const {
  const std::size_t n = data.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i < bit_reversed_[i]) std::swap(data[i], data[bit_reversed_[i]]);
  }
  const std::complex<float>* twiddles = stage_twiddles_.data();
  for (std::size_t length = 2; length <= n; length <<= 1) {
    const std::size_t half_length = length / 2;
    for (std::size_t start = 0; start < n; start += length) {
      for (std::size_t j = 0; j < half_length; ++j) {
        const std::complex<float> odd = multiply(data[start + j + half_length], twiddles[j]);
        const std::complex<float> even = data[start + j];
        data[start + j] = even + odd;
        data[start + j + half_length] = even - odd;
      }
    }
    twiddles += half_length;
  }
}

void RealFft::forward(std::span<const float> input, std::span<std::complex<float>> spectrum) {
  assert(input.size() == size_ && spectrum.size() == bins());
  const std::size_t half = size_ / 2;
  // Pack even samples as real parts and odd samples as imaginary parts.
  for (std::size_t i = 0; i < half; ++i) scratch_[i] = {input[2 * i], input[2 * i + 1]};
  complex_in_place(scratch_);
  // Split the packed result into the spectra of the even and odd samples and
  // recombine them into the spectrum of the whole frame.
  for (std::size_t k = 0; k <= half; ++k) {
    const std::complex<float> z = scratch_[k % half];
    const std::complex<float> z_mirror = std::conj(scratch_[(half - k) % half]);
    const std::complex<float> even = 0.5f * (z + z_mirror);
    const std::complex<float> difference = z - z_mirror;
    const std::complex<float> odd(0.5f * difference.imag(), -0.5f * difference.real());  // (z - z_mirror) / 2i
    spectrum[k] = even + multiply(split_twiddles_[k], odd);
  }
}

}  // namespace ferry::agent::loop
