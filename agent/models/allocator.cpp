#include "agent/models/allocator.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ferry::models {

void tune_allocator_for_inference() {
#if defined(__GLIBC__)
  // No allocation is large enough to be worth its own mapping (glibc refuses
  // thresholds above its limit; 32 MB is within it on every 64-bit build).
  if (mallopt(M_MMAP_THRESHOLD, 1 << 30) == 0) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

}  // namespace ferry::models
