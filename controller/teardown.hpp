#pragma once
// Verified teardown, shared by `ferry run`, `ferry down` and `ferry gc`:
// destroy (repeated while it fails) and then poll until the provider says the
// instance is gone. An instance is only ever reported stopped once confirmed.

#include <chrono>
#include <functional>
#include <string>

#include "common/error.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

struct TeardownOptions {
  /// Longest the whole teardown (destroy retries + confirmation) may take.
  std::chrono::milliseconds deadline{std::chrono::minutes(5)};
  /// Pause between destroy attempts and between confirmation polls.
  std::chrono::milliseconds interval{std::chrono::milliseconds(500)};
  /// How to wait (tests may shorten it); default: sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
};

/// Destroys `instance_id` and waits until get() reports it gone. On failure
/// the error names the provider, the instance, the last answer and what to
/// do ("it may still be billing: ..."); its code is unavailable.
Status destroy_and_confirm_gone(providers::Provider& provider, const std::string& instance_id,
                                const TeardownOptions& options = {});

}  // namespace ferry::controller
