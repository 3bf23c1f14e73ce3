#pragma once
// The turbo sampler of ACE-Step 1.5 (`generate_audio` of the turbo model):
// eight flow-matching steps from noise (t = 1) towards data (t = 0) on a
// shifted schedule, with the convention x_t = t·noise + (1 − t)·data and the
// network predicting v = noise − data.
//
// Each step asks the velocity field for v at (x, t_i), then
// - ode (default): x ← x − v·(t_i − t_{i+1})  (an Euler step);
// - sde: x̂0 = x − v·t_i, then x ← t_{i+1}·ε + (1 − t_{i+1})·x̂0 with fresh
//   noise ε (upstream's "sde": re-noise the predicted data);
// and the last step jumps to the data estimate x0 = x − v·t_last.
//
// Noise is reproducible per seed: each batch item has its own LibTorch CPU
// generator (mt19937) seeded with its seed, and draws float32 normals of
// [1, frames, channels], converted to the target device and dtype. That equals
// Python's `torch.randn((1, T, C), generator=torch.Generator().manual_seed(s))`
// on CPU; upstream on CUDA draws with Philox in bfloat16, so songs do not
// match upstream's for the same seed. The sde variant keeps drawing from the
// same generators, so a seed also fixes its re-noising (upstream uses the
// unseeded global generator there).

#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "common/error.hpp"

namespace ferry::acestep {

/// Steps of the turbo schedules (the model was distilled for exactly these).
inline constexpr int kTurboSteps = 8;
/// Items one request may generate at once.
inline constexpr int kMaxBatch = 8;

/// The published schedule for shift 1, 2 or 3 (3 is the turbo default):
/// eight times from 1 down, without the final 0. Other shifts are refused.
Result<std::vector<double>> turbo_schedule(int shift);

/// The closed form the tables come from: s·u / (1 + (s − 1)·u) for
/// u = 1, 1 − 1/steps, ..., 1/steps. Shift must be positive, steps ≥ 1.
Result<std::vector<double>> shifted_schedule(double shift, int steps);

/// How a step moves from t_i to t_{i+1}.
enum class SamplerMethod { ode, sde };

/// Seeded Gaussian noise, one generator per batch item (see the file comment).
class NoiseSource {
 public:
  /// One seed per item; 1 to kMaxBatch items.
  static Result<NoiseSource> create(const std::vector<std::uint64_t>& seeds);
  /// The next draw [items, frames, channels] on `device` in `dtype`.
  at::Tensor next(std::int64_t frames, std::int64_t channels, c10::Device device, c10::ScalarType dtype);
  std::int64_t items() const { return static_cast<std::int64_t>(generators_.size()); }

 private:
  std::vector<at::Generator> generators_;
};

/// Where the sampler is, reported after each step.
struct SamplerProgress {
  int step = 0;   ///< steps done, 1..total
  int total = 0;  ///< steps in the schedule
  double t = 0;   ///< the time the step started from
};

/// v(x, t) for x [B, T, C]; errors abort the sampling and are passed on.
using VelocityField = std::function<Result<at::Tensor>(const at::Tensor& x, double t)>;
/// Called after every step; returning false cancels before the next one.
using StepCallback = std::function<bool(const SamplerProgress& progress)>;

/// How to sample.
struct SamplerOptions {
  std::vector<double> timesteps;  ///< strictly decreasing, in (0, 1]; e.g. turbo_schedule(3)
  SamplerMethod method = SamplerMethod::ode;
  NoiseSource* renoise = nullptr;  ///< required by sde: fresh noise per step
  StepCallback on_step;            ///< optional progress and cancellation
};

/// Runs the schedule from `noise` [B, T, C] and returns the data estimate x0
/// (same shape, device and dtype; an inference tensor, as the loop runs
/// under LibTorch's InferenceMode). Each time is first rounded to the noise's
/// dtype, as upstream holds the schedule in the model's dtype. Cancelling
/// (the callback returning false before the last step) gives
/// ErrorCode::cancelled; a velocity of the wrong shape or with NaN/Inf is an
/// internal error naming the step.
Result<at::Tensor> sample_turbo(const at::Tensor& noise, const VelocityField& velocity, const SamplerOptions& options);

}  // namespace ferry::acestep
