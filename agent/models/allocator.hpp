#pragma once
// Memory allocation policy for inference on the CPU.

namespace ferry::models {

/// Tunes glibc's malloc for running networks on the CPU. Every layer
/// allocates and frees tensors of tens of megabytes; by default each one is
/// a fresh mmap whose pages are faulted in and zeroed on first touch and
/// unmapped on free, which costs about as much CPU time as the arithmetic.
/// Serving them from the heap, and returning freed memory to the system only
/// past 128 MB, roughly halves the CPU time of a separation for about the
/// same peak memory. Process-wide and idempotent; a no-op without glibc.
void tune_allocator_for_inference();

}  // namespace ferry::models
