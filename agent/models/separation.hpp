#pragma once
// The separation pipeline around Demucs networks, with demucs.apply's
// semantics: normalise by the mono downmix, cut into overlapping segments
// with triangular weights, optional random shifts, overlap-add, blend a bag
// of models with per-source weights, denormalise. Chunks are batched; on out
// of memory the batch is halved. Progress and cancel between batches.
//
// Work is streamed: every model (and every shift) walks its own chunk grid
// in step with the others, and output is handed out as soon as no later
// chunk can touch it. Memory stays bounded (a few segments per model) for
// inputs of any length, and the result is the same, sample for sample, as
// when the whole input is processed at once.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "agent/models/demucs_network.hpp"
#include "common/error.hpp"

namespace ferry::models {

/// One model of a bag and its weight per source (in the model's source order).
struct BagMember {
  const DemucsNetwork* network = nullptr;
  std::vector<double> weights;  ///< empty: 1 for every source
  /// v3 models only: a longer segment (in samples) from the bag file's `segment`.
  std::optional<std::int64_t> segment_samples;
};

/// Where a separation stands: chunks done out of the total planned.
struct SeparationProgress {
  std::int64_t done = 0;
  std::int64_t total = 0;
};

/// Knobs of a separation, with Demucs' defaults.
struct SeparationOptions {
  double overlap = 0.25;
  double transition_power = 1.0;
  int shifts = 0;               ///< random time shifts averaged (Demucs' CLI default is 1)
  std::uint64_t seed = 0;       ///< for the shift offsets
  /// Chunks per forward pass. When a pass runs out of memory its chunks are
  /// retried with half as many per pass, down to one; then the separation
  /// fails with resource_exhausted.
  int batch_size = 1;
  /// Called after every batch; returning false cancels the separation.
  std::function<bool(const SeparationProgress&)> on_progress;
};

/// Mean and standard deviation of the mono downmix of the whole input, by
/// which the mix is normalised (and the sources denormalised).
struct MixStatistics {
  double mean = 0;
  double std = 1;
};
/// The statistics of an in-memory mix (channels, samples).
MixStatistics mix_statistics(const at::Tensor& mix);

/// An input read piecewise: `read(begin, end)` returns samples [begin, end)
/// as (channels, end - begin) float32; 0 <= begin < end <= length. Reads go
/// forward with a bounded look-back (about a segment plus half a second).
struct MixSource {
  std::int64_t length = 0;
  MixStatistics statistics;
  std::function<Result<at::Tensor>(std::int64_t begin, std::int64_t end)> read;
};

/// Receives finished output in order: (sources, channels, n) float32 blocks.
using SeparationSink = std::function<Status(const at::Tensor& block)>;

/// Streams a separation from `source` into `sink`.
Status separate_stream(const std::vector<BagMember>& bag, const MixSource& source, const SeparationOptions& options,
                       const SeparationSink& sink);

/// Separates an in-memory `mix` (channels, samples) into (sources, channels, samples).
Result<at::Tensor> separate(const std::vector<BagMember>& bag, const at::Tensor& mix, const SeparationOptions& options);

}  // namespace ferry::models
