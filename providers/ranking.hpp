#pragma once
// Choosing among offers, the same way for every provider. Pure.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/provider.hpp"

namespace ferry::providers {

/// Best first: cheapest per hour, then most reliable, then most GPU memory,
/// then by id so that equal offers keep a stable order. Offers above
/// `max_price_per_hour` are dropped.
std::vector<Offer> rank_offers(std::vector<Offer> offers, std::optional<double> max_price_per_hour);

/// Whether a GPU name written in a manifest ("RTX_4090", "a100", "H100 SXM")
/// names the provider's GPU ("RTX 4090", "NVIDIA A100-SXM4-80GB"): case is
/// ignored, '_' and '-' count as spaces, and every word of `wanted` must
/// appear as a word (or word prefix of a model number) in `offered`.
bool gpu_name_matches(std::string_view wanted, std::string_view offered);
/// True when `names` is empty or any of them matches.
bool any_gpu_name_matches(const std::vector<std::string>& names, std::string_view offered);

/// The offer was created on.
struct Launched {
  std::size_t offer_index = 0;
  std::string instance_id;
};

/// Creates on the first offer that can be had, in order: an offer that is
/// gone or has no capacity (is_offer_unavailable) moves on to the next, up to
/// `max_tries` offers. Any other error stops at once. When every tried offer
/// was unavailable the error (unavailable) lists why each one failed.
Result<Launched> create_on_first_available(Provider& provider, const std::vector<Offer>& offers,
                                           const LaunchSpec& launch, std::size_t max_tries = 25);

}  // namespace ferry::providers
