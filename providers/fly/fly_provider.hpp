#pragma once
// Fly.io Machines: CPU machines only (Fly's GPUs were retired on
// 2026-08-01). One app per instance: create the app, give it a shared IPv4
// address, create a performance machine serving the agent's port on 443;
// destroy deletes the machine (force) and then the app.

#include <memory>
#include <optional>
#include <string>

#include "providers/api.hpp"
#include "providers/fly/request.hpp"
#include "providers/provider.hpp"
#include "providers/rate_limit.hpp"

namespace ferry::providers::fly {

inline constexpr const char* kDefaultApiUrl = "https://api.machines.dev";

struct FlyOptions {
  std::string api_url;           ///< empty: $FERRY_FLY_API_URL, else kDefaultApiUrl
  std::string app_url_template;  ///< empty: $FERRY_FLY_APP_URL, else https://{app}.fly.dev
  std::optional<std::string> api_token;  ///< empty: $FLY_API_TOKEN. Never logged.
  FlySettings settings;
  TransportOptions transport;
};

class FlyProvider final : public Provider {
 public:
  explicit FlyProvider(FlyOptions options = {});

  std::string name() const override { return "fly"; }
  /// Performance CPU sizes; a GPU request is an unsupported error saying why.
  Result<std::vector<Offer>> search(const config::Resources& request) override;
  /// App, address, machine; on a failure after the app exists the app is
  /// deleted again. Returns "<app>/<machine>" without waiting for the boot.
  Result<std::string> create(const Offer& offer, const LaunchSpec& launch) override;
  Result<InstanceInfo> get(const std::string& id) override;
  Status destroy(const std::string& id) override;
  /// Machines labelled with the prefix in apps named "ferry-...".
  Result<std::vector<InstanceInfo>> list(const std::string& label_prefix) override;

 private:
  Status require_token();
  /// Waits as Fly's documented limits require before a call of `action` on `key`.
  void pace(const std::string& action, const std::string& key);
  Result<HttpResponse> send(const ApiRequest& request, const std::string& action, const std::string& key,
                            const std::string& step);
  Status delete_app(const std::string& app);

  FlyOptions options_;
  std::unique_ptr<ApiTransport> transport_;
  TokenBuckets buckets_;
};

}  // namespace ferry::providers::fly
