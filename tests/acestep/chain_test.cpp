// The whole ACE-Step chain on checkpoint_tiny, from the user's words to
// audio: prompts assembled and tokenized, the text encoder, the condition
// encoder, eight DiT steps from the fixture's noise and the VAE, each stage
// fed by the previous one (not by the fixture's intermediate arrays). The
// end must match the reference audio.

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "agent/models/acestep/oobleck_vae.hpp"
#include "agent/models/acestep/prompt_builder.hpp"
#include "agent/models/acestep/qwen3_encoder.hpp"
#include "agent/models/acestep/qwen_tokenizer.hpp"
#include "agent/models/acestep/turbo_model.hpp"
#include "agent/models/acestep/turbo_sampler.hpp"
#include "tests/acestep/fixtures.hpp"

namespace ferry::acestep {
namespace {

using testing::acestep_fixture;
using testing::read_f32;
using testing::read_fixture_json;
using testing::relative_error;

at::Tensor ids_tensor(const std::vector<std::int32_t>& ids) {
  return at::tensor(std::vector<std::int64_t>(ids.begin(), ids.end()), at::kLong).unsqueeze(0);
}

TEST(AceStepChain, FromTheUsersWordsToTheReferenceAudio) {
  at::InferenceMode inference;
  const auto checkpoint = acestep_fixture("checkpoint_tiny");
  const auto text_fixture = read_fixture_json("text_encoder");

  // The request behind the fixture's caption and lyrics.
  PromptRequest request;
  request.caption = "Upbeat pop rock with driving guitars";
  request.bpm = 120;
  request.time_signature = 4;
  request.key = "C major";
  request.duration_s = 30;
  request.language = "fr";
  request.lyrics = "[Verse 1]\nDans le monde des tutos virtuels, c'est l'unit\xC3\xA9\n[Chorus]\n"
                   "\xE5\xA4\x8F\xE3\x81\xAE\xE9\xA2\xA8\xE3\x81\x8C\xE9\xA0\xAC\xE3\x82\x92\xE3\x81\xAA\xE3\x81\xA7"
                   "\xE3\x82\x8B \xF0\x9F\x8E\xB8 123";
  auto texts = build_prompts(request);
  ASSERT_TRUE(texts) << texts.error().describe();
  auto tokenizer = QwenTokenizer::load(checkpoint / "Qwen3-Embedding-0.6B");
  ASSERT_TRUE(tokenizer) << tokenizer.error().describe();
  auto tokens = tokenize_prompts(*tokenizer, *texts);
  ASSERT_TRUE(tokens) << tokens.error().describe();
  EXPECT_EQ(tokens->caption, text_fixture["tokens"]["caption"]["ids"].get<std::vector<std::int32_t>>());
  EXPECT_EQ(tokens->lyrics, text_fixture["tokens"]["lyrics"]["ids"].get<std::vector<std::int32_t>>());

  auto encoder = Qwen3Encoder::load(checkpoint / "Qwen3-Embedding-0.6B");
  ASSERT_TRUE(encoder) << encoder.error().describe();
  auto caption_states = (*encoder)->forward(ids_tensor(tokens->caption));
  ASSERT_TRUE(caption_states) << caption_states.error().describe();
  auto lyric_embeddings = (*encoder)->embed(ids_tensor(tokens->lyrics));
  ASSERT_TRUE(lyric_embeddings) << lyric_embeddings.error().describe();

  auto model = load_turbo_model(checkpoint / "acestep-v15-turbo");
  ASSERT_TRUE(model) << model.error().describe();
  ConditionInputs inputs;
  inputs.text_states = *caption_states;
  inputs.lyric_embeddings = *lyric_embeddings;
  // The fixture's timbre reference: the first 30 frames of the silence latent.
  inputs.timbre_references = silence_timbre_reference(model->silence_latent, 30).value();
  auto conditions = model->condition_encoder->encode(inputs);
  ASSERT_TRUE(conditions) << conditions.error().describe();
  const std::int64_t frames = 50;
  auto context = text_to_music_context(model->silence_latent, frames);
  ASSERT_TRUE(context) << context.error().describe();
  auto prepared = model->dit->prepare(conditions->states, conditions->mask, *context);
  ASSERT_TRUE(prepared) << prepared.error().describe();

  const at::Tensor noise = read_f32(acestep_fixture("dit") / "noise.f32", {1, frames, 64});
  SamplerOptions sampler;
  sampler.timesteps = turbo_schedule(3).value();
  auto x0 = sample_turbo(
      noise, [&](const at::Tensor& x, double t) { return model->dit->velocity(x, t, *prepared); }, sampler);
  ASSERT_TRUE(x0) << x0.error().describe();
  EXPECT_LE(relative_error(*x0, read_f32(acestep_fixture("dit") / "x0.f32", {1, frames, 64})), 1e-4);

  auto vae = OobleckDecoder::load(checkpoint / "vae");
  ASSERT_TRUE(vae) << vae.error().describe();
  auto audio = (*vae)->decode(x0->transpose(1, 2).contiguous());
  ASSERT_TRUE(audio) << audio.error().describe();
  const at::Tensor reference = read_f32(acestep_fixture("vae") / "audio.f32", {1, 2, frames * 1920});
  const double error = relative_error(*audio, reference);
  EXPECT_LE(error, 1e-4);
  RecordProperty("relative_error", std::to_string(error));
}

}  // namespace
}  // namespace ferry::acestep
