// libFuzzer entry point: any byte string given to the checkpoint readers must
// yield a value or an error, never a crash, a hang or unbounded memory.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/models/checkpoint_contents.hpp"
#include "agent/models/pickle_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  // Small limits keep each run fast; the logic is the same as with the defaults.
  ferry::models::PickleLimits limits;
  limits.max_nodes = 100'000;
  limits.max_stack = 100'000;
  limits.max_memo = 100'000;
  limits.max_string = 1 << 20;
  (void)ferry::models::parse_checkpoint(std::make_shared<const std::string>(bytes), limits);
  // The pickle reader alone sees the input directly, without the archive's CRC.
  (void)ferry::models::read_pickle(bytes, limits);
  return 0;
}
