#include "controller/provider_factory.hpp"

#include <array>

#include "providers/api.hpp"
#include "providers/fly/fly_provider.hpp"
#include "providers/runpod/runpod_provider.hpp"
#include "providers/vast/vast_provider.hpp"

namespace ferry::controller {
namespace {

struct CloudCredential {
  std::string_view provider;
  const char* variable;
  std::string_view how_to_get_one;
};

constexpr std::array<CloudCredential, 3> kCredentials{{
    {"vast", "VAST_API_KEY", "create one at https://cloud.vast.ai/account/ and export VAST_API_KEY"},
    {"runpod", "RUNPOD_API_KEY",
     "create one at https://www.runpod.io/console/user/settings (API Keys) and export RUNPOD_API_KEY"},
    {"fly", "FLY_API_TOKEN", "create one with `fly tokens create org` and export FLY_API_TOKEN"},
}};

const CloudCredential* find_credential(std::string_view provider) {
  for (const auto& entry : kCredentials)
    if (entry.provider == provider) return &entry;
  return nullptr;
}

}  // namespace

const std::vector<std::string>& cloud_provider_names() {
  static const std::vector<std::string> names{"vast", "runpod", "fly"};
  return names;
}

bool is_known_provider(std::string_view name) { return name == "local" || find_credential(name) != nullptr; }

const char* credential_variable(std::string_view provider) {
  const CloudCredential* entry = find_credential(provider);
  return entry ? entry->variable : nullptr;
}

bool has_credentials(std::string_view provider) {
  const char* variable = credential_variable(provider);
  return !variable || providers::env_value(variable).has_value();
}

Result<std::unique_ptr<providers::Provider>> make_provider(std::string_view name,
                                                           const ProviderFactoryOptions& options) {
  if (name == "local") return std::make_unique<providers::LocalProvider>(options.local);
  const CloudCredential* entry = find_credential(name);
  if (!entry)
    return fail(ErrorCode::invalid_argument,
                "no provider '" + std::string(name) + "'; use one of: vast, runpod, fly, local", "provider");
  if (options.require_credentials) {
    auto credential = providers::credential_from_env(entry->provider, entry->variable, entry->how_to_get_one);
    if (!credential) return fail(credential.error());
  }
  // Each provider reads its own credential and FERRY_*_API_URL overrides when
  // its options leave them empty, so defaults are what we want here.
  if (name == "vast") return std::make_unique<providers::vast::VastProvider>();
  if (name == "runpod") return std::make_unique<providers::runpod::RunpodProvider>();
  return std::make_unique<providers::fly::FlyProvider>();
}

}  // namespace ferry::controller
