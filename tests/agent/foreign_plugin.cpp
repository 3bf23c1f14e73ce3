// A plugin with the right entry point but the table of another version, as
// a plugin left from an older build would be: the agent must refuse it.

#include "agent/engines/torch_engines.hpp"

extern "C" __attribute__((visibility("default"))) const ferry::agent::TorchEngines* ferry_torch_engines() {
  static const ferry::agent::TorchEngines engines = [] {
    ferry::agent::TorchEngines table;
    table.version = ferry::agent::kTorchEnginesVersion + 1;
    return table;
  }();
  return &engines;
}
