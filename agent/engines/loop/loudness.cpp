#include "agent/engines/loop/loudness.hpp"

#include <algorithm>
#include <cmath>

namespace ferry::agent::loop {

EnergyIndex::EnergyIndex(std::span<const float> signal) : cumulative_(signal.size() + 1, 0.0) {
  for (std::size_t i = 0; i < signal.size(); ++i) {
    cumulative_[i + 1] = cumulative_[i] + double(signal[i]) * signal[i];
  }
}

double EnergyIndex::loudness_db(std::int64_t from, std::int64_t to) const {
  const auto size = std::int64_t(cumulative_.size()) - 1;
  from = std::clamp<std::int64_t>(from, 0, size);
  to = std::clamp<std::int64_t>(to, from, size);
  if (to == from) return -120.0;
  const double power = (cumulative_[std::size_t(to)] - cumulative_[std::size_t(from)]) / double(to - from);
  return std::max(-120.0, 10.0 * std::log10(power + 1e-30));
}

}  // namespace ferry::agent::loop
