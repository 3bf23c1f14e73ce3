#pragma once
// The interface every provider implements (vast, runpod, fly, local). Request
// building and response parsing are pure functions in each provider's folder;
// the classes here are the thin transport around them.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "config/manifest.hpp"

namespace ferry::providers {

/// A machine that could be rented.
struct Offer {
  std::string provider;
  std::string id;             ///< provider's offer / GPU type id
  std::string gpu_name;       ///< "" for CPU machines
  int gpu_count = 0;
  std::uint64_t gpu_memory_bytes = 0;
  double price_per_hour = 0;  ///< dollars
  double reliability = 1.0;   ///< 0..1 where the provider reports it
  std::string region;
  bool spot = false;          ///< interruptible; the price is the bid
  int cpu_count = 0;          ///< where the provider reports it (Fly sizes)
  std::uint64_t memory_bytes = 0;  ///< host memory, where reported
  double cuda_version = 0;    ///< highest CUDA the host's driver runs; 0 unknown
  std::string tier;           ///< provider's class: "SECURE"/"COMMUNITY" (RunPod), "verified" (Vast), a size (Fly)
  std::string machine_id;     ///< the physical host where known (Vast), to avoid a host that failed
};

/// What to start on an offer.
struct LaunchSpec {
  std::string image;
  std::string label;                         ///< "ferry:<run-id>"
  std::map<std::string, std::string> env;    ///< includes FERRY_AGENT_TOKEN, timeouts
  int agent_port = 8185;
  std::optional<std::uint64_t> disk_bytes;
};

enum class InstanceState { pending, starting, running, stopping, exited, gone, unknown };

/// The provider's view of an instance; `endpoint` is set once the agent's
/// port has a public address ("http://1.2.3.4:41234" or an https proxy URL).
struct InstanceInfo {
  std::string id;
  InstanceState state = InstanceState::unknown;
  std::optional<std::string> endpoint;
  std::string label;
  std::string detail;  ///< provider's own status text, for messages
  std::optional<double> price_per_hour;  ///< what the provider bills, when it says
  /// The longest one request through `endpoint` may take (RunPod's HTTPS proxy
  /// cuts requests at 100 s): long polls must stay well under it.
  std::optional<std::chrono::seconds> request_time_limit;
};

/// `Error::field` of a create that failed because of the offer itself (gone
/// between search and create, no capacity left, not allowed for this key):
/// the caller moves on to the next offer. Any other create error stops.
inline constexpr const char* kOfferUnavailableField = "offer";
inline bool is_offer_unavailable(const Error& error) { return error.field == kOfferUnavailableField; }

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string name() const = 0;
  virtual Result<std::vector<Offer>> search(const config::Resources& request) = 0;
  /// Returns at once with the provider's instance id. A failure caused by the
  /// offer (see is_offer_unavailable) means: try the next offer.
  virtual Result<std::string> create(const Offer& offer, const LaunchSpec& launch) = 0;
  virtual Result<InstanceInfo> get(const std::string& id) = 0;
  /// Idempotent: an instance that is already gone is success.
  virtual Status destroy(const std::string& id) = 0;
  /// Instances whose label starts with `label_prefix`, for `ferry gc`.
  virtual Result<std::vector<InstanceInfo>> list(const std::string& label_prefix) = 0;
};

}  // namespace ferry::providers
