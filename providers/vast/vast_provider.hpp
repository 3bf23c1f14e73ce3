#pragma once
// Vast.ai: a marketplace of GPU hosts. Offers come from a live search, an
// instance is created on one offer, the agent's port is reached through the
// host's public address and a randomly mapped port.

#include <memory>
#include <optional>
#include <string>

#include "providers/api.hpp"
#include "providers/provider.hpp"
#include "providers/vast/request.hpp"

namespace ferry::providers::vast {

inline constexpr const char* kDefaultApiUrl = "https://console.vast.ai";

struct VastOptions {
  /// Empty: $FERRY_VAST_API_URL, else kDefaultApiUrl.
  std::string api_url;
  /// Empty: $VAST_API_KEY. Never logged.
  std::optional<std::string> api_key;
  SearchOptions search;
  TransportOptions transport;
  /// Attempts to destroy an instance left by a failed create before giving up.
  int cleanup_attempts = 4;
  /// Most pages of the instance list read by list() (25 instances each).
  int max_list_pages = 200;
};

class VastProvider final : public Provider {
 public:
  explicit VastProvider(VastOptions options = {});

  std::string name() const override { return "vast"; }
  /// Live search, ranked cheapest first; unreadable rows are skipped.
  Result<std::vector<Offer>> search(const config::Resources& request) override;
  /// A failed create that still made an instance destroys it before
  /// returning the error.
  Result<std::string> create(const Offer& offer, const LaunchSpec& launch) override;
  Result<InstanceInfo> get(const std::string& id) override;
  Status destroy(const std::string& id) override;
  Result<std::vector<InstanceInfo>> list(const std::string& label_prefix) override;

  /// The agent port get() resolves (the last create's, 8185 by default).
  void set_agent_port(int port) { agent_port_ = port; }

 private:
  Status require_key();

  VastOptions options_;
  std::unique_ptr<ApiTransport> transport_;
  int agent_port_ = 8185;
};

}  // namespace ferry::providers::vast
