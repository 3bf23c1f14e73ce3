#pragma once
// `ferry gc`: finds instances labelled `ferry:` at every provider whose
// credentials are set that no live run owns, lists them, and destroys them
// (after a yes on a terminal, or with --yes), confirming each is gone.

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "controller/exit_codes.hpp"
#include "controller/teardown.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

/// What gc makes of one listed instance.
struct GcCandidate {
  std::string provider;
  providers::InstanceInfo instance;
  std::string run_id;  ///< from the label "ferry:<run-id>"
  enum class Verdict { collect, live_run, kept } verdict = Verdict::collect;
};

/// Sorts `listed` (one provider's `list("ferry:")`): instances of a run whose
/// controller is alive are spared, so are those recorded as kept (`--keep`,
/// stopped with `ferry down`); already gone ones are dropped; the rest are
/// collected. Pure.
std::vector<GcCandidate> classify_listed(const std::string& provider,
                                         const std::vector<providers::InstanceInfo>& listed,
                                         const std::function<bool(const std::string& run_id)>& run_is_live,
                                         const std::function<bool(const std::string& instance_id)>& is_kept);

struct GcOptions {
  bool yes = false;                  ///< destroy without asking
  std::vector<std::string> providers;  ///< empty: every cloud whose credential is set
  TeardownOptions teardown;
  /// Asks the user; default reads a line from stdin when it is a terminal,
  /// and is absent (so gc refuses) otherwise.
  std::function<bool(const std::string& question)> confirm;
};

/// The whole command. ok when nothing is left to collect (or all of it was
/// destroyed and confirmed gone); usage when collection was needed but not
/// confirmed (no terminal and no --yes); teardown_failed when an instance
/// could not be confirmed gone or a provider could not be listed.
ExitCode collect_garbage(const GcOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace ferry::controller
