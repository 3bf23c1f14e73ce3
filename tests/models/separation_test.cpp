// The separation pipeline against the reference implementation's whole
// pipeline (apply_model with overlap 0.25, no shifts), single models and a bag.

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "agent/models/checkpoint.hpp"
#include "agent/models/chunk_plan.hpp"
#include "agent/models/separation.hpp"
#include "fixtures.hpp"

namespace ferry::models {
namespace {

using testing::demucs_fixture;

std::unique_ptr<DemucsNetwork> load_network(const std::filesystem::path& file) {
  auto checkpoint = load_demucs_checkpoint(file);
  EXPECT_TRUE(checkpoint) << checkpoint.error().describe();
  if (!checkpoint) return nullptr;
  auto network = DemucsNetwork::create(*checkpoint);
  EXPECT_TRUE(network) << network.error().describe();
  return network ? std::move(*network) : nullptr;
}

void expect_matches(const std::string& name, const at::Tensor& reference, const at::Tensor& out,
                    const nlohmann::json& fixture) {
  ASSERT_EQ(out.sizes(), reference.sizes());
  const auto sdr = testing::sdr_per_source(reference, out);
  for (std::size_t s = 0; s < sdr.size(); ++s) {
    std::cout << name << " pipeline SDR " << fixture["sources"][s].get<std::string>() << ": " << sdr[s] << " dB\n";
    EXPECT_GE(sdr[s], 60.0) << "source " << s;
  }
}

void expect_pipeline_matches_reference(const std::string& folder_name, int batch_size) {
  const auto folder = demucs_fixture(folder_name);
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  const auto fixture = testing::read_fixture_json(folder);
  auto network = load_network(folder / fixture["model_file"].get<std::string>());
  ASSERT_TRUE(network);
  at::Tensor mix = testing::read_f32(folder / "mix.f32", fixture["mix"]["shape"].get<std::vector<std::int64_t>>());
  at::Tensor reference =
      testing::read_f32(folder / "separated.f32", fixture["separated"]["shape"].get<std::vector<std::int64_t>>());
  SeparationOptions options;
  options.batch_size = batch_size;
  std::int64_t last_done = -1, total = 0;
  options.on_progress = [&](const SeparationProgress& p) {
    EXPECT_GT(p.done, last_done);
    last_done = p.done;
    total = p.total;
    return true;
  };
  auto out = separate({BagMember{network.get(), {}, {}}}, mix, options);
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_EQ(last_done, total);
  expect_matches(folder_name, reference, *out, fixture);
}

TEST(Separation, HTDemucsPipelineMatchesTheReference) { expect_pipeline_matches_reference("htdemucs_small", 1); }
TEST(Separation, HDemucsPipelineMatchesTheReferenceWithBatches) {
  expect_pipeline_matches_reference("hdemucs_small", 3);
}
TEST(Separation, SixSourcePipelineMatchesTheReferenceWithBatches) {
  expect_pipeline_matches_reference("htdemucs_6s_small", 2);
}

TEST(Separation, BagBlendsModelsWithPerSourceWeights) {
  const auto folder = demucs_fixture("bag_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  const auto fixture = testing::read_fixture_json(folder);
  auto first = load_network(folder / "model1.th");
  auto second = load_network(folder / "model2.th");
  ASSERT_TRUE(first && second);
  at::Tensor mix = testing::read_f32(folder / "mix.f32", fixture["mix"]["shape"].get<std::vector<std::int64_t>>());
  at::Tensor reference =
      testing::read_f32(folder / "separated.f32", fixture["separated"]["shape"].get<std::vector<std::int64_t>>());
  // The weights of bag.yaml.
  std::vector<BagMember> bag{{first.get(), {1, 0, 0, 0.5}, {}}, {second.get(), {0, 1, 1, 0.5}, {}}};
  auto out = separate(bag, mix, SeparationOptions{});
  ASSERT_TRUE(out) << out.error().describe();
  expect_matches("bag_small", reference, *out, fixture);
}

TEST(Separation, CancelsWhenProgressSaysSo) {
  const auto folder = demucs_fixture("htdemucs_6s_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  auto network = load_network(folder / "model.th");
  ASSERT_TRUE(network);
  SeparationOptions options;
  int calls = 0;
  options.on_progress = [&](const SeparationProgress&) { return ++calls < 2; };
  auto out = separate({BagMember{network.get(), {}, {}}}, at::randn({2, 100000}), options);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::cancelled);
  EXPECT_EQ(calls, 2);
}

TEST(ChunkPlan, CoversTheSignalWithOverlappingSegments) {
  const auto plan = plan_chunks(207270, 88200, 0.25);
  EXPECT_EQ(plan.stride, 66150);
  EXPECT_EQ(plan.offsets, (std::vector<std::int64_t>{0, 66150, 132300, 198450}));
  const auto weights = transition_weights(6, 1.0);
  EXPECT_EQ(weights, (std::vector<float>{1.f / 3, 2.f / 3, 1, 1, 2.f / 3, 1.f / 3}));
  const auto r = padded_range(90, 10, 20, 100);  // 10 samples near the end padded to 20
  EXPECT_EQ(r.begin, 85);
  EXPECT_EQ(r.end, 100);
  EXPECT_EQ(r.pad_left, 0);
  EXPECT_EQ(r.pad_right, 5);
}


TEST(Separation, StreamsLongInputsInBoundedBlocksWithTheSameResult) {
  const auto folder = demucs_fixture("htdemucs_6s_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  auto network = load_network(folder / "model.th");
  ASSERT_TRUE(network);
  const std::int64_t segment = network->segment_samples();
  at::manual_seed(3);
  at::Tensor mix = at::randn({2, segment * 2 + 123}) * 0.1;
  SeparationOptions options;
  options.shifts = 2;
  options.seed = 11;
  auto whole = separate({BagMember{network.get(), {}, {}}}, mix, options);
  ASSERT_TRUE(whole) << whole.error().describe();

  // The same separation read piecewise: reads only go back a bounded distance.
  std::int64_t furthest = 0, worst_lookback = 0;
  MixSource source{mix.size(1), mix_statistics(mix), [&](std::int64_t begin, std::int64_t end) -> Result<at::Tensor> {
                     worst_lookback = std::max(worst_lookback, furthest - begin);
                     furthest = std::max(furthest, end);
                     return mix.slice(1, begin, end).clone();
                   }};
  std::vector<at::Tensor> blocks;
  auto status = separate_stream({BagMember{network.get(), {}, {}}}, source, options, [&](const at::Tensor& block) {
    blocks.push_back(block.clone());
    return Status{};
  });
  ASSERT_TRUE(status) << status.error().describe();
  EXPECT_GE(blocks.size(), 3u);
  for (const auto& block : blocks) EXPECT_LE(block.size(-1), 2 * segment);
  EXPECT_LE(worst_lookback, segment + network->samplerate() / 2);
  EXPECT_TRUE(at::equal(at::cat(blocks, -1), *whole));

  // The seed decides the shifts (the streamed run above reproduced `whole`).
  options.shifts = 1;
  at::Tensor short_mix = mix.slice(1, 0, segment / 2);
  auto first = separate({BagMember{network.get(), {}, {}}}, short_mix, options);
  options.seed = 12;
  auto second = separate({BagMember{network.get(), {}, {}}}, short_mix, options);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(at::equal(*first, *second));
  EXPECT_TRUE(at::isfinite(*second).all().item<bool>());
}

}  // namespace
}  // namespace ferry::models
