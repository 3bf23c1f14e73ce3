#pragma once
// A small real-input FFT for the loop analysis: power-of-two sizes only,
// computed as a half-size complex FFT plus a split step, so a frame costs
// about half of a complex transform of the same length.

#include <complex>
#include <cstddef>
#include <span>
#include <vector>

namespace ferry::agent::loop {

/// A reusable plan for forward transforms of `size` real samples.
/// Not thread-safe: each thread owns its plan (it keeps scratch space).
class RealFft {
 public:
  /// `size` must be a power of two, at least 4.
  explicit RealFft(std::size_t size);

  std::size_t size() const { return size_; }
  /// Number of output bins: size / 2 + 1 (DC to Nyquist).
  std::size_t bins() const { return size_ / 2 + 1; }

  /// Spectrum of `input` (size() samples) into `spectrum` (bins() values),
  /// unnormalised: a DC input of ones gives spectrum[0] == size().
  void forward(std::span<const float> input, std::span<std::complex<float>> spectrum);

 private:
  void complex_in_place(std::vector<std::complex<float>>& data) const;

  std::size_t size_;
  std::vector<std::size_t> bit_reversed_;            // for the half-size transform
  // Twiddles of each butterfly stage of the half-size transform, stored one
  // stage after another so the inner loop reads them in order.
  std::vector<std::complex<float>> stage_twiddles_;
  std::vector<std::complex<float>> split_twiddles_; // e^{-2 pi i k / size}
  std::vector<std::complex<float>> scratch_;
};

/// True when n is a power of two (and not zero).
constexpr bool is_power_of_two(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

}  // namespace ferry::agent::loop
