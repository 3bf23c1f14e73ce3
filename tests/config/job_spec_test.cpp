#include "config/job_spec.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ferry::config {
namespace {

using nlohmann::json;

const std::string kSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

json upload_input(std::string name = "talk.mp4") { return {{"upload", kSha}, {"name", std::move(name)}}; }

json spec_with_params(json params) {
  return {{"kind", "convert"}, {"inputs", json::array({upload_input()})}, {"params", std::move(params)}};
}

json spec_with_inputs(json inputs) { return {{"kind", "convert"}, {"inputs", std::move(inputs)}}; }

// A rejected spec: the code, the field path (in `field` and at the start of
// the message) and a hint that tells the user what to do.
void expect_rejected(const json& spec, std::string_view field, std::string_view hint,
                     ErrorCode code = ErrorCode::invalid_argument) {
  SCOPED_TRACE(spec.dump());
  auto result = job_spec_from_json(spec);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, code);
  EXPECT_EQ(result.error().field, field);
  EXPECT_EQ(result.error().message.rfind(std::string(field) + ": ", 0), 0u) << result.error().message;
  EXPECT_NE(result.error().message.find(std::string(hint)), std::string::npos) << result.error().message;
}

TEST(JobSpecFromJson, ReadsEveryFieldOfAConvertJob) {
  auto spec = job_spec_from_json(json::parse(R"({
    "kind": "convert",
    "inputs": [{"upload": ")" + kSha + R"(", "name": "talk.mp4"},
               {"url": "https://example.com/music/a.mp3", "name": "song.mp3"}],
    "params": {"format": "mp3", "mono": true, "sample_rate": 44100, "bitrate_kbps": 192,
               "cut_points_s": [300, 600.5]}})"));
  ASSERT_TRUE(spec) << spec.error().message;
  ASSERT_EQ(spec->inputs.size(), 2u);
  EXPECT_EQ(spec->inputs[0], (InputRef{kSha, "", "talk.mp4"}));
  EXPECT_EQ(spec->inputs[1], (InputRef{"", "https://example.com/music/a.mp3", "song.mp3"}));
  EXPECT_EQ(job_kind(spec->params), "convert");
  const auto& params = std::get<ConvertParams>(spec->params);
  EXPECT_EQ(params.format, AudioFormat::mp3);
  EXPECT_TRUE(params.mono);
  EXPECT_EQ(params.sample_rate, 44100);
  EXPECT_EQ(params.bitrate_kbps, 192);
  EXPECT_EQ(params.segment_s, std::nullopt);
  EXPECT_EQ(params.cut_points_s, (std::vector<double>{300, 600.5}));
}

TEST(JobSpecFromJson, UsesDefaultsWhenParamsAreLeftOut) {
  auto spec = job_spec_from_json(spec_with_inputs(json::array({upload_input()})));
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(std::get<ConvertParams>(spec->params), ConvertParams{});
  const auto& params = std::get<ConvertParams>(spec->params);
  EXPECT_EQ(params.format, AudioFormat::wav);
  EXPECT_FALSE(params.mono);
  EXPECT_EQ(params.sample_rate, std::nullopt);
  EXPECT_EQ(params.bitrate_kbps, std::nullopt);
}

TEST(JobSpecFromJson, NamesAUrlInputAfterItsLastPathSegment) {
  auto spec = job_spec_from_json(spec_with_inputs(
      json::array({{{"url", "https://example.com/music/a%20b.mp3?token=x#part"}}, {{"url", "http://h/x.wav"}}})));
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->inputs[0].name, "a%20b.mp3");
  EXPECT_EQ(spec->inputs[1].name, "x.wav");
}

TEST(JobSpecFromJson, AcceptsValuesAtTheLimits) {
  for (const json& params :
       {json{{"sample_rate", 8000}}, json{{"sample_rate", 192000}}, json{{"format", "mp3"}, {"bitrate_kbps", 32}},
        json{{"format", "mp3"}, {"bitrate_kbps", 320}}, json{{"segment_s", 0.1}},
        json{{"cut_points_s", json::array()}}}) {
    EXPECT_TRUE(job_spec_from_json(spec_with_params(params))) << params.dump();
  }
  EXPECT_TRUE(job_spec_from_json(spec_with_inputs(json::array({upload_input(std::string(255, 'n'))}))));
  EXPECT_TRUE(job_spec_from_json(spec_with_inputs(json(std::vector<json>(1000, upload_input())))));
  std::vector<double> many_cuts;
  for (int i = 1; i <= 10000; ++i) many_cuts.push_back(i);
  EXPECT_TRUE(job_spec_from_json(spec_with_params({{"cut_points_s", many_cuts}})));
}

TEST(JobSpecFromJson, RejectsUnknownFieldsAtEveryLevelWithASuggestion) {
  auto spec = spec_with_params({{"bitrat", 192}});
  expect_rejected(spec, "params.bitrat", "unknown field 'bitrat' (did you mean 'bitrate_kbps'?)");
  spec = spec_with_inputs(json::array({upload_input()}));
  spec["kinds"] = "convert";
  expect_rejected(spec, "kinds", "did you mean 'kind'?");
  expect_rejected(spec_with_inputs(json::array({{{"uplod", kSha}, {"name", "a.wav"}}})), "inputs[0].uplod",
                  "did you mean 'upload'?");
  expect_rejected(spec_with_params({{"colour", "red"}}), "params.colour", "expected one of: format, mono");
}

TEST(JobSpecFromJson, RejectsAMissingOrUnknownKind) {
  expect_rejected({{"inputs", json::array({upload_input()})}}, "kind", "missing; expected one of: convert");
  auto spec = spec_with_inputs(json::array({upload_input()}));
  spec["kind"] = "convrt";
  expect_rejected(spec, "kind", "unknown job kind 'convrt' (did you mean 'convert'?)");
  spec["kind"] = 3;
  expect_rejected(spec, "kind", "expected a string, got integer 3");
}

TEST(JobSpecFromJson, RejectsAJobThatIsNotAnObject) {
  auto result = job_spec_from_json(json::array());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(result.error().message.find("expected an object with kind, inputs, params, got an array"),
            std::string::npos)
      << result.error().message;
}

TEST(JobSpecFromJson, RejectsMissingEmptyOrTooManyInputs) {
  expect_rejected({{"kind", "convert"}}, "inputs", "at least one input");
  expect_rejected(spec_with_inputs(json::array()), "inputs", "expected at least one input");
  expect_rejected(spec_with_inputs("talk.mp4"), "inputs", "expected an array of inputs, got string \"talk.mp4\"");
  expect_rejected(spec_with_inputs(json(std::vector<json>(1001, upload_input()))), "inputs",
                  "at most 1000 inputs, got 1001; split the job");
}

TEST(JobSpecFromJson, RequiresExactlyOneOfUploadAndUrl) {
  expect_rejected(spec_with_inputs(json::array({{{"upload", kSha}, {"url", "https://h/a.mp3"}, {"name", "a"}}})),
                  "inputs[0]", "either \"upload\" or \"url\", not both");
  expect_rejected(spec_with_inputs(json::array({upload_input(), {{"name", "a.wav"}}})), "inputs[1]",
                  "expected \"upload\"");
}

TEST(JobSpecFromJson, RejectsUploadsThatAreNotLowercaseSha256) {
  std::string upper = kSha;
  upper[0] = 'A';
  upper[10] = 'F';
  for (const json& bad : {json(upper), json(kSha.substr(1)), json(kSha + "0"), json(std::string(64, 'g'))})
    expect_rejected(spec_with_inputs(json::array({{{"upload", bad}, {"name", "a.wav"}}})), "inputs[0].upload",
                    "64 lowercase hex digits");
  expect_rejected(spec_with_inputs(json::array({{{"upload", 12}, {"name", "a.wav"}}})), "inputs[0].upload",
                  "expected a string, got integer 12");
}

TEST(JobSpecFromJson, RequiresANameForUploads) {
  expect_rejected(spec_with_inputs(json::array({{{"upload", kSha}}})), "inputs[0].name",
                  "an upload needs its original file name");
}

TEST(JobSpecFromJson, RejectsUrlsThatAreNotHttp) {
  for (std::string_view bad : {"ftp://example.com/a.mp3", "file:///etc/passwd", "https://", "https:///a.mp3",
                               "https://example.com/a b.mp3", "example.com/a.mp3"})
    expect_rejected(spec_with_inputs(json::array({{{"url", bad}, {"name", "a.mp3"}}})), "inputs[0].url",
                    "expected an http:// or https:// URL");
}

TEST(JobSpecFromJson, RequiresANameWhenTheUrlHasNoFileName) {
  for (std::string_view url : {"https://example.com/", "https://example.com", "https://example.com/dir/?q=1"})
    expect_rejected(spec_with_inputs(json::array({{{"url", url}}})), "inputs[0].name",
                    "ends without a file name; give a name");
}

TEST(JobSpecFromJson, RejectsUnsafeInputNames) {
  expect_rejected(spec_with_inputs(json::array({upload_input("dir/a.wav")})), "inputs[0].name", "must not contain '/'");
  expect_rejected(spec_with_inputs(json::array({upload_input(std::string("a\0b", 3))})), "inputs[0].name",
                  "must not contain '/' or NUL");
  expect_rejected(spec_with_inputs(json::array({upload_input(std::string(256, 'n'))})), "inputs[0].name",
                  "at most 255 bytes, got 256");
  for (std::string name : {"", ".", ".."})
    expect_rejected(spec_with_inputs(json::array({upload_input(name)})), "inputs[0].name", "expected a file name");
}

TEST(JobSpecFromJson, RejectsUnknownFormatsListingTheKnownOnes) {
  expect_rejected(spec_with_params({{"format", "ogg"}}), "params.format",
                  "unknown format 'ogg' (expected one of: wav, wav-f32, flac, mp3)");
  expect_rejected(spec_with_params({{"format", "mp4"}}), "params.format", "did you mean 'mp3'?");
}

TEST(JobSpecFromJson, RejectsWrongJsonTypesNamingBoth) {
  expect_rejected(spec_with_params({{"sample_rate", "44100"}}), "params.sample_rate",
                  "expected an integer, got string \"44100\"");
  expect_rejected(spec_with_params({{"sample_rate", 44100.5}}), "params.sample_rate",
                  "expected an integer, got number 44100.5");
  expect_rejected(spec_with_params({{"mono", "yes"}}), "params.mono", "expected true or false, got string \"yes\"");
  expect_rejected(spec_with_params({{"segment_s", "5m"}}), "params.segment_s", "expected a number, got string");
  expect_rejected(spec_with_params({{"cut_points_s", 300}}), "params.cut_points_s", "expected an array of times");
  expect_rejected(spec_with_params({{"cut_points_s", {300, "600"}}}), "params.cut_points_s[1]",
                  "expected a number, got string");
  expect_rejected(spec_with_params(json::array()), "params", "expected an object with format, mono");
  expect_rejected(spec_with_params({{"format", nullptr}}), "params.format", "expected a string, got null");
  expect_rejected(spec_with_params({{"sample_rate", 100000000000ll}}), "params.sample_rate",
                  "integer 100000000000 is out of range");
}

TEST(JobSpecFromJson, RejectsOutOfRangeAudioSettings) {
  expect_rejected(spec_with_params({{"sample_rate", 7999}}), "params.sample_rate",
                  "expected a sample rate from 8000 to 192000 Hz, got 7999");
  expect_rejected(spec_with_params({{"sample_rate", 192001}}), "params.sample_rate", "from 8000 to 192000 Hz");
  expect_rejected(spec_with_params({{"format", "mp3"}, {"bitrate_kbps", 31}}), "params.bitrate_kbps",
                  "expected a bitrate from 32 to 320 kbps, got 31");
  expect_rejected(spec_with_params({{"format", "mp3"}, {"bitrate_kbps", 321}}), "params.bitrate_kbps",
                  "from 32 to 320 kbps");
}

TEST(JobSpecFromJson, RejectsABitrateForFormatsOtherThanMp3) {
  expect_rejected(spec_with_params({{"format", "flac"}, {"bitrate_kbps", 192}}), "params.bitrate_kbps",
                  "bitrate_kbps applies only to mp3 output, but format is flac");
  expect_rejected(spec_with_params({{"bitrate_kbps", 192}}), "params.bitrate_kbps", "but format is wav");
}

TEST(JobSpecFromJson, RejectsSegmentsShorterThanATenthOfASecond) {
  for (double bad : {0.0, 0.05, -1.0})
    expect_rejected(spec_with_params({{"segment_s", bad}}), "params.segment_s",
                    "expected a segment length of at least 0.1 s");
}

TEST(JobSpecFromJson, RejectsCutPointsThatAreNotStrictlyAscendingAndPositive) {
  expect_rejected(spec_with_params({{"cut_points_s", {300, 200}}}), "params.cut_points_s[1]",
                  "strictly ascending, but 200 follows 300");
  expect_rejected(spec_with_params({{"cut_points_s", {300, 300}}}), "params.cut_points_s[1]", "strictly ascending");
  expect_rejected(spec_with_params({{"cut_points_s", {0}}}), "params.cut_points_s[0]", "expected a time after 0 s");
  expect_rejected(spec_with_params({{"cut_points_s", {10, -5}}}), "params.cut_points_s[1]", "after 0 s");
  std::vector<double> too_many;
  for (int i = 1; i <= 10001; ++i) too_many.push_back(i);
  expect_rejected(spec_with_params({{"cut_points_s", too_many}}), "params.cut_points_s",
                  "at most 10000 cut points, got 10001");
}

TEST(JobSpecFromJson, RejectsSegmentsTogetherWithCutPoints) {
  expect_rejected(spec_with_params({{"segment_s", 60}, {"cut_points_s", {300}}}), "params.cut_points_s",
                  "segment_s and cut_points_s cannot be combined");
}

TEST(JobSpecToJson, WritesOnlyTheSettingsThatAreSet) {
  JobSpec spec{{InputRef{"", "https://example.com/a.mp3", "a.mp3"}}, ConvertParams{}};
  auto out = job_spec_to_json(spec);
  EXPECT_EQ(out, json::parse(R"({"kind": "convert",
                                  "inputs": [{"url": "https://example.com/a.mp3", "name": "a.mp3"}],
                                  "params": {"format": "wav", "mono": false}})"));
}

TEST(JobSpecJson, RoundTripsEveryValidSpec) {
  ConvertParams all_set{AudioFormat::mp3, true, 48000, 320, std::nullopt, {0.5, 300, 600.25}};
  ConvertParams segmented{AudioFormat::wav_f32, false, 8000, std::nullopt, 299.9, {}};
  ConvertParams flac{AudioFormat::flac, true, std::nullopt, std::nullopt, std::nullopt, {}};
  std::vector<JobSpec> specs{
      {{InputRef{kSha, "", "talk.mp4"}}, all_set},
      {{InputRef{"", "https://example.com/a.mp3?x=1", "a.mp3"}, InputRef{kSha, "", "b c.wav"}}, segmented},
      {{InputRef{"", "http://10.0.0.1:8080/x", "renamed.flac"}}, flac},
      {{InputRef{kSha, "", "défi.wav"}}, ConvertParams{}},
  };
  for (const auto& spec : specs) {
    auto wire = job_spec_to_json(spec);
    auto back = job_spec_from_json(json::parse(wire.dump()));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, spec) << wire.dump();
  }
}

json loop_spec(json params, json inputs = json::array({upload_input("track.mp3")})) {
  return {{"kind", "loop"}, {"inputs", std::move(inputs)}, {"params", std::move(params)}};
}

TEST(JobSpecFromJson, ReadsEveryFieldOfALoopJob) {
  auto spec = job_spec_from_json(loop_spec({{"duration_s", 7200},
                                            {"format", "mp3"},
                                            {"crossfade_s", 5},
                                            {"fade_in_s", 2},
                                            {"fade_out_s", 10},
                                            {"sample_rate", 48000},
                                            {"bitrate_kbps", 256}}));
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(job_kind(spec->params), "loop");
  const auto& params = std::get<LoopParams>(spec->params);
  EXPECT_EQ(params.duration_s, 7200);
  EXPECT_EQ(params.format, AudioFormat::mp3);
  EXPECT_EQ(params.crossfade_s, 5);
  EXPECT_EQ(params.fade_in_s, 2);
  EXPECT_EQ(params.fade_out_s, 10);
  EXPECT_EQ(params.sample_rate, 48000);
  EXPECT_EQ(params.bitrate_kbps, 256);
}

TEST(JobSpecFromJson, LoopDefaultsToFlacWithoutFadeInAndAnUnsetFadeOut) {
  auto spec = job_spec_from_json(loop_spec({{"duration_s", 30}}));
  ASSERT_TRUE(spec) << spec.error().message;
  const auto& params = std::get<LoopParams>(spec->params);
  EXPECT_EQ(params.format, AudioFormat::flac);
  EXPECT_EQ(params.fade_in_s, 0);
  EXPECT_EQ(params.fade_out_s, std::nullopt);
  EXPECT_EQ(params.crossfade_s, std::nullopt);
}

TEST(JobSpecFromJson, RejectsLoopDurationsOutsideOneSecondToTenHours) {
  expect_rejected(loop_spec(json::object()), "params.duration_s", "missing; give the length of the loop in seconds");
  expect_rejected({{"kind", "loop"}, {"inputs", json::array({upload_input()})}}, "params",
                  "a loop job needs at least {\"duration_s\"");
  expect_rejected(loop_spec({{"duration_s", 0}}), "params.duration_s", "expected a loop length above 0, like 2h");
  expect_rejected(loop_spec({{"duration_s", -3600}}), "params.duration_s", "expected a loop length above 0");
  expect_rejected(loop_spec({{"duration_s", 0.5}}), "params.duration_s", "at least 1s, got 500ms");
  expect_rejected(loop_spec({{"duration_s", 11 * 3600}}), "params.duration_s", "11h is over the 10-hour limit");
  expect_rejected(loop_spec({{"duration_s", "2h"}}), "params.duration_s", "expected a number, got string \"2h\"");
  EXPECT_TRUE(job_spec_from_json(loop_spec({{"duration_s", 10 * 3600}})));
  EXPECT_TRUE(job_spec_from_json(loop_spec({{"duration_s", 1}})));
}

TEST(JobSpecFromJson, RejectsBadLoopCrossfadesFadesAndInputs) {
  expect_rejected(loop_spec({{"duration_s", 60}, {"crossfade_s", 0}}), "params.crossfade_s",
                  "expected a crossfade from 10ms to 30s, got 0s");
  expect_rejected(loop_spec({{"duration_s", 60}, {"crossfade_s", 31}}), "params.crossfade_s", "got 31s");
  expect_rejected(loop_spec({{"duration_s", 60}, {"fade_in_s", -1}}), "params.fade_in_s",
                  "expected a fade of 0 or more");
  expect_rejected(loop_spec({{"duration_s", 60}, {"fade_out_s", 60}}), "params.fade_out_s",
                  "a fade of 1m does not fit in a loop of 1m");
  expect_rejected(loop_spec({{"duration_s", 60}, {"fade_in_s", 40}, {"fade_out_s", 30}}), "params.fade_out_s",
                  "together are longer than the loop");
  expect_rejected(loop_spec({{"duration_s", 60}, {"bitrate_kbps", 192}}), "params.bitrate_kbps",
                  "bitrate_kbps applies only to mp3 output, but format is flac");
  expect_rejected(loop_spec({{"duration_s", 60}, {"segment_s", 5}}), "params.segment_s", "unknown field");
  expect_rejected(loop_spec({{"duration_s", 60}}, json::array({upload_input("a.wav"), upload_input("b.wav")})),
                  "inputs", "a loop job takes exactly one input, got 2");
}

TEST(JobSpecToJson, RoundTripsLoopSpecs) {
  LoopParams all_set{7200, AudioFormat::mp3, 4.5, 1.0, 12.0, 44100, 192};
  LoopParams defaults;
  defaults.duration_s = 30;
  for (const auto& params : {all_set, defaults}) {
    JobSpec spec{{InputRef{kSha, "", "track.mp3"}}, params};
    auto wire = job_spec_to_json(spec);
    auto back = job_spec_from_json(json::parse(wire.dump()));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, spec) << wire.dump();
  }
}

TEST(AudioFormat, ConvertsToAndFromItsName) {
  for (auto format : {AudioFormat::wav, AudioFormat::wav_f32, AudioFormat::flac, AudioFormat::mp3})
    EXPECT_EQ(audio_format_from_string(to_string(format)), format);
  EXPECT_EQ(to_string(AudioFormat::wav_f32), "wav-f32");
  EXPECT_EQ(file_extension(AudioFormat::wav_f32), "wav");
  EXPECT_EQ(file_extension(AudioFormat::flac), "flac");
  EXPECT_EQ(file_extension(AudioFormat::mp3), "mp3");
  auto bad = audio_format_from_string("WAV");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(bad.error().message.find("did you mean 'wav'?"), std::string::npos);
}

}  // namespace
}  // namespace ferry::config
