// The full-size text encoder (Qwen3-Embedding-0.6B) and VAE decoder of
// ACE-Step 1.5 built from their published configs with random weights: they
// build, run a short input on the CPU, and give finite outputs of the right
// shape. The VAE smoke runs always; the text encoder (2.4 GB of float32
// weights) only with FERRY_ACESTEP_FULL_SIZE=1. Timings: bench/generate.

#include <cstdint>
#include <cstdlib>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "agent/models/acestep/oobleck_vae.hpp"
#include "agent/models/acestep/published_configs.hpp"
#include "agent/models/acestep/qwen3_encoder.hpp"

namespace ferry::acestep {
namespace {

bool full_size_requested() {
  const char* flag = std::getenv("FERRY_ACESTEP_FULL_SIZE");
  return flag != nullptr && std::string(flag) == "1";
}

TEST(FullSizeVae, DecodesAShortLatentWithRandomWeights) {
  auto json = ModelConfig::parse(kPublishedVaeConfig, "ACE-Step vae/config.json");
  ASSERT_TRUE(json);
  auto config = parse_oobleck_config(*json);
  ASSERT_TRUE(config) << config.error().describe();
  WeightTable table(random_weights({}, 1));
  auto vae = OobleckDecoder::create(*config, table, at::kFloat);
  ASSERT_TRUE(vae) << vae.error().describe();
  EXPECT_EQ((*vae)->hop_length(), 1920);
  const at::Tensor latent = at::randn({1, 64, 3});
  auto audio = (*vae)->decode(latent);
  ASSERT_TRUE(audio) << audio.error().describe();
  EXPECT_EQ(audio->sizes(), (std::vector<std::int64_t>{1, 2, 3 * 1920}));
  EXPECT_TRUE(at::isfinite(*audio).all().item<bool>());
  EXPECT_GT(audio->abs().max().item<double>(), 0);
}

TEST(FullSizeQwen3, EncodesACaptionWithRandomWeights) {
  if (!full_size_requested()) GTEST_SKIP() << "set FERRY_ACESTEP_FULL_SIZE=1 to build the 0.6B text encoder";
  auto json = ModelConfig::parse(kPublishedQwen3EmbeddingConfig, "Qwen3-Embedding-0.6B/config.json");
  ASSERT_TRUE(json);
  auto config = parse_qwen3_config(*json);
  ASSERT_TRUE(config) << config.error().describe();
  WeightTable table(random_weights({}, 2));
  auto encoder = Qwen3Encoder::create(*config, table);
  ASSERT_TRUE(encoder) << encoder.error().describe();
  const at::Tensor ids = at::randint(0, 151669, {1, 128}, at::kLong);
  auto hidden = (*encoder)->forward(ids);
  ASSERT_TRUE(hidden) << hidden.error().describe();
  EXPECT_EQ(hidden->sizes(), (std::vector<std::int64_t>{1, 128, 1024}));
  EXPECT_TRUE(at::isfinite(*hidden).all().item<bool>());
}

}  // namespace
}  // namespace ferry::acestep
