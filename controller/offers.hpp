#pragma once
// `ferry offers --provider NAME [filters] [--json]`: what a provider would
// rent for the given resources, ranked as `ferry run` ranks them.

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "controller/exit_codes.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

struct OffersQuery {
  std::string provider = "local";
  std::vector<std::string> gpu_names;   ///< --gpu (repeatable); empty: any
  std::string min_gpu_memory;           ///< --gpu-memory "16GB"; empty: any
  bool cpu_only = false;                ///< --cpu: no GPU
  std::optional<double> max_price;      ///< --max-price, $ per hour
  bool spot = false;                    ///< --spot
  std::size_t limit = 20;               ///< rows shown (JSON: all)
  bool json = false;
};

/// The manifest-style resources a query asks for: one GPU of any kind unless
/// --cpu (or, for Fly, which has no GPUs, unless a GPU flag is given);
/// invalid_argument naming the flag.
Result<config::Resources> resources_for(const OffersQuery& query);

/// Columns: PROVIDER OFFER GPU COUNT VRAM $/H RELIABILITY REGION.
std::string format_offers_table(const std::vector<providers::Offer>& offers, std::size_t limit);
nlohmann::json offers_to_json(const std::vector<providers::Offer>& offers);

/// The whole command; errors name the provider and what to do.
ExitCode show_offers(const OffersQuery& query, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace ferry::controller
