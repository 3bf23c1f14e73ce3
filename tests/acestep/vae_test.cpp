// The Oobleck VAE decoder against the fixture (the DiT's x0 decoded to 2 s of
// stereo), tiled decoding against whole decoding, the receptive field bound,
// progress and cancel, peak normalisation, and bad configs and weights.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "agent/models/acestep/oobleck_vae.hpp"
#include "tests/acestep/fixtures.hpp"
#include "tests/acestep/weights_test_support.hpp"
#include "tests/support/files.hpp"

namespace ferry::acestep {
namespace {

using testing::acestep_fixture;
using testing::read_f32;
using testing::read_fixture_json;
using testing::relative_error;

std::filesystem::path tiny_vae() { return acestep_fixture("checkpoint_tiny") / "vae"; }

class TinyVae : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = OobleckDecoder::load(tiny_vae());
    ASSERT_TRUE(loaded) << loaded.error().describe();
    vae_ = loaded->release();
  }
  static void TearDownTestSuite() {
    delete vae_;
    vae_ = nullptr;
  }
  static at::Tensor random_latent(std::int64_t frames, std::uint64_t seed) {
    auto generator = at::detail::createCPUGenerator(seed);
    return at::normal(0.0, 1.0, {1, 64, frames}, generator, at::TensorOptions().dtype(at::kFloat));
  }
  static OobleckDecoder* vae_;
};
OobleckDecoder* TinyVae::vae_ = nullptr;

TEST_F(TinyVae, ReadsTheAceStepGeometry) {
  EXPECT_EQ(vae_->hop_length(), 1920);
  EXPECT_EQ(vae_->config().audio_channels, 2);
  EXPECT_EQ(vae_->config().sampling_rate, 48000);
  EXPECT_EQ(vae_->config().decoder_channels, 4);
}

TEST_F(TinyVae, DecodesTheDitOutputLikeTheReference) {
  const auto fixture = read_fixture_json("vae");
  const at::Tensor x0 = read_f32(acestep_fixture("vae") / fixture["input"]["file"].get<std::string>(),
                                 fixture["input"]["shape"].get<std::vector<std::int64_t>>());
  const at::Tensor expected = read_f32(acestep_fixture("vae") / fixture["output"]["file"].get<std::string>(),
                                       fixture["output"]["shape"].get<std::vector<std::int64_t>>());
  auto audio = vae_->decode(x0.transpose(1, 2));
  ASSERT_TRUE(audio) << audio.error().describe();
  ASSERT_EQ(audio->sizes(), expected.sizes());
  EXPECT_EQ(audio->scalar_type(), at::kFloat);
  const double error = relative_error(*audio, expected);
  std::printf("VAE decode of the DiT's x0: relative error %.3g\n", error);
  EXPECT_LE(error, 1e-4);
}

TEST_F(TinyVae, TiledDecodingMatchesAWholeDecode) {
  const std::int64_t radius = vae_->receptive_radius_frames();
  const at::Tensor latent = random_latent(70, 11);
  auto whole = vae_->decode(latent);
  ASSERT_TRUE(whole) << whole.error().describe();
  const TileOptions options{2 * radius + 9, radius};
  ASSERT_GT(plan_tiles(70, options)->size(), 3u);
  auto tiled = vae_->decode_tiled(latent, options);
  ASSERT_TRUE(tiled) << tiled.error().describe();
  ASSERT_EQ(tiled->sizes(), whole->sizes());
  const double error = relative_error(*tiled, *whole);
  std::printf("tiled vs whole decode (radius %lld frames): relative error %.3g\n", static_cast<long long>(radius),
              error);
  EXPECT_LE(error, 1e-5);
}

TEST_F(TinyVae, TilesWithoutOverlapDoNotMatch) {
  // The property above depends on the overlap: without it the seams differ.
  const at::Tensor latent = random_latent(40, 12);
  auto whole = vae_->decode(latent);
  auto tiled = vae_->decode_tiled(latent, TileOptions{10, 0});
  ASSERT_TRUE(whole && tiled);
  EXPECT_GT(relative_error(*tiled, *whole), 1e-3);
}

TEST_F(TinyVae, ALatentFrameOnlyReachesAudioWithinTheReceptiveRadius) {
  const std::int64_t frames = 60, centre = 30, hop = vae_->hop_length();
  const std::int64_t radius = vae_->receptive_radius_frames();
  ASSERT_LT(radius, 25);
  const at::Tensor latent = random_latent(frames, 13);
  at::Tensor changed = latent.clone();
  changed.select(2, centre).add_(5.0);
  auto before = vae_->decode(latent);
  auto after = vae_->decode(changed);
  ASSERT_TRUE(before && after);
  const at::Tensor difference = (*after - *before).abs();
  const double scale = before->abs().max().item<double>();
  EXPECT_LE(difference.slice(2, 0, (centre - radius) * hop).max().item<double>(), 1e-6 * scale);
  EXPECT_LE(difference.slice(2, (centre + radius + 1) * hop).max().item<double>(), 1e-6 * scale);
  EXPECT_GT(difference.slice(2, centre * hop, (centre + 1) * hop).max().item<double>(), 1e-3 * scale);
}

TEST_F(TinyVae, ReportsProgressPerTileAndCancelsBetweenTiles) {
  const at::Tensor latent = random_latent(30, 14);
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  auto complete = vae_->decode_tiled(latent, TileOptions{10, 2}, [&](std::int64_t done, std::int64_t total) {
    calls.emplace_back(done, total);
    return true;
  });
  ASSERT_TRUE(complete) << complete.error().describe();
  ASSERT_EQ(calls.size(), 5u);  // cores of 6 frames
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i], std::make_pair(static_cast<std::int64_t>(i + 1), std::int64_t{5}));
  }

  int seen = 0;
  auto cancelled = vae_->decode_tiled(latent, TileOptions{10, 2}, [&](std::int64_t, std::int64_t) {
    return ++seen < 2;
  });
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, ErrorCode::cancelled);
  EXPECT_EQ(seen, 2);
}

TEST_F(TinyVae, ShortLatentsDecodeInOneTile) {
  const at::Tensor latent = random_latent(5, 15);
  int tiles = 0;
  auto tiled = vae_->decode_tiled(latent, TileOptions{}, [&](std::int64_t, std::int64_t total) {
    tiles = static_cast<int>(total);
    return true;
  });
  auto whole = vae_->decode(latent);
  ASSERT_TRUE(tiled && whole);
  EXPECT_EQ(tiles, 1);
  EXPECT_TRUE(at::allclose(*tiled, *whole, 0, 0));
}

TEST_F(TinyVae, DecodesBatchesItemByItemAlike) {
  const at::Tensor a = random_latent(8, 16), b = random_latent(8, 17);
  auto batch = vae_->decode(at::cat({a, b}, 0));
  auto second = vae_->decode(b);
  ASSERT_TRUE(batch && second);
  EXPECT_LE(relative_error(batch->slice(0, 1, 2), *second), 1e-5);
}

TEST_F(TinyVae, RefusesMalformedLatents) {
  EXPECT_FALSE(vae_->decode(at::zeros({1, 32, 10})));
  EXPECT_FALSE(vae_->decode(at::zeros({64, 10})));
  EXPECT_FALSE(vae_->decode(at::zeros({1, 64, 0})));
  EXPECT_FALSE(vae_->decode(at::zeros({1, 64, 4}, at::kLong)));
  auto tiled = vae_->decode_tiled(at::zeros({1, 64, 10}), TileOptions{8, 4});
  ASSERT_FALSE(tiled);
  EXPECT_EQ(tiled.error().code, ErrorCode::invalid_argument);
}

TEST(TilePlan, CoresCoverEveryFrameOnceWithContextOnBothSides) {
  for (std::int64_t frames : {1, 99, 100, 101, 1000, 1023, 1024, 1025, 15000}) {
    const TileOptions options{100, 10};
    auto tiles = plan_tiles(frames, options);
    ASSERT_TRUE(tiles);
    std::int64_t next = 0;
    for (const Tile& tile : *tiles) {
      EXPECT_EQ(tile.core_begin, next);
      EXPECT_LT(tile.core_begin, tile.core_end);
      EXPECT_LE(tile.window_end - tile.window_begin, options.tile_frames);
      EXPECT_GE(tile.window_begin, 0);
      EXPECT_LE(tile.window_end, frames);
      // Context is cut only where the latent itself ends.
      EXPECT_TRUE(tile.window_begin == 0 || tile.core_begin - tile.window_begin >= options.overlap_frames);
      EXPECT_TRUE(tile.window_end == frames || tile.window_end - tile.core_end >= options.overlap_frames);
      next = tile.core_end;
    }
    EXPECT_EQ(next, frames) << frames;
  }
}

TEST(TilePlan, RefusesTilesWithoutRoomForACore) {
  EXPECT_FALSE(plan_tiles(100, TileOptions{20, 10}));
  EXPECT_FALSE(plan_tiles(100, TileOptions{20, -1}));
  EXPECT_TRUE(plan_tiles(100, TileOptions{21, 10}));
  EXPECT_TRUE(plan_tiles(0, TileOptions{})->empty());
}

TEST(PeakNormalisation, BringsEachItemsPeakToMinusOneDbfs) {
  at::Tensor audio = at::zeros({3, 2, 100});
  audio.select(0, 0).select(0, 1).fill_(0.25);
  audio.select(0, 0).select(0, 0).index_put_({7}, -0.5);  // peak on the other channel, negative
  audio.select(0, 1).copy_(at::sin(at::arange(200, at::kFloat) / 10.0).view({2, 100}) * 3.0);
  auto normalised = normalize_peak(audio);
  ASSERT_TRUE(normalised) << normalised.error().describe();
  const double target = std::pow(10.0, -1.0 / 20.0);
  EXPECT_NEAR(target, 0.891251, 1e-6);
  for (int item = 0; item < 2; ++item) {
    EXPECT_NEAR(normalised->select(0, item).abs().max().item<double>(), target, 1e-6) << item;
    // One gain per item: the waveform keeps its shape and channel balance.
    const double gain = target / audio.select(0, item).abs().max().item<double>();
    EXPECT_LE(relative_error(normalised->select(0, item), audio.select(0, item) * gain), 1e-6);
  }
  EXPECT_TRUE(at::equal(normalised->select(0, 2), at::zeros({2, 100})));  // silence stays silence
}

TEST(PeakNormalisation, TakesOtherLevelsAndRefusesBadInput) {
  auto quieter = normalize_peak(at::ones({1, 1, 4}) * 0.1, -6.0);
  ASSERT_TRUE(quieter);
  EXPECT_NEAR(quieter->abs().max().item<double>(), std::pow(10.0, -6.0 / 20.0), 1e-6);
  at::Tensor broken = at::zeros({1, 2, 4});
  broken.index_put_({0, 1, 2}, std::nan(""));
  EXPECT_FALSE(normalize_peak(broken));
  EXPECT_FALSE(normalize_peak(at::zeros({2, 4})));
  EXPECT_FALSE(normalize_peak(at::zeros({1, 2, 0})));
  EXPECT_FALSE(normalize_peak(at::zeros({1, 2, 4}), 3.0));
}

/// A VAE folder written from the tiny fixture's files, to be spoiled.
class VaeFolder : public ::testing::Test {
 protected:
  std::filesystem::path copy() {
    const auto folder = dir_.path() / "vae";
    std::filesystem::create_directories(folder);
    for (const char* name : {"config.json", kOobleckWeightsFile}) {
      std::filesystem::copy_file(tiny_vae() / name, folder / name);
    }
    return folder;
  }
  nlohmann::json config() const { return nlohmann::json::parse(test::read_text(tiny_vae() / "config.json")); }
  Error load_error(const std::filesystem::path& folder) {
    auto result = OobleckDecoder::load(folder);
    EXPECT_FALSE(result);
    return result ? Error{} : result.error();
  }
  test::TempDir dir_{"ferry-vae"};
};

TEST_F(VaeFolder, ConfigThatDoesNotMatchTheWeightsNamesTensorAndFile) {
  const auto folder = copy();
  auto json = config();
  json["decoder_channels"] = 8;
  test::write_text(folder / "config.json", json.dump());
  const Error error = load_error(folder);
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_NE(error.message.find("decoder.conv1.weight_g"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find(kOobleckWeightsFile), std::string::npos) << error.message;
}

TEST_F(VaeFolder, MissingAndExtraDecoderTensorsAreNamed) {
  auto state = models::load_state_dict(tiny_vae() / kOobleckWeightsFile);
  ASSERT_TRUE(state);
  const auto folder = copy();
  models::StateDict missing = *state;
  missing.erase("decoder.block.2.res_unit3.snake2.beta");
  testing::write_safetensors(folder / kOobleckWeightsFile, missing);
  EXPECT_NE(load_error(folder).message.find("decoder.block.2.res_unit3.snake2.beta"), std::string::npos);

  models::StateDict extra = *state;
  extra["decoder.block.5.snake1.alpha"] = at::zeros({1, 4, 1});
  testing::write_safetensors(folder / kOobleckWeightsFile, extra);
  EXPECT_NE(load_error(folder).message.find("decoder.block.5.snake1.alpha"), std::string::npos);
}

TEST_F(VaeFolder, EncoderTensorsAreIgnoredAndFusedWeightsAccepted) {
  auto state = models::load_state_dict(tiny_vae() / kOobleckWeightsFile);
  ASSERT_TRUE(state);
  models::StateDict variant = *state;
  variant["encoder.conv1.weight_g"] = at::ones({4, 1, 1});
  // The last convolution stored already fused, as an export without weight norm would.
  const at::Tensor v = variant["decoder.conv2.weight_v"];
  variant["decoder.conv2.weight"] =
      v * (variant["decoder.conv2.weight_g"] / v.pow(2).sum({1, 2}, true).sqrt());
  variant.erase("decoder.conv2.weight_v");
  variant.erase("decoder.conv2.weight_g");
  const auto folder = copy();
  testing::write_safetensors(folder / kOobleckWeightsFile, variant);
  auto vae = OobleckDecoder::load(folder);
  ASSERT_TRUE(vae) << vae.error().describe();
  auto reference = OobleckDecoder::load(tiny_vae());
  ASSERT_TRUE(reference);
  const at::Tensor latent = at::randn({1, 64, 4});
  auto a = (*vae)->decode(latent);
  auto b = (*reference)->decode(latent);
  ASSERT_TRUE(a && b);
  EXPECT_LE(relative_error(*a, *b), 1e-6);
}

TEST_F(VaeFolder, BadConfigValuesAreNamed) {
  struct Case {
    const char* key;
    nlohmann::json value;
    ErrorCode code;
  };
  for (const Case& c : {Case{"downsampling_ratios", {2, 4, 4, 5, 10}, ErrorCode::unsupported},
                        Case{"channel_multiples", {1, 2, 4, 8}, ErrorCode::invalid_argument},
                        Case{"decoder_channels", 0, ErrorCode::invalid_argument},
                        Case{"audio_channels", "stereo", ErrorCode::invalid_argument}}) {
    const auto folder = dir_.path() / c.key;
    std::filesystem::create_directories(folder);
    auto json = config();
    json[c.key] = c.value;
    auto parsed = ModelConfig::parse(json.dump(), (folder / "config.json").string());
    ASSERT_TRUE(parsed);
    auto result = parse_oobleck_config(*parsed);
    ASSERT_FALSE(result) << c.key;
    EXPECT_EQ(result.error().code, c.code) << c.key;
    EXPECT_EQ(result.error().field, c.key);
  }
  auto json = config();
  json.erase("channel_multiples");
  auto parsed = ModelConfig::parse(json.dump(), "vae/config.json");
  ASSERT_TRUE(parsed);
  auto result = parse_oobleck_config(*parsed);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("channel_multiples"), std::string::npos);
}

TEST_F(VaeFolder, MissingFolderOrFilesAreNotFound) {
  EXPECT_EQ(load_error(dir_.path() / "absent").code, ErrorCode::not_found);
  const auto folder = copy();
  std::filesystem::remove(folder / kOobleckWeightsFile);
  const Error error = load_error(folder);
  EXPECT_EQ(error.code, ErrorCode::not_found);
  EXPECT_NE(error.message.find(kOobleckWeightsFile), std::string::npos);
}

TEST(OobleckDecoderLoad, RefusesFloat16) {
  auto result = OobleckDecoder::load(tiny_vae(), models::LoadOptions{c10::Device(c10::kCPU), at::kHalf});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::unsupported);
}

}  // namespace
}  // namespace ferry::acestep
