#pragma once
// How patiently `ferry run` polls and how long each stage of an instance may
// take: defaults per provider, adjustable from the environment for slow
// images or for tests:
//   FERRY_POLL_INTERVAL    pause between polls of the provider and the agent
//   FERRY_START_TIMEOUT    create to running, and running to agent READY, each
//   FERRY_DESTROY_TIMEOUT  destroy retries, and the wait until confirmed gone, each

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "controller/lifecycle.hpp"

namespace ferry::controller {

struct RunSettings {
  std::chrono::milliseconds poll_interval{1000};
  StageDeadlines deadlines;
};

/// Reads one environment variable (injectable for tests).
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

/// The settings for a run on `provider`. A variable that is set but is not a
/// positive duration is invalid_argument naming it and an example.
Result<RunSettings> run_settings_for(const std::string& provider, const EnvLookup& env);

}  // namespace ferry::controller
