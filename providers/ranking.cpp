#include "providers/ranking.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace ferry::providers {
namespace {

std::vector<std::string> words(std::string_view text) {
  std::string normal;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    normal += (c == '_' || c == '-' || c == '/') ? ' ' : static_cast<char>(std::tolower(u));
  }
  std::vector<std::string> out;
  std::istringstream in(normal);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

bool has_digit(const std::string& word) {
  return std::any_of(word.begin(), word.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

std::vector<Offer> rank_offers(std::vector<Offer> offers, std::optional<double> max_price_per_hour) {
  if (max_price_per_hour)
    offers.erase(std::remove_if(offers.begin(), offers.end(),
                                [&](const Offer& offer) { return offer.price_per_hour > *max_price_per_hour; }),
                 offers.end());
  std::stable_sort(offers.begin(), offers.end(), [](const Offer& a, const Offer& b) {
    if (a.price_per_hour != b.price_per_hour) return a.price_per_hour < b.price_per_hour;
    if (a.reliability != b.reliability) return a.reliability > b.reliability;
    if (a.gpu_memory_bytes != b.gpu_memory_bytes) return a.gpu_memory_bytes > b.gpu_memory_bytes;
    return a.id < b.id;
  });
  return offers;
}

bool gpu_name_matches(std::string_view wanted, std::string_view offered) {
  auto wanted_words = words(wanted);
  auto offered_words = words(offered);
  if (wanted_words.empty()) return false;
  for (const auto& word : wanted_words) {
    // "a100" matches "a100" and "a100 sxm4" but not "a10"; a model number
    // may be glued to a suffix ("a100" in "a100sxm4" is not split by the
    // provider, so allow a prefix when the word carries a digit).
    bool found = std::any_of(offered_words.begin(), offered_words.end(), [&](const std::string& candidate) {
      if (candidate == word) return true;
      return has_digit(word) && candidate.rfind(word, 0) == 0 && !std::isdigit(static_cast<unsigned char>(
                                                                     candidate[word.size()]));
    });
    if (!found) return false;
  }
  return true;
}

bool any_gpu_name_matches(const std::vector<std::string>& names, std::string_view offered) {
  if (names.empty()) return true;
  return std::any_of(names.begin(), names.end(), [&](const std::string& name) { return gpu_name_matches(name, offered); });
}

Result<Launched> create_on_first_available(Provider& provider, const std::vector<Offer>& offers,
                                           const LaunchSpec& launch, std::size_t max_tries) {
  if (offers.empty())
    return fail(ErrorCode::unavailable, provider.name() + ": no offer matches the manifest's resources; "
                                                          "widen resources (GPU names, memory, max_price)");
  std::string reasons;
  std::size_t tried = 0;
  for (std::size_t index = 0; index < offers.size() && tried < max_tries; ++index, ++tried) {
    auto created = provider.create(offers[index], launch);
    if (created) return Launched{index, *created};
    if (!is_offer_unavailable(created.error())) return fail(created.error());
    reasons += "\n  offer " + offers[index].id + ": " + created.error().message;
  }
  return fail(ErrorCode::unavailable, provider.name() + ": none of the " + std::to_string(tried) +
                                          " offers tried could be had:" + reasons);
}

}  // namespace ferry::providers
