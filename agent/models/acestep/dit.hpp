#pragma once
// ACE-Step 1.5's diffusion transformer (`AceStepDiTModel`, checkpoint prefix
// `decoder.`): predicts the flow velocity v = noise − data of latents x_t at
// time t, given the context latents and the packed conditions.
//
// Per request, `prepare` computes everything that does not change between
// sampler steps (the projected conditions and every layer's cross-attention
// keys and values); each step then only runs the latent path.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "agent/models/acestep/acestep_weights.hpp"
#include "agent/models/acestep/dit_config.hpp"
#include "agent/models/acestep/transformer_blocks.hpp"
#include "common/error.hpp"

namespace ferry::acestep {

/// What stays constant across the steps of one request.
struct DitConditioning {
  at::Tensor context_latents;           ///< [B or 1, T, 2 × latent channels]
  std::vector<KeyValues> cross_memory;  ///< per layer, [B or 1, kv heads, L, head_dim]
  at::Tensor memory_valid;              ///< [B or 1, L] bool, or undefined (all valid)
};

/// The loaded DiT. Inputs are moved to the weights' device and dtype; the
/// velocity comes back in them, as an inference tensor (computed under
/// LibTorch's InferenceMode: not to be modified in place outside it). The
/// methods keep no state between calls.
class AceStepDit {
 public:
  /// Takes the `decoder.*` tensors from `weights` with the shapes `config`
  /// calls for (problems are recorded in `weights`; check `weights.finish()`).
  static Result<std::unique_ptr<AceStepDit>> create(const DitConfig& config, WeightTable& weights);
  ~AceStepDit();

  const DitConfig& config() const { return config_; }

  /// Projects the packed conditions [B, L, hidden] and computes each layer's
  /// cross-attention keys and values once. `encoder_mask` [B, L] (bool or
  /// 0/1, undefined = all valid) hides padded condition tokens; upstream
  /// ignores it, which only matters for a batch mixing condition lengths
  /// (there it makes each item equal to running it alone). `context_latents`
  /// is [B, T, 2 × latent]: text-to-music uses [silence latent | ones].
  Result<DitConditioning> prepare(const at::Tensor& encoder_states, const at::Tensor& encoder_mask,
                                  const at::Tensor& context_latents) const;

  /// The velocity [B, T, latent] at x_t [B, T, latent] and time t (the same
  /// for every item; 1 = pure noise). Conditions of batch 1 serve any B. Odd
  /// T is zero-padded to the patch size inside and cropped on the way out.
  Result<at::Tensor> velocity(const at::Tensor& x_t, double t, const DitConditioning& conditioning) const;

  /// The same without a prepared conditioning: projects the conditions and
  /// every layer's keys and values inside the pass (one-off calls, tests).
  Result<at::Tensor> velocity(const at::Tensor& x_t, double t, const at::Tensor& context_latents,
                              const at::Tensor& encoder_states, const at::Tensor& encoder_mask) const;

  struct Weights;  ///< defined in dit.cpp

 private:
  AceStepDit(DitConfig config, std::unique_ptr<Weights> weights);
  Status check_latents(const at::Tensor& x_t, const at::Tensor& context_latents, std::int64_t condition_batch) const;
  Status check_conditions(const at::Tensor& encoder_states, const at::Tensor& encoder_mask) const;
  at::Tensor run(const at::Tensor& x_t, double t, const at::Tensor& context_latents, const at::Tensor& memory_valid,
                 const std::function<KeyValues(std::size_t layer)>& memory) const;

  DitConfig config_;
  std::unique_ptr<Weights> weights_;
};

}  // namespace ferry::acestep
