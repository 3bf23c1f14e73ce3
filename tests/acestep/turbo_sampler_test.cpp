// The turbo sampler on velocity fields whose solutions are known exactly,
// its schedules, seeded noise, progress and cancellation.

#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "agent/models/acestep/turbo_sampler.hpp"

namespace ferry::acestep {
namespace {

constexpr std::int64_t kFrames = 12;
constexpr std::int64_t kChannels = 4;

at::Tensor random_latents(std::uint64_t seed) {
  return NoiseSource::create({seed}).value().next(kFrames, kChannels, at::kCPU, at::kDouble);
}

SamplerOptions turbo_options(int shift = 3) {
  SamplerOptions options;
  options.timesteps = turbo_schedule(shift).value();
  return options;
}

TEST(TurboSchedule, TablesEqualTheClosedForm) {
  for (int shift = 1; shift <= 3; ++shift) {
    const auto table = turbo_schedule(shift);
    const auto formula = shifted_schedule(shift, kTurboSteps);
    ASSERT_TRUE(table && formula);
    ASSERT_EQ(table->size(), static_cast<std::size_t>(kTurboSteps));
    for (std::size_t i = 0; i < table->size(); ++i) {
      EXPECT_NEAR((*table)[i], (*formula)[i], 1e-12) << "shift " << shift << ", step " << i;
    }
  }
}

TEST(TurboSchedule, ShiftThreeIsThePublishedDefault) {
  const std::vector<double> expected = {1.0, 0.9545454545, 0.9, 0.8333333333, 0.75, 0.6428571429, 0.5, 0.3};
  const auto table = turbo_schedule(3).value();
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(table[i], expected[i], 1e-10);
}

TEST(TurboSchedule, UnsupportedShiftsAndStepsAreRefused) {
  EXPECT_FALSE(turbo_schedule(0));
  EXPECT_FALSE(turbo_schedule(4));
  EXPECT_EQ(turbo_schedule(4).error().field, "shift");
  EXPECT_FALSE(shifted_schedule(0.0, 8));
  EXPECT_FALSE(shifted_schedule(std::nan(""), 8));
  EXPECT_FALSE(shifted_schedule(3.0, 0));
}

// v(x, t) = (x − c)/t is the velocity of straight paths x_t = c + t·(n − c):
// Euler steps follow them exactly, so every step must see x on the path.
TEST(TurboSampler, EulerStepsFollowStraightFlowsExactly) {
  const at::Tensor noise = random_latents(1);
  const at::Tensor data = random_latents(2);
  for (int shift = 1; shift <= 3; ++shift) {
    std::vector<double> seen;
    auto x0 = sample_turbo(
        noise,
        [&](const at::Tensor& x, double t) -> Result<at::Tensor> {
          seen.push_back(t);
          EXPECT_TRUE(at::allclose(x, data + t * (noise - data), 1e-12, 1e-12)) << "shift " << shift << ", t " << t;
          return (x - data) / t;
        },
        turbo_options(shift));
    ASSERT_TRUE(x0) << x0.error().describe();
    EXPECT_TRUE(at::allclose(*x0, data, 1e-12, 1e-12));
    EXPECT_EQ(seen, turbo_schedule(shift).value());
  }
}

// v(x, t) = x − c is not solved exactly by Euler, but its discrete solution
// is: each step scales x − c by (1 − Δt), the last one by (1 − t_last).
TEST(TurboSampler, LinearFieldMatchesItsDiscreteClosedForm) {
  const at::Tensor noise = random_latents(3);
  const at::Tensor centre = random_latents(4);
  const auto times = turbo_schedule(3).value();
  double factor = 1.0;
  for (std::size_t i = 0; i + 1 < times.size(); ++i) factor *= 1.0 - (times[i] - times[i + 1]);
  factor *= 1.0 - times.back();
  auto x0 = sample_turbo(
      noise, [&](const at::Tensor& x, double) -> Result<at::Tensor> { return x - centre; }, turbo_options());
  ASSERT_TRUE(x0) << x0.error().describe();
  EXPECT_TRUE(at::allclose(*x0, centre + factor * (noise - centre), 1e-12, 1e-12));
}

TEST(TurboSampler, TimesAreRoundedToTheLatentsDtype) {
  std::vector<double> seen;
  const at::Tensor noise = at::zeros({1, 2, 2}, at::kFloat);
  auto x0 = sample_turbo(
      noise,
      [&](const at::Tensor& x, double t) -> Result<at::Tensor> {
        seen.push_back(t);
        return at::zeros_like(x);
      },
      turbo_options());
  ASSERT_TRUE(x0);
  EXPECT_EQ(seen[1], static_cast<double>(static_cast<float>(0.9545454545454546)));
}

// The sde variant predicts x̂0 = x − v·t and re-noises it to t_next with the
// item's generator; with v = (x − c)/t the prediction is c at every step.
TEST(TurboSampler, StochasticStepsRenoiseThePredictionWithTheSeededStream) {
  const at::Tensor centre = random_latents(5);
  auto draws = NoiseSource::create({11, 12}).value();
  auto stream = NoiseSource::create({11, 12}).value();
  const at::Tensor noise = draws.next(kFrames, kChannels, at::kCPU, at::kDouble);
  stream.next(kFrames, kChannels, at::kCPU, at::kDouble);  // keep the copy in step
  const at::Tensor target = centre.expand({2, -1, -1});
  SamplerOptions options = turbo_options();
  options.method = SamplerMethod::sde;
  options.renoise = &draws;
  int step = 0;
  at::Tensor expected = noise;
  auto x0 = sample_turbo(
      noise,
      [&](const at::Tensor& x, double t) -> Result<at::Tensor> {
        EXPECT_TRUE(at::allclose(x, expected, 1e-12, 1e-12)) << "step " << step;
        if (++step < kTurboSteps) {
          const double t_next = options.timesteps[static_cast<std::size_t>(step)];
          expected = t_next * stream.next(kFrames, kChannels, at::kCPU, at::kDouble) + (1 - t_next) * target;
        }
        return (x - target) / t;
      },
      options);
  ASSERT_TRUE(x0) << x0.error().describe();
  EXPECT_TRUE(at::allclose(*x0, target, 1e-12, 1e-12));

  options.renoise = nullptr;
  EXPECT_FALSE(sample_turbo(noise, [](const at::Tensor& x, double) -> Result<at::Tensor> { return x; }, options));
}

TEST(NoiseSourceTest, EachItemIsReproducibleFromItsSeedAlone) {
  const at::Tensor pair = NoiseSource::create({7, 8}).value().next(5, 3, at::kCPU, at::kFloat);
  const at::Tensor first = NoiseSource::create({7}).value().next(5, 3, at::kCPU, at::kFloat);
  const at::Tensor second = NoiseSource::create({8}).value().next(5, 3, at::kCPU, at::kFloat);
  ASSERT_EQ(pair.sizes(), (std::vector<std::int64_t>{2, 5, 3}));
  EXPECT_TRUE(at::equal(pair[0], first[0]));
  EXPECT_TRUE(at::equal(pair[1], second[0]));
  EXPECT_FALSE(at::equal(first, second));
  // The same seed again gives the same noise; a second draw continues the stream.
  auto source = NoiseSource::create({7}).value();
  EXPECT_TRUE(at::equal(source.next(5, 3, at::kCPU, at::kFloat), first));
  EXPECT_FALSE(at::equal(source.next(5, 3, at::kCPU, at::kFloat), first));
}

TEST(NoiseSourceTest, BatchesOfOneToEightItems) {
  EXPECT_FALSE(NoiseSource::create({}));
  EXPECT_TRUE(NoiseSource::create(std::vector<std::uint64_t>(8, 1)));
  const auto nine = NoiseSource::create(std::vector<std::uint64_t>(9, 1));
  ASSERT_FALSE(nine);
  EXPECT_EQ(nine.error().field, "batch");
}

TEST(TurboSampler, ReportsEveryStepAndCancelsBetweenSteps) {
  const at::Tensor noise = random_latents(6);
  for (int cancel_after = 1; cancel_after <= kTurboSteps; ++cancel_after) {
    int calls = 0;
    std::vector<int> reported;
    SamplerOptions options = turbo_options();
    options.on_step = [&](const SamplerProgress& progress) {
      EXPECT_EQ(progress.total, kTurboSteps);
      EXPECT_EQ(progress.t, options.timesteps[static_cast<std::size_t>(progress.step - 1)]);
      reported.push_back(progress.step);
      return progress.step < cancel_after;
    };
    auto x0 = sample_turbo(
        noise,
        [&](const at::Tensor& x, double) -> Result<at::Tensor> {
          ++calls;
          return at::zeros_like(x);
        },
        options);
    EXPECT_EQ(calls, cancel_after);
    EXPECT_EQ(reported.size(), static_cast<std::size_t>(cancel_after));
    if (cancel_after < kTurboSteps) {
      ASSERT_FALSE(x0);
      EXPECT_EQ(x0.error().code, ErrorCode::cancelled);
    } else {
      EXPECT_TRUE(x0);  // nothing was left to cancel
    }
  }
}

TEST(TurboSampler, VelocityProblemsStopTheRun) {
  const at::Tensor noise = random_latents(7);
  int calls = 0;
  auto failing = sample_turbo(
      noise,
      [&](const at::Tensor&, double) -> Result<at::Tensor> {
        ++calls;
        return fail(ErrorCode::resource_exhausted, "out of memory");
      },
      turbo_options());
  ASSERT_FALSE(failing);
  EXPECT_EQ(failing.error().code, ErrorCode::resource_exhausted);
  EXPECT_EQ(calls, 1);

  auto nan = sample_turbo(
      noise, [](const at::Tensor& x, double) -> Result<at::Tensor> { return at::full_like(x, NAN); }, turbo_options());
  ASSERT_FALSE(nan);
  EXPECT_EQ(nan.error().code, ErrorCode::internal);

  auto shape = sample_turbo(
      noise, [](const at::Tensor& x, double) -> Result<at::Tensor> { return x.narrow(1, 0, 1); }, turbo_options());
  ASSERT_FALSE(shape);
}

TEST(TurboSampler, BadSchedulesAreRefused) {
  const at::Tensor noise = random_latents(8);
  const auto identity = [](const at::Tensor& x, double) -> Result<at::Tensor> { return x; };
  SamplerOptions options;
  EXPECT_FALSE(sample_turbo(noise, identity, options));
  options.timesteps = {1.0, 0.5, 0.5};
  EXPECT_FALSE(sample_turbo(noise, identity, options));
  options.timesteps = {1.5, 0.5};
  EXPECT_FALSE(sample_turbo(noise, identity, options));
  options.timesteps = {1.0, 0.0};
  EXPECT_FALSE(sample_turbo(noise, identity, options));
}

}  // namespace
}  // namespace ferry::acestep
