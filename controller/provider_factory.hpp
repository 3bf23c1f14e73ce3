#pragma once
// Turns a provider name (from a manifest or `--provider`) into a Provider,
// with credentials and API base URLs from the environment (see DESIGN.md,
// "Environment"). The one place that knows every provider by name.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "providers/local/local_provider.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

/// The providers that rent machines (everything but `local`), in the order
/// `ferry gc` visits them.
const std::vector<std::string>& cloud_provider_names();

/// Every name a manifest or `--provider` may give: the clouds and `local`.
bool is_known_provider(std::string_view name);

/// The environment variable holding a cloud's credential ("VAST_API_KEY"),
/// or nullptr for `local` and unknown names.
const char* credential_variable(std::string_view provider);

/// Whether the credential a cloud needs is set (always true for `local`).
bool has_credentials(std::string_view provider);

struct ProviderFactoryOptions {
  /// Fail at once, naming the variable to set, when the credential is
  /// missing. Off for read-only uses that work without one (Vast's search).
  bool require_credentials = true;
  /// For `local` only: how its agents are started.
  providers::LocalProviderOptions local;
};

/// The provider called `name`. An unknown name is invalid_argument listing
/// the known ones; a missing credential is unauthenticated naming the
/// variable and where to get one.
Result<std::unique_ptr<providers::Provider>> make_provider(std::string_view name,
                                                           const ProviderFactoryOptions& options = {});

}  // namespace ferry::controller
