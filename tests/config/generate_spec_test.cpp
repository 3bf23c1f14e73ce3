// `generate` jobs in both readers: the agent's JSON (with the older music
// API's field names) and the manifest.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/generate_rules.hpp"
#include "config/job_spec.hpp"
#include "config/manifest.hpp"

namespace ferry::config {
namespace {

using nlohmann::json;

json generate_spec(json params) { return {{"kind", "generate"}, {"params", std::move(params)}}; }

json minimal_params() { return {{"caption", "warm lo-fi piano"}, {"duration_s", 30}}; }

TEST(GenerateSpec, ReadsEveryFieldAndWritesThemBack) {
  auto spec = job_spec_from_json(generate_spec({{"caption", "warm lo-fi piano"},
                                                {"lyrics", "[Verse 1]\nrain on the window"},
                                                {"language", "en"},
                                                {"duration_s", 180},
                                                {"seed", 42},
                                                {"bpm", 84},
                                                {"key", "F# minor"},
                                                {"time_signature", 4},
                                                {"batch", 2},
                                                {"shift", 2},
                                                {"sampler", "sde"},
                                                {"format", "mp3"},
                                                {"bitrate_kbps", 256},
                                                {"name", "rainy"}}));
  ASSERT_TRUE(spec) << spec.error().describe();
  EXPECT_EQ(job_kind(spec->params), "generate");
  EXPECT_TRUE(takes_no_inputs(spec->params));
  EXPECT_TRUE(spec->inputs.empty());
  const auto& params = std::get<GenerateParams>(spec->params);
  EXPECT_EQ(params.caption, "warm lo-fi piano");
  EXPECT_EQ(params.lyrics, "[Verse 1]\nrain on the window");
  EXPECT_EQ(params.language, "en");
  EXPECT_EQ(params.duration_s, 180);
  EXPECT_EQ(params.seed, 42u);
  EXPECT_EQ(params.bpm, 84);
  EXPECT_EQ(params.key, "F# minor");
  EXPECT_EQ(params.time_signature, 4);
  EXPECT_EQ(params.batch, 2);
  EXPECT_EQ(params.shift, 2);
  EXPECT_EQ(params.sampler, "sde");
  EXPECT_EQ(params.format, AudioFormat::mp3);
  EXPECT_EQ(params.bitrate_kbps, 256);
  EXPECT_EQ(generate_output_stem(params), "rainy");
  EXPECT_EQ(*job_spec_from_json(job_spec_to_json(*spec)), *spec);
}

TEST(GenerateSpec, DefaultsFollowTheTurboModel) {
  auto spec = job_spec_from_json(generate_spec(minimal_params()));
  ASSERT_TRUE(spec) << spec.error().describe();
  const auto& params = std::get<GenerateParams>(spec->params);
  EXPECT_EQ(params.language, "unknown");
  EXPECT_EQ(params.shift, 3);
  EXPECT_EQ(params.sampler, "ode");
  EXPECT_EQ(params.batch, 1);
  EXPECT_FALSE(params.seed);
  EXPECT_FALSE(params.instrumental);
  EXPECT_EQ(params.format, AudioFormat::wav);
}

TEST(GenerateSpec, AcceptsTheOlderMusicApiNames) {
  auto spec = job_spec_from_json(generate_spec({{"prompt", "epic orchestral trailer"},
                                                {"audio_duration", 60},
                                                {"instrumental", true},
                                                {"infer_step", 60},
                                                {"guidance_scale", 15.0}}));
  ASSERT_TRUE(spec) << spec.error().describe();
  const auto& params = std::get<GenerateParams>(spec->params);
  EXPECT_EQ(params.caption, "epic orchestral trailer");
  EXPECT_EQ(params.duration_s, 60);
  EXPECT_TRUE(params.instrumental);
  EXPECT_EQ(params.infer_steps, 60);
  EXPECT_EQ(params.guidance_scale, 15.0);
  // Written back under ferry's names, read back the same.
  auto written = job_spec_to_json(*spec);
  EXPECT_TRUE(written["params"].contains("caption"));
  EXPECT_FALSE(written["params"].contains("prompt"));
  EXPECT_EQ(*job_spec_from_json(written), *spec);
}

TEST(GenerateSpec, RejectsBadParamsNamingTheField) {
  auto expect_rejected = [](json params, std::string_view field, std::string_view hint) {
    SCOPED_TRACE(params.dump());
    auto spec = job_spec_from_json(generate_spec(std::move(params)));
    ASSERT_FALSE(spec);
    EXPECT_EQ(spec.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(spec.error().field, field);
    EXPECT_NE(spec.error().message.find(std::string(hint)), std::string::npos) << spec.error().message;
  };
  auto with = [](json extra) {
    json params = minimal_params();
    params.update(extra);
    return params;
  };
  expect_rejected({{"duration_s", 30}}, "params.caption", "missing");
  expect_rejected(with({{"caption", "  \n"}}), "params.caption", "is empty");
  expect_rejected(with({{"caption", std::string(1100, 'a')}}), "params.caption", "over the limit of 1024");
  expect_rejected(with({{"prompt", "also"}}), "params.prompt", "not both");
  expect_rejected({{"caption", "x"}}, "params.duration_s", "missing");
  expect_rejected(with({{"duration_s", 5}}), "params.duration_s", "from 10s to 10m, got 5s");
  expect_rejected(with({{"duration_s", 601}}), "params.duration_s", "got 10m1s");
  expect_rejected(with({{"language", "klingon"}}), "params.language", "unknown language 'klingon'");
  expect_rejected(with({{"lyrics", "la"}, {"instrumental", true}}), "params.lyrics", "an instrumental has no lyrics");
  // 4097 Hangul syllables: three bytes each, counted as characters.
  std::string long_lyrics;
  for (int i = 0; i < 4097; ++i) long_lyrics += "\xEA\xB0\x80";
  expect_rejected(with({{"lyrics", long_lyrics}}), "params.lyrics", "4097 characters");
  expect_rejected(with({{"bpm", 400}}), "params.bpm", "30 to 300");
  expect_rejected(with({{"key", "H major"}}), "params.key", "not a key the model knows");
  expect_rejected(with({{"time_signature", 5}}), "params.time_signature", "2, 3, 4 or 6");
  expect_rejected(with({{"batch", 9}}), "params.batch", "1 to 8");
  expect_rejected(with({{"shift", 4}}), "params.shift", "1, 2 or 3");
  expect_rejected(with({{"sampler", "edm"}}), "params.sampler", "unknown sampler 'edm'");
  expect_rejected(with({{"bitrate_kbps", 192}}), "params.bitrate_kbps", "only to mp3");
  expect_rejected(with({{"name", "../x"}}), "params.name", "not a plain file name");
  expect_rejected(with({{"seed", -1}}), "params.seed", "non-negative integer");
  expect_rejected(with({{"guidance", 3}}), "params.guidance", "guidance_scale");
}

TEST(GenerateSpec, RefusesInputs) {
  json spec = generate_spec(minimal_params());
  spec["inputs"] = json::array({{{"url", "https://example.com/a.wav"}}});
  auto result = job_spec_from_json(spec);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().field, "inputs");
  EXPECT_NE(result.error().message.find("takes no inputs"), std::string::npos);
  spec["inputs"] = json::array();
  EXPECT_TRUE(job_spec_from_json(spec)) << "an empty list is the same as none";
}

TEST(GenerateRules, KnowsTheSeventyKeys) {
  int known = 0;
  for (char note : std::string("ABCDEFG"))
    for (std::string accidental : {"", "#", "b", "\u266F", "\u266D"})
      for (std::string mode : {" major", " minor"}) known += rules::is_known_key(std::string(1, note) + accidental + mode);
  EXPECT_EQ(known, 70);
  EXPECT_FALSE(rules::is_known_key("C"));
  EXPECT_FALSE(rules::is_known_key("c major"));
  EXPECT_FALSE(rules::is_known_key("C## major"));
  EXPECT_FALSE(rules::is_known_key("C major "));
}

TEST(GenerateRules, DerivesAnOutputStemFromTheCaption) {
  GenerateParams params;
  params.caption = "Warm, lo-fi  piano (rainy night)";
  EXPECT_EQ(generate_output_stem(params), "warm-lo-fi-piano-rainy-night");
  params.caption = "\xED\x95\x9C\xEA\xB5\xAD \xEB\x85\xB8\xEB\x9E\x98";  // Hangul only
  EXPECT_EQ(generate_output_stem(params), "song");
  params.caption = std::string(100, 'a') + " b";
  EXPECT_EQ(generate_output_stem(params).size(), 40u);
  params.name = "mine";
  EXPECT_EQ(generate_output_stem(params), "mine");
}

TEST(GenerateManifest, ReadsAGenerateJob) {
  auto manifest = parse_manifest(
      "jobs:\n"
      "  - generate:\n"
      "      caption: dreamy synthwave with a driving beat\n"
      "      lyrics: |\n"
      "        [Verse 1]\n"
      "        neon on the water\n"
      "      language: en\n"
      "      duration: 3m\n"
      "      seed: 42\n"
      "      format: mp3\n",
      "/projects/audio/songs.yaml");
  ASSERT_TRUE(manifest) << manifest.error().describe();
  ASSERT_EQ(manifest->jobs.size(), 1u);
  EXPECT_TRUE(manifest->jobs[0].inputs.empty());
  const auto& params = std::get<GenerateParams>(manifest->jobs[0].params);
  EXPECT_EQ(params.caption, "dreamy synthwave with a driving beat");
  EXPECT_EQ(params.lyrics, "[Verse 1]\nneon on the water\n");
  EXPECT_EQ(params.duration_s, 180);
  EXPECT_EQ(params.seed, 42u);
  EXPECT_EQ(params.format, AudioFormat::mp3);
}

TEST(GenerateManifest, ReadsTheOlderNames) {
  auto manifest = parse_manifest(
      "jobs:\n  - generate: {prompt: lofi, audio_duration: 45, infer_step: 60, guidance_scale: 15}\n", "/p/s.yaml");
  ASSERT_TRUE(manifest) << manifest.error().describe();
  const auto& params = std::get<GenerateParams>(manifest->jobs[0].params);
  EXPECT_EQ(params.caption, "lofi");
  EXPECT_EQ(params.duration_s, 45);
  EXPECT_EQ(params.infer_steps, 60);
  EXPECT_EQ(params.guidance_scale, 15.0);
}

TEST(GenerateManifest, PointsAtTheBadField) {
  auto expect_rejected = [](std::string_view body, std::string_view field, std::string_view hint) {
    auto manifest = parse_manifest("jobs:\n  - generate: " + std::string(body) + "\n", "/p/s.yaml");
    ASSERT_FALSE(manifest) << body;
    EXPECT_EQ(manifest.error().field, field) << manifest.error().message;
    EXPECT_NE(manifest.error().message.find("/p/s.yaml:2:"), std::string::npos) << manifest.error().message;
    EXPECT_NE(manifest.error().message.find(std::string(hint)), std::string::npos) << manifest.error().message;
  };
  expect_rejected("{caption: x, duration: 5s}", "jobs[0].generate.duration", "from 10s to 10m");
  expect_rejected("{caption: x, duration: 11m}", "jobs[0].generate.duration", "from 10s to 10m");
  expect_rejected("{caption: x, audio_duration: 2}", "jobs[0].generate.audio_duration", "from 10s to 10m");
  expect_rejected("{duration: 30s}", "jobs[0].generate", "missing caption");
  expect_rejected("{caption: x}", "jobs[0].generate", "missing duration");
  expect_rejected("{caption: x, duration: 30s, language: xx}", "jobs[0].generate.language", "unknown language");
  expect_rejected("{caption: '', duration: 30s}", "jobs[0].generate.caption", "is empty");
  expect_rejected("{caption: x, duration: 30s, inputs: [a.wav]}", "jobs[0].generate.inputs", "unknown");
  expect_rejected("{caption: x, duration: 30s, time_signature: 5}", "jobs[0].generate.time_signature",
                  "2, 3, 4 or 6");
}

}  // namespace
}  // namespace ferry::config
