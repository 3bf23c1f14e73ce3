#include "agent/models/acestep/turbo_sampler.hpp"

#include <array>
#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

namespace ferry::acestep {
namespace {

// Upstream's hard-coded tables (SHIFT_TIMESTEPS of generate_audio).
constexpr std::array<std::array<double, kTurboSteps>, 3> kTurboTables = {{
    {1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125},
    {1.0, 0.9333333333333333, 0.8571428571428571, 0.7692307692307693, 0.6666666666666666, 0.5454545454545454, 0.4,
     0.2222222222222222},
    {1.0, 0.9545454545454546, 0.9, 0.8333333333333334, 0.75, 0.6428571428571429, 0.5, 0.3},
}};

// The value a number takes once stored in `dtype` (upstream keeps the
// schedule and step sizes in the model's dtype).
double in_dtype(double value, c10::ScalarType dtype) {
  return at::full({}, value, at::TensorOptions().dtype(dtype)).item<double>();
}

Status check_schedule(const std::vector<double>& times) {
  if (times.empty()) return fail(ErrorCode::invalid_argument, "the schedule has no timesteps", "timesteps");
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (!(times[i] > 0.0 && times[i] <= 1.0)) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("timestep {} is {}, outside (0, 1]", i, times[i]), "timesteps");
    }
    if (i > 0 && !(times[i] < times[i - 1])) {
      return fail(ErrorCode::invalid_argument, "timesteps must be strictly decreasing", "timesteps");
    }
  }
  return {};
}

// The step loop; sample_turbo has validated the options.
Result<at::Tensor> run_schedule(const at::Tensor& noise, const VelocityField& velocity, const SamplerOptions& options) {
  const c10::ScalarType dtype = noise.scalar_type();
  std::vector<double> times;
  for (const double t : options.timesteps) times.push_back(in_dtype(t, dtype));
  const int total = static_cast<int>(times.size());

  at::Tensor x = noise;
  for (int step = 0; step < total; ++step) {
    const double t = times[static_cast<std::size_t>(step)];
    auto v = velocity(x, t);
    if (!v) return fail(v.error());
    if (!v->defined() || v->sizes() != x.sizes()) {
      return fail(ErrorCode::internal, fmt::format("step {}: the velocity's shape differs from the latents'", step + 1));
    }
    if (!at::isfinite(*v).all().item<bool>()) {
      return fail(ErrorCode::internal, fmt::format("step {} (t = {}): the velocity holds NaN or infinity", step + 1, t));
    }
    const at::Tensor velocity_now = v->to(x.scalar_type());
    if (step == total - 1) {
      x = x - velocity_now * t;
    } else {
      const double t_next = times[static_cast<std::size_t>(step) + 1];
      if (options.method == SamplerMethod::ode) {
        x = x - velocity_now * in_dtype(t - t_next, dtype);
      } else {
        const at::Tensor data = x - velocity_now * t;
        const at::Tensor fresh = options.renoise->next(x.size(1), x.size(2), x.device(), dtype);
        x = fresh * t_next + data * (1.0 - t_next);
      }
    }
    const bool go_on = !options.on_step || options.on_step(SamplerProgress{step + 1, total, t});
    if (!go_on && step < total - 1) {
      return fail(ErrorCode::cancelled, fmt::format("sampling cancelled after step {} of {}", step + 1, total));
    }
  }
  return x;
}

}  // namespace

Result<std::vector<double>> turbo_schedule(int shift) {
  if (shift < 1 || shift > 3) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("turbo shift must be 1, 2 or 3 (3 is the default), not {}", shift), "shift");
  }
  const auto& table = kTurboTables[static_cast<std::size_t>(shift - 1)];
  return std::vector<double>(table.begin(), table.end());
}

Result<std::vector<double>> shifted_schedule(double shift, int steps) {
  if (!(shift > 0.0) || !std::isfinite(shift)) {
    return fail(ErrorCode::invalid_argument, fmt::format("shift must be a positive number, not {}", shift), "shift");
  }
  if (steps < 1) return fail(ErrorCode::invalid_argument, fmt::format("steps must be at least 1, not {}", steps), "steps");
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    const double u = 1.0 - static_cast<double>(i) / steps;
    times.push_back(shift * u / (1.0 + (shift - 1.0) * u));
  }
  return times;
}

Result<NoiseSource> NoiseSource::create(const std::vector<std::uint64_t>& seeds) {
  if (seeds.empty() || seeds.size() > static_cast<std::size_t>(kMaxBatch)) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("a batch has 1 to {} items, not {}", kMaxBatch, seeds.size()), "batch");
  }
  NoiseSource source;
  for (const std::uint64_t seed : seeds) source.generators_.push_back(at::make_generator<at::CPUGeneratorImpl>(seed));
  return source;
}

at::Tensor NoiseSource::next(std::int64_t frames, std::int64_t channels, c10::Device device, c10::ScalarType dtype) {
  std::vector<at::Tensor> items;
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  for (auto& generator : generators_) items.push_back(at::randn({1, frames, channels}, generator, f32));
  return at::cat(items, 0).to(device, dtype);
}

Result<at::Tensor> sample_turbo(const at::Tensor& noise, const VelocityField& velocity, const SamplerOptions& options) {
  if (auto ok = check_schedule(options.timesteps); !ok) return fail(ok.error());
  if (!noise.defined() || noise.dim() != 3) {
    return fail(ErrorCode::invalid_argument, "noise must be [batch, frames, channels]", "noise");
  }
  if (options.method == SamplerMethod::sde &&
      (options.renoise == nullptr || options.renoise->items() != noise.size(0))) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("the sde sampler needs a noise source with one generator per item ({})", noise.size(0)),
                "renoise");
  }
  try {
    c10::InferenceMode guard;
    return run_schedule(noise, velocity, options);
  } catch (const std::exception& e) {
    return fail(ErrorCode::internal, std::string("sampling failed: ") + e.what());
  }
}

}  // namespace ferry::acestep
