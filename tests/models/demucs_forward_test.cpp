// Forward passes of the native HDemucs/HTDemucs against the reference
// implementation's output on the same checkpoint and input.

#include <cstring>

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "agent/models/checkpoint.hpp"
#include "agent/models/demucs_network.hpp"
#include "agent/models/torchaudio_hdemucs.hpp"
#include "fixtures.hpp"

namespace ferry::models {
namespace {

using testing::demucs_fixture;

void expect_forward_matches_reference(const std::string& folder_name) {
  const auto folder = demucs_fixture(folder_name);
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  const auto fixture = testing::read_fixture_json(folder);
  auto checkpoint = load_demucs_checkpoint(folder / fixture["model_file"].get<std::string>());
  ASSERT_TRUE(checkpoint) << checkpoint.error().describe();
  auto network = DemucsNetwork::create(*checkpoint);
  ASSERT_TRUE(network) << network.error().describe();
  EXPECT_EQ((*network)->sources(), fixture["sources"].get<std::vector<std::string>>());

  const auto mix_shape = fixture["mix"]["shape"].get<std::vector<std::int64_t>>();
  const auto out_shape = fixture["forward_one_segment"]["shape"].get<std::vector<std::int64_t>>();
  const auto segment = fixture["forward_one_segment"]["segment_samples"].get<std::int64_t>();
  EXPECT_EQ((*network)->segment_samples(), segment);
  at::Tensor mix = testing::read_f32(folder / "mix.f32", mix_shape);
  at::Tensor reference = testing::read_f32(folder / "forward_one_segment.f32", out_shape);

  auto out = (*network)->forward(mix.slice(1, 0, segment).unsqueeze(0));
  ASSERT_TRUE(out) << out.error().describe();
  ASSERT_EQ(out->sizes(), at::IntArrayRef({1, out_shape[0], out_shape[1], out_shape[2]}));
  const auto sdr = testing::sdr_per_source(reference, (*out)[0]);
  for (std::size_t s = 0; s < sdr.size(); ++s) {
    std::cout << folder_name << " forward SDR " << fixture["sources"][s].get<std::string>() << ": " << sdr[s]
              << " dB\n";
    EXPECT_GE(sdr[s], 60.0) << "source " << s;
  }
}

TEST(DemucsForward, HDemucsMatchesTheReference) { expect_forward_matches_reference("hdemucs_small"); }
TEST(DemucsForward, HTDemucsMatchesTheReference) { expect_forward_matches_reference("htdemucs_small"); }
TEST(DemucsForward, HTDemucsSixSourcesWithBottomChannelsMatchesTheReference) {
  expect_forward_matches_reference("htdemucs_6s_small");
}

TEST(DemucsForward, RefusesACheckpointWhoseTensorsDoNotMatchItsArguments) {
  const auto folder = demucs_fixture("htdemucs_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  auto checkpoint = load_demucs_checkpoint(folder / "model.th");
  ASSERT_TRUE(checkpoint) << checkpoint.error().describe();
  auto missing = *checkpoint;
  missing.state.erase("encoder.0.conv.weight");
  auto a = DemucsNetwork::create(missing);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("encoder.0.conv.weight"), std::string::npos) << a.error().message;
  auto extra = *checkpoint;
  extra.state["surprise"] = at::zeros({1});
  auto b = DemucsNetwork::create(extra);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("surprise"), std::string::npos) << b.error().message;
  auto reshaped = *checkpoint;
  reshaped.state["encoder.0.conv.bias"] = at::zeros({3});
  EXPECT_FALSE(DemucsNetwork::create(reshaped));
}

TEST(DemucsForward, LoadsHalfPrecisionWeightsIntoTheRequestedType) {
  const auto folder = demucs_fixture("htdemucs_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  auto as_float = load_demucs_checkpoint(folder / "model.th");
  LoadOptions doubles;
  doubles.dtype = at::kDouble;
  auto as_double = load_demucs_checkpoint(folder / "model.th", doubles);
  ASSERT_TRUE(as_float && as_double);
  const auto& a = as_float->state.at("encoder.0.conv.weight");
  const auto& b = as_double->state.at("encoder.0.conv.weight");
  EXPECT_EQ(a.scalar_type(), at::kFloat);
  EXPECT_EQ(b.scalar_type(), at::kDouble);
  // Both are exact widenings of the same float16 values.
  EXPECT_TRUE(at::equal(a.to(at::kDouble), b));
  EXPECT_TRUE(at::equal(a.to(at::kHalf).to(at::kFloat), a));
}

TEST(DemucsForward, RefusesInputsOfTheWrongShape) {
  const auto folder = demucs_fixture("htdemucs_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  auto checkpoint = load_demucs_checkpoint(folder / "model.th");
  ASSERT_TRUE(checkpoint);
  auto network = DemucsNetwork::create(*checkpoint);
  ASSERT_TRUE(network);
  EXPECT_FALSE((*network)->forward(at::zeros({1, 3, 1000})));
  EXPECT_FALSE((*network)->forward(at::zeros({2, 1000})));
  EXPECT_FALSE((*network)->forward(at::zeros({1, 2, (*network)->segment_samples() + 1})));
}


// torchaudio's names for the same v3 network, made from the Demucs fixture.
StateDict as_torchaudio_names(const StateDict& state) {
  StateDict out;
  for (const auto& [name, tensor] : state) {
    std::string renamed = name;
    for (auto [from, to] : {std::pair{"encoder.", "freq_encoder."}, std::pair{"tencoder.", "time_encoder."},
                            std::pair{"decoder.", "freq_decoder."}, std::pair{"tdecoder.", "time_decoder."}}) {
      if (name.rfind(from, 0) == 0) renamed = to + name.substr(std::strlen(from));
    }
    out.emplace(renamed, tensor);
  }
  // torchaudio keeps a GroupNorm on the time layer that only holds a convolution.
  out.emplace("time_encoder.4.norm1.weight", at::ones({state.at("tencoder.4.conv.weight").size(0)}));
  out.emplace("time_encoder.4.norm1.bias", at::zeros({state.at("tencoder.4.conv.weight").size(0)}));
  return out;
}

TEST(TorchaudioHDemucs, RunsTheSameNetworkUnderTorchaudiosNames) {
  const auto folder = demucs_fixture("hdemucs_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  const auto fixture = testing::read_fixture_json(folder);
  auto original = load_demucs_checkpoint(folder / "model.th");
  ASSERT_TRUE(original) << original.error().describe();
  const StateDict torchaudio_state = as_torchaudio_names(original->state);
  ASSERT_TRUE(is_torchaudio_hdemucs(torchaudio_state));
  ASSERT_FALSE(is_torchaudio_hdemucs(original->state));
  auto converted = from_torchaudio_hdemucs(torchaudio_state, {"drums", "bass", "other", "vocals"}, 2);
  ASSERT_TRUE(converted) << converted.error().describe();
  auto network = DemucsNetwork::create(*converted);
  ASSERT_TRUE(network) << network.error().describe();
  EXPECT_EQ((*network)->config().channels, 8);
  EXPECT_EQ((*network)->config().depth, 6);
  EXPECT_EQ((*network)->config().nfft, 4096);

  const auto segment = fixture["forward_one_segment"]["segment_samples"].get<std::int64_t>();
  at::Tensor mix = testing::read_f32(folder / "mix.f32", fixture["mix"]["shape"].get<std::vector<std::int64_t>>());
  at::Tensor reference = testing::read_f32(folder / "forward_one_segment.f32",
                                           fixture["forward_one_segment"]["shape"].get<std::vector<std::int64_t>>());
  auto out = (*network)->forward(mix.slice(1, 0, segment).unsqueeze(0));
  ASSERT_TRUE(out) << out.error().describe();
  for (double sdr : testing::sdr_per_source(reference, (*out)[0])) EXPECT_GE(sdr, 60.0);

  auto wrong_sources = from_torchaudio_hdemucs(torchaudio_state, {"vocals", "accompaniment"});
  EXPECT_FALSE(wrong_sources);
}

}  // namespace
}  // namespace ferry::models
