#include "controller/offers.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/units.hpp"
#include "controller/provider_factory.hpp"
#include "providers/ranking.hpp"

namespace ferry::controller {
namespace {

std::string gigabytes(std::uint64_t bytes) {
  if (bytes == 0) return "-";
  return fmt::format("{:.0f}GB", static_cast<double>(bytes) / 1e9);
}

}  // namespace

Result<config::Resources> resources_for(const OffersQuery& query) {
  config::Resources resources;
  resources.max_price_per_hour = query.max_price;
  resources.spot = query.spot;
  const bool gpu_asked = !query.gpu_names.empty() || !query.min_gpu_memory.empty();
  if (query.cpu_only && gpu_asked)
    return fail(ErrorCode::invalid_argument, "--cpu cannot be combined with --gpu or --gpu-memory", "--cpu");
  // Fly has CPU machines only: without GPU flags, list those rather than an error.
  if (query.cpu_only || (query.provider == "fly" && !gpu_asked)) return resources;
  config::GpuRequest gpu;
  gpu.names = query.gpu_names;
  if (!query.min_gpu_memory.empty()) {
    auto bytes = config::parse_size(query.min_gpu_memory);
    if (!bytes)
      return fail(ErrorCode::invalid_argument,
                  "--gpu-memory '" + query.min_gpu_memory + "': " + bytes.error().message + " (e.g. 16GB)",
                  "--gpu-memory");
    gpu.memory_bytes.min = *bytes;
  }
  resources.gpu = gpu;
  return resources;
}

std::string format_offers_table(const std::vector<providers::Offer>& offers, std::size_t limit) {
  std::string text = fmt::format("{:<8} {:<14} {:<24} {:>5} {:>6} {:>7} {:>6} {}\n", "PROVIDER", "OFFER", "GPU",
                                 "COUNT", "VRAM", "$/H", "RELIAB", "REGION");
  std::size_t shown = 0;
  for (const auto& offer : offers) {
    if (shown++ == limit) break;
    text += fmt::format("{:<8} {:<14} {:<24} {:>5} {:>6} {:>7.3f} {:>6.2f} {}\n", offer.provider, offer.id,
                        offer.gpu_name.empty() ? "(cpu)" : offer.gpu_name, offer.gpu_count,
                        gigabytes(offer.gpu_memory_bytes), offer.price_per_hour, offer.reliability,
                        offer.region.empty() ? "-" : offer.region);
  }
  if (offers.size() > limit) text += fmt::format("... and {} more (--limit N or --json shows them)\n", offers.size() - limit);
  return text;
}

nlohmann::json offers_to_json(const std::vector<providers::Offer>& offers) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& offer : offers)
    list.push_back({{"provider", offer.provider},
                    {"id", offer.id},
                    {"gpu_name", offer.gpu_name},
                    {"gpu_count", offer.gpu_count},
                    {"gpu_memory_bytes", offer.gpu_memory_bytes},
                    {"price_per_hour", offer.price_per_hour},
                    {"reliability", offer.reliability},
                    {"region", offer.region},
                    {"spot", offer.spot},
                    {"tier", offer.tier}});
  return list;
}

ExitCode show_offers(const OffersQuery& query, std::FILE* out, std::FILE* err) {
  auto resources = resources_for(query);
  if (!resources) {
    std::fprintf(err, "error: %s\n", resources.error().message.c_str());
    return ExitCode::usage;
  }
  ProviderFactoryOptions factory;
  factory.require_credentials = false;  // Vast searches without a key; the others say what is missing
  auto provider = make_provider(query.provider, factory);
  if (!provider) {
    std::fprintf(err, "error: %s\n", provider.error().message.c_str());
    return ExitCode::usage;
  }
  auto offers = (*provider)->search(*resources);
  if (!offers) {
    std::fprintf(err, "error: %s\n", offers.error().describe().c_str());
    return exit_code_for(offers.error().code);
  }
  auto ranked = providers::rank_offers(std::move(*offers), query.max_price);
  if (query.json) {
    std::fprintf(out, "%s\n", offers_to_json(ranked).dump(2).c_str());
  } else if (ranked.empty()) {
    std::fprintf(err, "%s: no offer matches; widen the filters or raise --max-price\n", query.provider.c_str());
  } else {
    std::fputs(format_offers_table(ranked, query.limit).c_str(), out);
  }
  return ExitCode::ok;
}

}  // namespace ferry::controller
