// The full-size ACE-Step 1.5 turbo condition encoder and DiT (2 B
// parameters), built from the published configuration with random weights:
// the architecture must build and run a step with the right shapes and no
// NaN. Every tensor is a view of one shared random buffer, so the test needs
// ~100 MB instead of 9 GB of weights. Timings: bench/generate.

#include <ATen/ATen.h>
#include <c10/util/accumulate.h>
#include <gtest/gtest.h>

#include "agent/models/acestep/published_configs.hpp"
#include "agent/models/acestep/turbo_model.hpp"
#include "agent/models/acestep/turbo_sampler.hpp"

namespace ferry::acestep {
namespace {

TEST(FullSizeTurbo, OneStepOnAShortInputHasTheRightShapeAndNoNaN) {
  auto config = parse_dit_config(kPublishedTurboConfig, "published acestep-v15-turbo/config.json");
  ASSERT_TRUE(config) << config.error().describe();
  std::int64_t parameters = 0;
  WeightTable weights([&parameters, pool = pooled_random_weights({}, 42)](const std::string& name, at::IntArrayRef shape) {
    parameters += c10::multiply_integers(shape);
    return pool(name, shape);
  });
  auto model = build_turbo_model(*config, weights);
  ASSERT_TRUE(model) << model.error().describe();
  // 2.394 B in the published file, less the 0.21 B of the 5 Hz tokenizer and
  // detokenizer and the CFG embedding, which are not built.
  EXPECT_GT(parameters, 2'150'000'000);
  EXPECT_LT(parameters, 2'200'000'000);

  constexpr std::int64_t kOddFrames = 7, kTextTokens = 6, kLyricTokens = 9;
  ConditionInputs in;
  in.text_states = at::randn({1, kTextTokens, 1024});
  in.lyric_embeddings = at::randn({1, kLyricTokens, 1024});
  in.timbre_references = at::randn({1, 4, 64});
  auto conditions = model->condition_encoder->encode(in);
  ASSERT_TRUE(conditions) << conditions.error().describe();
  EXPECT_EQ(conditions->states.sizes(), (std::vector<std::int64_t>{1, kTextTokens + kLyricTokens + 1, 2048}));

  auto context = text_to_music_context(at::randn({1, kOddFrames, 64}), kOddFrames);
  ASSERT_TRUE(context) << context.error().describe();
  auto conditioning = model->dit->prepare(conditions->states, conditions->mask, *context);
  ASSERT_TRUE(conditioning) << conditioning.error().describe();
  const at::Tensor noise = NoiseSource::create({1}).value().next(kOddFrames, 64, at::kCPU, at::kFloat);
  auto v = model->dit->velocity(noise, 1.0, *conditioning);
  ASSERT_TRUE(v) << v.error().describe();
  EXPECT_EQ(v->sizes(), (std::vector<std::int64_t>{1, kOddFrames, 64}));
  EXPECT_TRUE(at::isfinite(*v).all().item<bool>());
  EXPECT_GT(v->abs().max().item<double>(), 0.0);
}

}  // namespace
}  // namespace ferry::acestep
