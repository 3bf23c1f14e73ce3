// The convert engine's pure rules: output names and segment boundaries.

#include <gtest/gtest.h>

#include "agent/engines/convert_plan.hpp"
#include "common/files.hpp"

namespace ferry::agent::convert {
namespace {

using config::AudioFormat;

TEST(SafeStem, DropsExtensionAndFolderAndReplacesUnsafeCharacters) {
  EXPECT_EQ(safe_stem("song.mp3"), "song");
  EXPECT_EQ(safe_stem("my song (live).final.wav"), "my_song__live_.final");
  EXPECT_EQ(safe_stem("music/albums/track.flac"), "track");
  EXPECT_EQ(safe_stem("C:\\Users\\me\\talk.mp4"), "talk");
  EXPECT_EQ(safe_stem("..hidden"), "hidden");
  EXPECT_EQ(safe_stem(".bashrc"), "bashrc");
  EXPECT_EQ(safe_stem("Ünïcode ♫.ogg"), "__n__code____");
  EXPECT_EQ(safe_stem(""), "audio");
  EXPECT_EQ(safe_stem("..."), "audio");
  EXPECT_EQ(safe_stem(std::string(300, 'a') + ".wav"), std::string(100, 'a'));
  for (const std::string& name : {std::string("x.mp3"), std::string("../../etc/passwd"), std::string("a b"),
                                   std::string("..."), std::string(300, '/'), std::string(300, 'x')}) {
    EXPECT_TRUE(is_safe_name(output_name(safe_stem(name), 999, "flac"))) << name;
  }
}

TEST(UniqueStems, LaterDuplicatesGetANumberIgnoringCase) {
  EXPECT_EQ(unique_stems({"a.mp3", "b.mp3", "a.wav", "A.flac", "a_2.mp3"}),
            (std::vector<std::string>{"a", "b", "a_2", "A_3", "a_2_2"}));
}

TEST(OutputName, NumbersSegmentsWithThreeDigits) {
  EXPECT_EQ(output_name("talk", std::nullopt, "mp3"), "talk.mp3");
  EXPECT_EQ(output_name("talk", 1, "wav"), "talk_001.wav");
  EXPECT_EQ(output_name("talk", 1234, "wav"), "talk_1234.wav");
}

TEST(SegmentPlan, WithoutCutsOneSegmentRunsToTheEnd) {
  auto plan = SegmentPlan::from_params(config::ConvertParams{}, 44100);
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->cuts());
  EXPECT_EQ(plan->segment_end(0), std::nullopt);
}

TEST(SegmentPlan, RegularSegmentsEndAtRoundedTimesWithoutDrift) {
  config::ConvertParams params;
  params.segment_s = 0.1;  // 4410.0 frames, but 0.1 is not exact in binary
  auto plan = SegmentPlan::from_params(params, 44100);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->cuts());
  EXPECT_EQ(plan->segment_end(0), 4410);
  EXPECT_EQ(plan->segment_end(9999), 44100000);
  params.segment_s = 1.0 / 3.0;
  plan = SegmentPlan::from_params(params, 44100);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->segment_end(0), 14700);
  params.segment_s = 0.5;
  plan = SegmentPlan::from_params(params, 11025);  // 5512.5 frames each
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->segment_end(0), 5513);  // round(5512.5)
  EXPECT_EQ(plan->segment_end(1), 11025);
}

TEST(SegmentPlan, CutPointsEndSegmentsThenTheRestRunsToTheEnd) {
  config::ConvertParams params;
  params.cut_points_s = {0.5, 1.25};
  auto plan = SegmentPlan::from_params(params, 48000);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->segment_end(0), 24000);
  EXPECT_EQ(plan->segment_end(1), 60000);
  EXPECT_EQ(plan->segment_end(2), std::nullopt);
}

TEST(SegmentPlan, RejectsBadCuts) {
  auto problem = [](config::ConvertParams params, int rate = 44100) {
    auto plan = SegmentPlan::from_params(params, rate);
    EXPECT_FALSE(plan);
    return plan ? std::string() : plan.error().field;
  };
  config::ConvertParams both;
  both.segment_s = 10;
  both.cut_points_s = {5};
  EXPECT_EQ(problem(both), "params.cut_points_s");
  config::ConvertParams zero;
  zero.segment_s = 0;
  EXPECT_EQ(problem(zero), "params.segment_s");
  config::ConvertParams negative;
  negative.segment_s = -1;
  EXPECT_EQ(problem(negative), "params.segment_s");
  config::ConvertParams descending;
  descending.cut_points_s = {2, 1};
  EXPECT_EQ(problem(descending), "params.cut_points_s");
  config::ConvertParams at_start;
  at_start.cut_points_s = {0};
  EXPECT_EQ(problem(at_start), "params.cut_points_s");
  config::ConvertParams same_sample;
  same_sample.cut_points_s = {1.0, 1.00001};
  EXPECT_EQ(problem(same_sample, 8000), "params.cut_points_s");
}

TEST(OutputChannels, MonoOrSourceCappedByFormat) {
  config::ConvertParams params;
  EXPECT_EQ(output_channels(params, 2), 2);
  EXPECT_EQ(output_channels(params, 6), 6);
  params.format = AudioFormat::mp3;
  EXPECT_EQ(output_channels(params, 6), 2);
  EXPECT_EQ(output_channels(params, 1), 1);
  params.mono = true;
  EXPECT_EQ(output_channels(params, 6), 1);
}

}  // namespace
}  // namespace ferry::agent::convert
