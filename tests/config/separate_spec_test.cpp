// `separate` jobs in both readers: the agent's JSON and the manifest.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/job_spec.hpp"
#include "config/manifest.hpp"

namespace ferry::config {
namespace {

using nlohmann::json;

const std::string kSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

json separate_spec(json params) {
  return {{"kind", "separate"},
          {"inputs", json::array({{{"upload", kSha}, {"name", "song.mp3"}}})},
          {"params", std::move(params)}};
}

TEST(SeparateSpec, ReadsEveryFieldAndWritesThemBack) {
  auto spec = job_spec_from_json(separate_spec({{"model", "htdemucs_ft"},
                                                {"stems", {"vocals", "instrumental"}},
                                                {"format", "mp3"},
                                                {"mono", true},
                                                {"bitrate_kbps", 256},
                                                {"shifts", 2},
                                                {"overlap", 0.5},
                                                {"seed", 42},
                                                {"batch", 8}}));
  ASSERT_TRUE(spec) << spec.error().describe();
  EXPECT_EQ(job_kind(spec->params), "separate");
  const auto& params = std::get<SeparateParams>(spec->params);
  EXPECT_EQ(params.model, "htdemucs_ft");
  EXPECT_EQ(params.stems, (std::vector<std::string>{"vocals", "instrumental"}));
  EXPECT_EQ(params.format, AudioFormat::mp3);
  EXPECT_TRUE(params.mono);
  EXPECT_EQ(params.bitrate_kbps, 256);
  EXPECT_EQ(params.shifts, 2);
  EXPECT_EQ(params.overlap, 0.5);
  EXPECT_EQ(params.seed, 42u);
  EXPECT_EQ(params.batch, 8);
  EXPECT_EQ(*job_spec_from_json(job_spec_to_json(*spec)), *spec);
}

TEST(SeparateSpec, DefaultsFollowDemucs) {
  auto spec = job_spec_from_json(separate_spec(json::object()));
  ASSERT_TRUE(spec) << spec.error().describe();
  const auto& params = std::get<SeparateParams>(spec->params);
  EXPECT_TRUE(params.model.empty());
  EXPECT_EQ(params.shifts, 1);
  EXPECT_EQ(params.overlap, 0.25);
  EXPECT_EQ(params.format, AudioFormat::wav);
  EXPECT_TRUE(params.stems.empty());
}

TEST(SeparateSpec, RejectsBadParamsNamingTheField) {
  auto expect_rejected = [](json params, std::string_view field, std::string_view hint) {
    SCOPED_TRACE(params.dump());
    auto spec = job_spec_from_json(separate_spec(std::move(params)));
    ASSERT_FALSE(spec);
    EXPECT_EQ(spec.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(spec.error().field, field);
    EXPECT_NE(spec.error().message.find(std::string(hint)), std::string::npos) << spec.error().message;
  };
  expect_rejected({{"model", "htdemucs"}, {"checkpoint", "m.th"}}, "params.checkpoint", "not several");
  expect_rejected({{"checkpoint", "../../etc/passwd"}}, "params.checkpoint", "not a plain file name");
  expect_rejected({{"stems", {"vocals", "vocals"}}}, "params.stems[1]", "listed twice");
  expect_rejected({{"shifts", 50}}, "params.shifts", "0 to 20");
  expect_rejected({{"overlap", 1.0}}, "params.overlap", "0 to 0.99");
  expect_rejected({{"batch", 0}}, "params.batch", "1 to 64");
  expect_rejected({{"bitrate_kbps", 192}}, "params.bitrate_kbps", "only to mp3");
  expect_rejected({{"seed", -1}}, "params.seed", "non-negative integer");
  expect_rejected({{"stem", {"vocals"}}}, "params.stem", "stems");
}

TEST(SeparateManifest, ReadsASeparateJob) {
  auto manifest = parse_manifest(
      "jobs:\n"
      "  - separate: {inputs: [songs/a.mp3], model: htdemucs_ft, stems: [vocals, instrumental], format: mp3,\n"
      "               mono: false, shifts: 1, overlap: 0.25}\n",
      "/projects/audio/stems.yaml");
  ASSERT_TRUE(manifest) << manifest.error().describe();
  ASSERT_EQ(manifest->jobs.size(), 1u);
  const auto& params = std::get<SeparateParams>(manifest->jobs[0].params);
  EXPECT_EQ(params.model, "htdemucs_ft");
  EXPECT_EQ(params.stems, (std::vector<std::string>{"vocals", "instrumental"}));
  EXPECT_EQ(params.format, AudioFormat::mp3);
  EXPECT_EQ(params.overlap, 0.25);
  EXPECT_EQ(manifest->jobs[0].inputs.size(), 1u);
}

TEST(SeparateManifest, PointsAtTheBadStem) {
  auto manifest = parse_manifest("jobs:\n  - separate: {inputs: [a.mp3], stems: [vocals, vocals]}\n", "/p/s.yaml");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().field, "jobs[0].separate.stems[1]");
  EXPECT_NE(manifest.error().message.find("/p/s.yaml:2:"), std::string::npos) << manifest.error().message;
  EXPECT_NE(manifest.error().message.find("listed twice"), std::string::npos) << manifest.error().message;
}

}  // namespace
}  // namespace ferry::config
