#pragma once
// Vast.ai API requests, built from typed inputs. Pure: no I/O.
// Wire format: https://console.vast.ai/api/v0 (see the provider notes);
// filters are operator objects ({"gte": x}), GPU memory is in MB.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "config/manifest.hpp"
#include "providers/api.hpp"
#include "providers/json_fields.hpp"
#include "providers/provider.hpp"

namespace ferry::providers::vast {

/// Search policy beyond the manifest's resources (defaults follow what
/// production users of the API filter on).
struct SearchOptions {
  double min_reliability = 0.9;       ///< reliability2 >= this
  int min_direct_ports = 1;           ///< the agent's port must be publicly mapped
  bool verified_only = true;
  double min_cuda = 12.8;             ///< the CUDA image is built on 12.8
  std::vector<std::string> countries; ///< two-letter codes; empty = anywhere
  bool order_by_score = false;        ///< false: cheapest first
  /// Offers asked for per search. Each Vast offer is one machine that can be
  /// rented once, so a run of `instances: N` needs N offers plus spares for
  /// failover: enough for the manifest's largest N (256) twice over.
  int limit = 512;
};

/// Disk for the container when neither launch nor manifest sets one (GB).
inline constexpr double kDefaultDiskGb = 40;
/// Vast's smallest disk (GB).
inline constexpr double kMinimumDiskGb = 8;

/// The `POST /bundles/` query object (exposed for tests).
nlohmann::json search_query(const config::Resources& resources, const SearchOptions& options);
ApiRequest search_request(const config::Resources& resources, const SearchOptions& options);

/// GPU memory bounds in Vast's MB: the lower bound counts 1 GB as 1000 MB, as
/// Vast's CLI does; the upper bound as 1024 MB, because cards are sold by
/// binary size (an "80GB" A100 reports 81920 MB and must fit "..80GB").
std::optional<double> gpu_ram_min_mb(const config::Range<std::uint64_t>& memory);
std::optional<double> gpu_ram_max_mb(const config::Range<std::uint64_t>& memory);

/// `PUT /asks/{offer}/`: image, disk, env with "-p PORT:PORT", label,
/// runtype "args" (keeps the image's entry point); `price` when the offer is
/// spot. invalid_argument for a non-numeric offer id, an empty image or a
/// label over 256 characters.
Result<ApiRequest> create_request(const Offer& offer, const LaunchSpec& launch);
/// `GET /instances/{id}/`, `DELETE /instances/{id}/`; ids are whole numbers.
Result<ApiRequest> get_request(const std::string& instance_id);
Result<ApiRequest> destroy_request(const std::string& instance_id);
/// One page of `GET /api/v1/instances/` (25 per page, keyset paging).
ApiRequest list_request(const std::optional<std::string>& after_token);

}  // namespace ferry::providers::vast
