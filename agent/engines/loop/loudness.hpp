#pragma once
// Loudness of a stretch of signal in dB relative to full scale (mean power),
// so that a jump between two points is only taken when both sides are
// about equally loud.

#include <cstdint>
#include <span>
#include <vector>

namespace ferry::agent::loop {

/// Prefix sums of the squared signal: the energy of any stretch in O(1).
class EnergyIndex {
 public:
  explicit EnergyIndex(std::span<const float> signal);
  /// Number of samples indexed.
  std::size_t size() const { return cumulative_.size() - 1; }
  /// Sum of squares of samples [from, to); the caller keeps 0 <= from <= to <= size.
  double energy(std::size_t from, std::size_t to) const { return cumulative_[to] - cumulative_[from]; }
  /// Mean power of samples [from, to) in dB (floor -120 dB); clamped to the signal.
  double loudness_db(std::int64_t from, std::int64_t to) const;

 private:
  std::vector<double> cumulative_;
};

}  // namespace ferry::agent::loop
