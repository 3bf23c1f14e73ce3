// The condition encoder and the DiT of ACE-Step 1.5 turbo against the
// reference fixtures (../shared/fixtures/acestep/dit), plus the behaviours the
// fixtures cannot show: cached conditions, batches, masks, bad checkpoints.

#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <sstream>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/models/acestep/turbo_model.hpp"
#include "agent/models/acestep/turbo_sampler.hpp"
#include "tests/acestep/fixtures.hpp"
#include "tests/acestep/weights_test_support.hpp"
#include "tests/support/files.hpp"

namespace ferry::acestep {
namespace {

using testing::acestep_fixture;
using testing::read_f32;
using testing::relative_error;

constexpr double kTolerance = 1e-4;
constexpr std::int64_t kFrames = 50;
constexpr std::int64_t kLatent = 64;

std::string scientific(double value) {
  std::ostringstream out;
  out << std::scientific << std::setprecision(2) << value;
  return out.str();
}

std::filesystem::path turbo_folder() { return acestep_fixture("checkpoint_tiny") / "acestep-v15-turbo"; }

// The tiny model and the fixture's inputs, loaded once for the whole suite.
class TinyTurbo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = load_turbo_model(turbo_folder());
    ASSERT_TRUE(loaded) << loaded.error().describe();
    model_ = new TurboModel(std::move(*loaded));
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }

  static ConditionInputs fixture_conditions() {
    ConditionInputs in;
    in.text_states = read_f32(acestep_fixture("text_encoder") / "caption_last_hidden_state.f32", {1, 62, 32});
    in.lyric_embeddings = read_f32(acestep_fixture("text_encoder") / "lyrics_embeddings.f32", {1, 52, 32});
    in.text_mask = at::ones({1, 62});
    in.lyric_mask = at::ones({1, 52});
    in.timbre_references = silence_timbre_reference(model_->silence_latent, 30).value();
    in.timbre_order = {0};
    return in;
  }
  static at::Tensor dit_file(const std::string& name, std::vector<std::int64_t> shape) {
    return read_f32(acestep_fixture("dit") / name, shape);
  }
  static at::Tensor noise() { return dit_file("noise.f32", {1, kFrames, kLatent}); }
  static EncodedConditions encoded() {
    auto conditions = model_->condition_encoder->encode(fixture_conditions());
    EXPECT_TRUE(conditions) << conditions.error().describe();
    return *conditions;
  }
  static DitConditioning prepared(std::int64_t frames) {
    const EncodedConditions conditions = encoded();
    auto conditioning = model_->dit->prepare(conditions.states, conditions.mask,
                                             text_to_music_context(model_->silence_latent, frames).value());
    EXPECT_TRUE(conditioning) << conditioning.error().describe();
    return *conditioning;
  }

  static TurboModel* model_;
};

TurboModel* TinyTurbo::model_ = nullptr;

TEST_F(TinyTurbo, ConfigIsReadFromTheCheckpointFolder) {
  const DitConfig& c = model_->config;
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.intermediate_size, 128);  // not inner_mlp_width (6144): transformers' MLP reads intermediate_size
  EXPECT_EQ(c.num_hidden_layers, 4);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.sliding_window, 4);
  EXPECT_TRUE(c.is_sliding(0));
  EXPECT_FALSE(c.is_sliding(1));
  EXPECT_EQ(c.lyric_layers_run(), 2);
}

TEST_F(TinyTurbo, SilenceLatentIsTheFixturesTransposed) {
  const at::Tensor expected = dit_file("silence_latent.f32", {1, 120, kLatent});
  ASSERT_EQ(model_->silence_latent.sizes(), expected.sizes());
  EXPECT_TRUE(at::equal(model_->silence_latent, expected));
}

TEST_F(TinyTurbo, SilenceTimbreReferenceIsSlicedLikeUpstream) {
  auto thirty = silence_timbre_reference(model_->silence_latent, 30);
  ASSERT_TRUE(thirty);
  EXPECT_TRUE(at::equal(*thirty, model_->silence_latent.narrow(1, 0, 30)));
  // Upstream asks for 750 frames; a shorter silence latent gives all it has.
  auto all = silence_timbre_reference(model_->silence_latent, model_->config.timbre_fix_frame);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(1), 120);
  EXPECT_FALSE(silence_timbre_reference(model_->silence_latent, 0));
}

TEST_F(TinyTurbo, PackedConditionsMatchTheReference) {
  const EncodedConditions conditions = encoded();
  const at::Tensor expected = dit_file("encoder_hidden_states.f32", {1, 115, 64});
  ASSERT_EQ(conditions.states.sizes(), expected.sizes());
  const double error = relative_error(conditions.states, expected);
  RecordProperty("relative_error", scientific(error));
  EXPECT_LE(error, kTolerance);
  const at::Tensor expected_mask = dit_file("encoder_attention_mask.f32", {1, 115});
  EXPECT_TRUE(at::equal(conditions.mask.to(at::kFloat), expected_mask));
}

TEST_F(TinyTurbo, TextToMusicContextMatchesTheReference) {
  auto context = text_to_music_context(model_->silence_latent, kFrames);
  ASSERT_TRUE(context) << context.error().describe();
  EXPECT_TRUE(at::equal(*context, dit_file("context_latents.f32", {1, kFrames, 2 * kLatent})));
}

TEST_F(TinyTurbo, VelocityAtTimeOneMatchesTheReference) {
  auto v = model_->dit->velocity(noise(), 1.0, prepared(kFrames));
  ASSERT_TRUE(v) << v.error().describe();
  const double error = relative_error(*v, dit_file("velocity_t1.f32", {1, kFrames, kLatent}));
  RecordProperty("relative_error", scientific(error));
  EXPECT_LE(error, kTolerance);
}

TEST_F(TinyTurbo, OddLengthIsPaddedToThePatchAndCropped) {
  constexpr std::int64_t odd = kFrames - 1;
  auto v = model_->dit->velocity(noise().narrow(1, 0, odd), 0.75, prepared(odd));
  ASSERT_TRUE(v) << v.error().describe();
  ASSERT_EQ(v->sizes(), (std::vector<std::int64_t>{1, odd, kLatent}));
  // The reference returns all 50 padded frames; the first 49 are the song's.
  const at::Tensor expected = dit_file("velocity_odd_t075.f32", {1, kFrames, kLatent}).narrow(1, 0, odd);
  const double error = relative_error(*v, expected);
  RecordProperty("relative_error", scientific(error));
  EXPECT_LE(error, kTolerance);
}

TEST_F(TinyTurbo, EightTurboStepsReachTheReferenceLatent) {
  const DitConditioning conditioning = prepared(kFrames);
  SamplerOptions options;
  options.timesteps = turbo_schedule(3).value();
  int calls = 0;
  auto x0 = sample_turbo(
      noise(),
      [&](const at::Tensor& x, double t) {
        ++calls;
        return model_->dit->velocity(x, t, conditioning);
      },
      options);
  ASSERT_TRUE(x0) << x0.error().describe();
  EXPECT_EQ(calls, kTurboSteps);
  const double error = relative_error(*x0, dit_file("x0.f32", {1, kFrames, kLatent}));
  RecordProperty("relative_error", scientific(error));
  EXPECT_LE(error, kTolerance);
}

TEST_F(TinyTurbo, PreparedConditionsGiveTheSameVelocityAsUnprepared) {
  const EncodedConditions conditions = encoded();
  const at::Tensor context = text_to_music_context(model_->silence_latent, kFrames).value();
  const DitConditioning conditioning = model_->dit->prepare(conditions.states, conditions.mask, context).value();
  for (const double t : {1.0, 0.5, 0.3}) {
    auto cached = model_->dit->velocity(noise(), t, conditioning);
    auto direct = model_->dit->velocity(noise(), t, context, conditions.states, conditions.mask);
    ASSERT_TRUE(cached && direct);
    EXPECT_TRUE(at::allclose(*cached, *direct, 0, 0)) << "t = " << t;
  }
}

TEST_F(TinyTurbo, ConditionsOfOneItemServeAWholeBatch) {
  const DitConditioning conditioning = prepared(kFrames);
  const at::Tensor other = at::randn({1, kFrames, kLatent}, at::make_generator<at::CPUGeneratorImpl>(3));
  auto batched = model_->dit->velocity(at::cat({noise(), other}, 0), 0.9, conditioning);
  auto first = model_->dit->velocity(noise(), 0.9, conditioning);
  auto second = model_->dit->velocity(other, 0.9, conditioning);
  ASSERT_TRUE(batched && first && second);
  EXPECT_TRUE(at::allclose(batched->narrow(0, 0, 1), *first, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(batched->narrow(0, 1, 1), *second, 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(*first, *second));
}

TEST_F(TinyTurbo, PaddedConditionsOfABatchItemAreMaskedAway) {
  // Item 1 has 10 extra padded text tokens: its packed conditions are longer,
  // and with the mask its velocity equals the unpadded item's.
  ConditionInputs single = fixture_conditions();
  ConditionInputs pair = single;
  const at::Tensor padded_text = at::cat({single.text_states, at::randn({1, 10, 32})}, 1);
  pair.text_states = at::cat({at::constant_pad_nd(single.text_states, {0, 0, 0, 10}), padded_text}, 0);
  pair.text_mask = at::cat({at::cat({at::ones({1, 62}), at::zeros({1, 10})}, 1),
                            at::cat({at::ones({1, 62}), at::zeros({1, 10})}, 1)},
                           0);
  pair.lyric_embeddings = single.lyric_embeddings.expand({2, -1, -1}).contiguous();
  pair.lyric_mask = at::ones({2, 52});
  pair.timbre_references = single.timbre_references.expand({2, -1, -1}).contiguous();
  pair.timbre_order = {0, 1};
  auto conditions = model_->condition_encoder->encode(pair);
  ASSERT_TRUE(conditions) << conditions.error().describe();
  ASSERT_EQ(conditions->states.size(1), 125);
  EXPECT_EQ(conditions->mask.sum().item<std::int64_t>(), 2 * 115);
  const at::Tensor expected = dit_file("encoder_hidden_states.f32", {1, 115, 64});
  EXPECT_LE(relative_error(conditions->states.narrow(0, 1, 1).narrow(1, 0, 115), expected), kTolerance);

  const at::Tensor context = text_to_music_context(model_->silence_latent, kFrames).value();
  auto batch = model_->dit->prepare(conditions->states, conditions->mask, context.expand({2, -1, -1}));
  ASSERT_TRUE(batch);
  auto v = model_->dit->velocity(at::cat({noise(), noise()}, 0), 1.0, *batch);
  ASSERT_TRUE(v);
  const at::Tensor reference = dit_file("velocity_t1.f32", {1, kFrames, kLatent});
  EXPECT_LE(relative_error(v->narrow(0, 0, 1), reference), kTolerance);
  EXPECT_LE(relative_error(v->narrow(0, 1, 1), reference), kTolerance);
}

TEST_F(TinyTurbo, ItemsWithSeveralOrNoTimbreReferencesArePacked) {
  ConditionInputs in = fixture_conditions();
  in.text_states = in.text_states.expand({2, -1, -1}).contiguous();
  in.text_mask = at::ones({2, 62});
  in.lyric_embeddings = in.lyric_embeddings.expand({2, -1, -1}).contiguous();
  in.lyric_mask = at::ones({2, 52});
  in.timbre_references = in.timbre_references.expand({2, -1, -1}).contiguous();
  in.timbre_order = {0, 0};  // item 0 has two references, item 1 none
  auto conditions = model_->condition_encoder->encode(in);
  ASSERT_TRUE(conditions) << conditions.error().describe();
  ASSERT_EQ(conditions->states.sizes(), (std::vector<std::int64_t>{2, 52 + 2 + 62, 64}));
  EXPECT_EQ(conditions->mask[0].sum().item<std::int64_t>(), 116);
  EXPECT_EQ(conditions->mask[1].sum().item<std::int64_t>(), 114);
  // Item 1: lyrics then text straight after, the empty timbre slots last.
  EXPECT_TRUE(at::allclose(conditions->states[1].narrow(0, 52, 62), conditions->states[0].narrow(0, 54, 62)));
}

TEST_F(TinyTurbo, BadConditionInputsAreNamed) {
  ConditionInputs in = fixture_conditions();
  in.text_states = at::ones({1, 62, 31});
  auto result = model_->condition_encoder->encode(in);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().field, "text_states");

  in = fixture_conditions();
  in.timbre_order = {1};
  result = model_->condition_encoder->encode(in);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().field, "timbre_order");

  in = fixture_conditions();
  in.lyric_mask = at::ones({1, 51});
  result = model_->condition_encoder->encode(in);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().field, "lyric_mask");
}

TEST_F(TinyTurbo, BadLatentsAreNamed) {
  const DitConditioning conditioning = prepared(kFrames);
  auto v = model_->dit->velocity(at::ones({1, kFrames, 63}), 1.0, conditioning);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().field, "x_t");
  v = model_->dit->velocity(at::ones({1, kFrames + 2, kLatent}), 1.0, conditioning);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().field, "context_latents");
  auto context = text_to_music_context(model_->silence_latent, 121);
  ASSERT_FALSE(context);
  EXPECT_NE(context.error().message.find("120"), std::string::npos);
}

// --- checkpoint problems ---------------------------------------------------

// A copy of the tiny checkpoint folder whose weights `edit` may change.
void copy_checkpoint(const std::filesystem::path& to, const std::function<void(models::StateDict&)>& edit) {
  for (const char* name : {"config.json", kSilenceLatentFile}) {
    std::filesystem::copy_file(turbo_folder() / name, to / name);
  }
  auto state = models::load_state_dict(turbo_folder() / kTurboWeightsFile);
  ASSERT_TRUE(state) << state.error().describe();
  edit(*state);
  testing::write_safetensors(to / kTurboWeightsFile, *state);
}

TEST(TurboCheckpoint, FloatCopyOfTheWeightsLoadsAndIgnoresTheLanguageModelPath) {
  test::TempDir folder("ferry-dit-test");
  copy_checkpoint(folder.path(), [](models::StateDict& state) {
    state["tokenizer.quantizer.project_in.weight"] = at::ones({2, 2});
    state["detokenizer.special_tokens"] = at::ones({1, 5, 64});
  });
  auto model = load_turbo_model(folder.path());
  EXPECT_TRUE(model) << model.error().describe();
}

TEST(TurboCheckpoint, MissingTensorIsNamedWithItsFile) {
  test::TempDir folder("ferry-dit-test");
  copy_checkpoint(folder.path(), [](models::StateDict& state) { state.erase("decoder.layers.3.cross_attn.k_norm.weight"); });
  auto model = load_turbo_model(folder.path());
  ASSERT_FALSE(model);
  EXPECT_EQ(model.error().field, "decoder.layers.3.cross_attn.k_norm.weight");
  EXPECT_NE(model.error().message.find("model.safetensors"), std::string::npos) << model.error().message;
}

TEST(TurboCheckpoint, MisShapedTensorIsNamedWithBothShapes) {
  test::TempDir folder("ferry-dit-test");
  copy_checkpoint(folder.path(), [](models::StateDict& state) { state["encoder.lyric_encoder.embed_tokens.weight"] = at::ones({64, 31}); });
  auto model = load_turbo_model(folder.path());
  ASSERT_FALSE(model);
  EXPECT_EQ(model.error().field, "encoder.lyric_encoder.embed_tokens.weight");
  EXPECT_NE(model.error().message.find("[64, 31]"), std::string::npos) << model.error().message;
  EXPECT_NE(model.error().message.find("[64, 32]"), std::string::npos) << model.error().message;
}

TEST(TurboCheckpoint, UnexplainedTensorIsRefused) {
  test::TempDir folder("ferry-dit-test");
  copy_checkpoint(folder.path(), [](models::StateDict& state) { state["decoder.layers.4.mlp_norm.weight"] = at::ones({64}); });
  auto model = load_turbo_model(folder.path());
  ASSERT_FALSE(model);
  EXPECT_EQ(model.error().field, "decoder.layers.4.mlp_norm.weight");
}

TEST(TurboCheckpoint, MissingSilenceLatentAndTruncatedWeightsAreReported) {
  test::TempDir folder("ferry-dit-test");
  copy_checkpoint(folder.path(), [](models::StateDict&) {});
  std::filesystem::remove(folder.path() / kSilenceLatentFile);
  auto model = load_turbo_model(folder.path());
  ASSERT_FALSE(model);
  EXPECT_EQ(model.error().code, ErrorCode::not_found);
  EXPECT_NE(model.error().message.find(kSilenceLatentFile), std::string::npos);

  std::filesystem::resize_file(folder.path() / kTurboWeightsFile, 1000);
  model = load_turbo_model(folder.path());
  ASSERT_FALSE(model);
  EXPECT_NE(model.error().message.find(kTurboWeightsFile), std::string::npos) << model.error().message;
}

TEST(TurboCheckpoint, Float16IsRefused) {
  models::LoadOptions options;
  options.dtype = at::kHalf;
  auto model = load_turbo_model(turbo_folder(), options);
  ASSERT_FALSE(model);
  EXPECT_EQ(model.error().code, ErrorCode::unsupported);
}

TEST(TurboCheckpoint, SilenceLatentOfTheWrongShapeIsRefused) {
  auto latent = load_silence_latent(turbo_folder() / kSilenceLatentFile, 32);
  ASSERT_FALSE(latent);
  EXPECT_NE(latent.error().message.find("[1, 64, 120]"), std::string::npos) << latent.error().message;
  // A state dict is not a bare tensor.
  auto dict = load_silence_latent(turbo_folder() / kTurboWeightsFile, 64);
  ASSERT_FALSE(dict);
}

// --- configuration ----------------------------------------------------------

std::string tiny_config_text() {
  std::ifstream in(turbo_folder() / "config.json");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Result<DitConfig> parse_edited(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json json = nlohmann::json::parse(tiny_config_text());
  edit(json);
  return parse_dit_config(json.dump(), "test config.json");
}

TEST(DitConfigTest, ProblemsNameTheKey) {
  auto missing = parse_edited([](nlohmann::json& j) { j.erase("hidden_size"); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().field, "hidden_size");
  auto layer = parse_edited([](nlohmann::json& j) { j["layer_types"][1] = "chunked_attention"; });
  ASSERT_FALSE(layer);
  EXPECT_EQ(layer.error().field, "layer_types");
  auto few = parse_edited([](nlohmann::json& j) { j["layer_types"] = {"full_attention"}; });
  ASSERT_FALSE(few);
  EXPECT_EQ(few.error().field, "layer_types");
  auto channels = parse_edited([](nlohmann::json& j) { j["in_channels"] = 256; });
  ASSERT_FALSE(channels);
  EXPECT_EQ(channels.error().field, "in_channels");
  auto heads = parse_edited([](nlohmann::json& j) { j["num_key_value_heads"] = 3; });
  ASSERT_FALSE(heads);
  EXPECT_EQ(heads.error().field, "num_key_value_heads");
  auto scaling = parse_edited([](nlohmann::json& j) { j["rope_scaling"] = {{"rope_type", "yarn"}}; });
  ASSERT_FALSE(scaling);
  EXPECT_EQ(scaling.error().field, "rope_scaling");
}

TEST(DitConfigTest, DefaultsFollowUpstream) {
  auto config = parse_edited([](nlohmann::json& j) {
    j.erase("layer_types");
    j.erase("intermediate_size");
    j["use_sliding_window"] = false;
  });
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->intermediate_size, 6144);  // inner_mlp_width
  EXPECT_EQ(config->layer_spans.size(), 4u);
  EXPECT_EQ(config->layer_spans[0], AttentionSpan::sliding);
  EXPECT_EQ(config->layer_spans[1], AttentionSpan::full);
  EXPECT_FALSE(config->is_sliding(0));  // the band is off
}

}  // namespace
}  // namespace ferry::acestep
