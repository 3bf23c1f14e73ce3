#pragma once
// ACE-Step 1.5's condition encoder (checkpoint prefix `encoder.`): turns the
// text encoder's caption states, the lyric token embeddings and timbre
// reference latents into the one sequence the DiT cross-attends to, packed
// as [valid lyric tokens | timbre tokens | valid text tokens | padding].

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "agent/models/acestep/acestep_weights.hpp"
#include "agent/models/acestep/dit_config.hpp"
#include "common/error.hpp"

namespace ferry::acestep {

/// What one request conditions on. Masks are 1 (or true) for real tokens and
/// 0 for padding; an undefined mask means every token is real.
struct ConditionInputs {
  at::Tensor text_states;       ///< [B, Lt, text_hidden_dim]: the text encoder's last hidden state
  at::Tensor text_mask;         ///< [B, Lt]
  at::Tensor lyric_embeddings;  ///< [B, Ll, text_hidden_dim]: the text encoder's embedding lookup
  at::Tensor lyric_mask;        ///< [B, Ll]
  /// Reference latents of every item, packed: [N, frames, timbre_hidden_dim].
  /// Without a reference clip upstream passes the first `timbre_fix_frame`
  /// frames of the silence latent.
  at::Tensor timbre_references;
  /// Batch item of each reference (N entries, each in [0, B)); empty means
  /// reference i belongs to item i. An item may have several or none.
  std::vector<std::int64_t> timbre_order;
};

/// The packed conditions, in the network's dtype and device.
struct EncodedConditions {
  at::Tensor states;  ///< [B, L, hidden]
  at::Tensor mask;    ///< [B, L] bool: true for the first (valid) tokens of each item
};

/// The loaded condition encoder: text projector, lyric encoder (bidirectional
/// Qwen3-style layers), timbre encoder (same layers; the first frame's output
/// is the timbre token). Outputs are inference tensors; `encode` keeps no
/// state between calls.
class ConditionEncoder {
 public:
  /// Takes the `encoder.*` tensors from `weights` with the shapes `config`
  /// calls for (missing or mis-shaped tensors are recorded in `weights`;
  /// check `weights.finish()` once every network took its share).
  static Result<std::unique_ptr<ConditionEncoder>> create(const DitConfig& config, WeightTable& weights);
  ~ConditionEncoder();

  /// Encodes and packs. Inputs are moved to the weights' device and dtype;
  /// shapes and masks are checked first and reported by name.
  Result<EncodedConditions> encode(const ConditionInputs& inputs) const;

  struct Weights;  ///< defined in condition_encoder.cpp

 private:
  ConditionEncoder(DitConfig config, std::unique_ptr<Weights> weights);
  Status check(const ConditionInputs& inputs) const;

  DitConfig config_;
  std::unique_ptr<Weights> weights_;
};

/// Concatenates two masked sequences [B, L1, D] and [B, L2, D] and moves each
/// item's valid tokens to the front, keeping their order (a stable sort on the
/// mask); the new mask marks the first (valid count) positions. Upstream's
/// `pack_sequences`.
std::pair<at::Tensor, at::Tensor> pack_sequences(const at::Tensor& first, const at::Tensor& second,
                                                 const at::Tensor& first_mask, const at::Tensor& second_mask);

}  // namespace ferry::acestep
