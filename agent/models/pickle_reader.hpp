#pragma once
// A restricted unpickler for the subset of the pickle protocol that
// `torch.save` writes for checkpoints. It builds plain values and never
// executes anything: GLOBAL yields an inert class reference, and only three
// callables are "called" (by rebuilding data, not by running code):
// collections.OrderedDict, torch._utils._rebuild_tensor_v2 (and
// _rebuild_parameter), fractions.Fraction. Any other call is refused by name.

#include <cstdint>
#include <string_view>

#include "agent/models/pickle_value.hpp"
#include "common/error.hpp"

namespace ferry::models {

/// Bounds on what a pickle may build, so that hostile input cannot exhaust
/// memory or the native stack.
struct PickleLimits {
  std::uint32_t max_depth = 64;            ///< nesting of containers
  std::uint64_t max_nodes = 4'000'000;     ///< values reachable from one container
  std::uint64_t max_stack = 1'000'000;     ///< entries on the machine's stack
  std::uint64_t max_memo = 1'000'000;      ///< memo entries
  std::uint64_t max_string = 64ull << 20;  ///< bytes of one string
};

/// Reads one pickle from `bytes`. Errors name the opcode and its offset:
/// refused calls ("refusing to call os.system from the checkpoint"),
/// forbidden opcodes (INST, OBJ, NEWOBJ, ...), truncation, limits.
Result<ValuePtr> read_pickle(std::string_view bytes, const PickleLimits& limits = {});

}  // namespace ferry::models
