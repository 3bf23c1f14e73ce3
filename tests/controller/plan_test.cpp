#include "controller/plan.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/files.hpp"

namespace ferry::controller {
namespace {

namespace fs = std::filesystem;

config::InputSource path_input(const std::string& text, int line = 7) {
  config::InputSource input;
  input.kind = config::InputSource::Kind::path;
  input.text = text;
  input.where = config::SourceLocation{"jobs.yaml", line, 15};
  return input;
}

config::JobParams convert_to(config::AudioFormat format) {
  config::ConvertParams params;
  params.format = format;
  return params;
}

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "songs" / "folder.wav");
    for (const char* name : {"songs/b.wav", "songs/a.wav", "songs/notes.txt", "talk.mp4"})
      test::write_text(dir_ / name, "x");
  }
  config::Manifest manifest_with(std::vector<config::JobEntry> jobs) {
    config::Manifest manifest;
    manifest.file = dir_ / "jobs.yaml";
    manifest.base_dir = dir_.path();
    manifest.name = "jobs";
    manifest.output = dir_ / "results";
    manifest.jobs = std::move(jobs);
    return manifest;
  }
  test::TempDir dir_;
};

TEST_F(PlanTest, GlobExpandsRelativeToManifestFolderSortedAndSkipsFolders) {
  auto inputs = expand_input(path_input("songs/*.wav"), dir_.path());
  ASSERT_TRUE(inputs) << inputs.error().describe();
  ASSERT_EQ(inputs->size(), 2u);
  EXPECT_EQ((*inputs)[0].file, dir_ / "songs" / "a.wav");
  EXPECT_EQ((*inputs)[1].file, dir_ / "songs" / "b.wav");
  EXPECT_EQ((*inputs)[1].name, "b.wav");
  EXPECT_FALSE((*inputs)[0].is_url);
}

TEST_F(PlanTest, GlobWithoutMatchIsAnErrorNamingPatternAndManifestLine) {
  auto inputs = expand_input(path_input("songs/*.flac", 9), dir_.path());
  ASSERT_FALSE(inputs);
  EXPECT_EQ(inputs.error().code, ErrorCode::not_found);
  EXPECT_NE(inputs.error().message.find("songs/*.flac"), std::string::npos) << inputs.error().message;
  EXPECT_NE(inputs.error().message.find("jobs.yaml:9:15"), std::string::npos) << inputs.error().message;
}

TEST_F(PlanTest, MissingPlainFileIsAnErrorNamingIt) {
  auto inputs = expand_input(path_input("songs/missing.wav"), dir_.path());
  ASSERT_FALSE(inputs);
  EXPECT_EQ(inputs.error().code, ErrorCode::not_found);
  EXPECT_NE(inputs.error().message.find("missing.wav"), std::string::npos);
  EXPECT_NE(inputs.error().message.find("does not exist"), std::string::npos);
}

TEST_F(PlanTest, FolderGivenAsPlainPathIsRefused) {
  auto inputs = expand_input(path_input("songs"), dir_.path());
  ASSERT_FALSE(inputs);
  EXPECT_EQ(inputs.error().code, ErrorCode::invalid_argument);
}

TEST_F(PlanTest, UrlInputIsPassedThroughWithItsFileName) {
  config::InputSource source;
  source.kind = config::InputSource::Kind::url;
  source.text = "https://example.org/media/talk.mp3?sig=abc";
  auto inputs = expand_input(source, dir_.path());
  ASSERT_TRUE(inputs);
  ASSERT_EQ(inputs->size(), 1u);
  EXPECT_TRUE((*inputs)[0].is_url);
  EXPECT_EQ((*inputs)[0].url, source.text);
  EXPECT_EQ((*inputs)[0].name, "talk.mp3");
}

TEST_F(PlanTest, OneJobPerEntryAndInputWithEachFileUploadedOnce) {
  config::JobEntry mp3{{path_input("songs/*.wav"), path_input("talk.mp4")}, convert_to(config::AudioFormat::mp3), {}};
  config::JobEntry flac{{path_input("songs/a.wav")}, convert_to(config::AudioFormat::flac), {}};
  auto plan = build_plan(manifest_with({mp3, flac}));
  ASSERT_TRUE(plan) << plan.error().describe();
  ASSERT_EQ(plan->jobs.size(), 4u);
  EXPECT_EQ(plan->jobs[0].key, "e1-i1");
  EXPECT_EQ(plan->jobs[2].key, "e1-i3");
  EXPECT_EQ(plan->jobs[3].key, "e2-i1");
  EXPECT_EQ(plan->jobs[3].entry_index, 1);
  EXPECT_EQ(plan->jobs[2].input.name, "talk.mp4");
  EXPECT_EQ(plan->uploads.size(), 3u);
  for (const auto& job : plan->jobs) EXPECT_EQ(job.output_suffix, 0) << job.key;
  auto json = plan_to_json(*plan);
  EXPECT_EQ(json["jobs"].size(), 4u);
  EXPECT_EQ(json["output"], (dir_ / "results").string());
}

TEST_F(PlanTest, SameFileListedTwiceInOneEntryRunsOnce) {
  config::JobEntry entry{{path_input("songs/*.wav"), path_input("songs/a.wav")}, convert_to(config::AudioFormat::mp3),
                         {}};
  auto plan = build_plan(manifest_with({entry}));
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->jobs.size(), 2u);
}

TEST_F(PlanTest, ClashingOutputsOfDifferentEntriesGetDistinctSuffixes) {
  fs::create_directories(dir_ / "other");
  test::write_text(dir_ / "other" / "a.wav", "y");
  config::JobEntry first{{path_input("songs/a.wav"), path_input("other/a.wav")}, convert_to(config::AudioFormat::mp3),
                         {}};
  config::JobEntry flac{{path_input("songs/a.wav")}, convert_to(config::AudioFormat::flac), {}};
  auto plan = build_plan(manifest_with({first, flac}));
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->jobs.size(), 3u);
  EXPECT_EQ(plan->jobs[0].output_suffix, 0);
  EXPECT_EQ(plan->jobs[1].output_suffix, 2);  // same name, same format: would overwrite
  EXPECT_EQ(plan->jobs[2].output_suffix, 0);  // other extension: no clash
}

config::JobParams loop_for(double seconds) {
  config::LoopParams params;
  params.duration_s = seconds;
  return params;
}

TEST_F(PlanTest, InputInTheOutputFolderThatAnEarlierEntryMakesIsAwaitedNotUploaded) {
  config::JobEntry convert{{path_input("songs/a.wav")}, convert_to(config::AudioFormat::mp3), {}};
  config::JobEntry looped{{path_input("results/a.mp3", 4)}, loop_for(7200), {}};
  auto plan = build_plan(manifest_with({convert, looped}));
  ASSERT_TRUE(plan) << plan.error().describe();
  ASSERT_EQ(plan->jobs.size(), 2u);
  const auto& loop_job = plan->jobs[1];
  EXPECT_EQ(loop_job.kind, "loop");
  EXPECT_EQ(loop_job.summary, "2h flac");
  EXPECT_TRUE(loop_job.input.from_earlier_entry);
  EXPECT_EQ(loop_job.input.file, dir_ / "results" / "a.mp3");
  EXPECT_EQ(loop_job.input.name, "a.mp3");
  EXPECT_EQ(plan->uploads, std::vector<fs::path>{dir_ / "songs" / "a.wav"});
  EXPECT_NE(describe_plan(*plan).find("(after the earlier entries)"), std::string::npos) << describe_plan(*plan);
  EXPECT_EQ(plan_to_json(*plan)["jobs"][1]["input_kind"], "earlier_output");
}

TEST_F(PlanTest, OnlyMissingPlainPathsInTheOutputFolderOfLaterEntriesAreAwaited) {
  const fs::path output = dir_ / "results";
  fs::create_directories(output);
  test::write_text(output / "there.mp3", "x");
  EXPECT_TRUE(awaited_input(path_input("results/a.mp3"), dir_.path(), output, 1));
  EXPECT_TRUE(awaited_input(path_input((output / "sub" / "a.mp3").string()), dir_.path(), output, 2));
  EXPECT_FALSE(awaited_input(path_input("results/a.mp3"), dir_.path(), output, 0)) << "nothing comes before";
  EXPECT_FALSE(awaited_input(path_input("results/there.mp3"), dir_.path(), output, 1)) << "exists already";
  EXPECT_FALSE(awaited_input(path_input("results/*.mp3"), dir_.path(), output, 1)) << "globs are expanded at once";
  EXPECT_FALSE(awaited_input(path_input("songs/new.wav"), dir_.path(), output, 1)) << "outside the output folder";
  EXPECT_FALSE(awaited_input(path_input("results/../songs/new.wav"), dir_.path(), output, 1));
  // A missing file outside the output folder is still an error at plan time.
  config::JobEntry convert{{path_input("songs/a.wav")}, convert_to(config::AudioFormat::mp3), {}};
  config::JobEntry looped{{path_input("songs/new.wav")}, loop_for(60), {}};
  EXPECT_FALSE(build_plan(manifest_with({convert, looped})));
}

TEST_F(PlanTest, AwaitedInputStillMissingIsAnErrorListingTheEarlierOutputs) {
  auto awaited = awaited_input(path_input("results/a.mp3", 4), dir_.path(), dir_ / "results", 1);
  ASSERT_TRUE(awaited);
  auto missing = check_awaited_input(*awaited, {dir_ / "results" / "b.mp3", dir_ / "results" / "c.mp3"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  const auto& message = missing.error().message;
  EXPECT_EQ(message.rfind("jobs.yaml:4:15: ", 0), 0u) << message;
  EXPECT_NE(message.find((dir_ / "results" / "a.mp3").string()), std::string::npos) << message;
  EXPECT_NE(message.find("b.mp3, " + (dir_ / "results" / "c.mp3").string()), std::string::npos) << message;
  EXPECT_NE(check_awaited_input(*awaited, {}).error().message.find("(their outputs: none)"), std::string::npos);

  fs::create_directories(dir_ / "results");
  test::write_text(dir_ / "results" / "a.mp3", "x");
  EXPECT_TRUE(check_awaited_input(*awaited, {dir_ / "results" / "a.mp3"}));
}

TEST(PlanPaths, InsideMeansBelowTheFolderNotBesideIt) {
  EXPECT_TRUE(is_inside("/a/results/x.mp3", "/a/results"));
  EXPECT_TRUE(is_inside("/a/results/sub/x.mp3", "/a/results/"));
  EXPECT_FALSE(is_inside("/a/results", "/a/results"));
  EXPECT_FALSE(is_inside("/a/results2/x.mp3", "/a/results"));
  EXPECT_FALSE(is_inside("/a/x.mp3", "/a/results"));
}

TEST(OutputNames, SuffixesCountPerKeyInPlanOrder) {
  EXPECT_EQ(assign_output_suffixes({"x", "y", "x", "x", "y"}), (std::vector<int>{0, 0, 2, 3, 2}));
  EXPECT_TRUE(assign_output_suffixes({}).empty());
}

TEST(OutputNames, LoopOutputsClashOnlyWithLoopsOfTheSameStemAndFormat) {
  EXPECT_NE(output_clash_key("a.wav", loop_for(60)), output_clash_key("a.wav", convert_to(config::AudioFormat::flac)));
  EXPECT_EQ(output_clash_key("a.wav", loop_for(60)), output_clash_key("a.mp3", loop_for(7200)));
}

TEST(OutputNames, ClashKeyDependsOnStemKindAndExtension) {
  auto mp3 = convert_to(config::AudioFormat::mp3);
  EXPECT_EQ(output_clash_key("a.wav", mp3), output_clash_key("a.flac", mp3));
  EXPECT_NE(output_clash_key("a.wav", mp3), output_clash_key("b.wav", mp3));
  EXPECT_NE(output_clash_key("a.wav", mp3), output_clash_key("a.wav", convert_to(config::AudioFormat::flac)));
  EXPECT_EQ(output_clash_key("a.wav", convert_to(config::AudioFormat::wav)),
            output_clash_key("a.wav", convert_to(config::AudioFormat::wav_f32)));
}

TEST(OutputNames, SuffixGoesAfterTheInputStem) {
  EXPECT_EQ(local_output_name("song.mp3", "song.wav", 0), "song.mp3");
  EXPECT_EQ(local_output_name("song.mp3", "song.wav", 2), "song-2.mp3");
  EXPECT_EQ(local_output_name("song_001.flac", "song.wav", 3), "song-3_001.flac");
  EXPECT_EQ(local_output_name("vocals.wav", "song.wav", 2), "vocals-2.wav");
  EXPECT_EQ(local_output_name("README", "song.wav", 2), "README-2");
}

}  // namespace
}  // namespace ferry::controller
