// The generate engine (agent/engines/generate_job) on a song-length tiny
// checkpoint: real files through the audio writer, seeds, batches, cancel,
// and what a user sees when the model is missing.

#include <gtest/gtest.h>

#include <atomic>

#include "agent/audio/decoder.hpp"
#include "agent/engines/generate_job.hpp"
#include "agent/models/registry.hpp"
#include "tests/acestep/song_checkpoint.hpp"
#include "tests/support/files.hpp"

namespace ferry::agent {
namespace {

namespace fs = std::filesystem;
using ferry::test::TempDir;

class GenerateJob : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    checkpoint_dir_ = new TempDir("ferry-song-checkpoint");
    acestep::testing::make_song_checkpoint(checkpoint_dir_->path() / models::kAceStepFolder);
  }
  static void TearDownTestSuite() {
    delete checkpoint_dir_;
    checkpoint_dir_ = nullptr;
  }

  GenerateOptions options(double seconds) const {
    GenerateOptions options;
    options.params.caption = "warm lo-fi piano with vinyl crackle";
    options.params.duration_s = seconds;
    options.params.seed = 42;
    options.checkpoint_dir = checkpoint_dir_->path() / models::kAceStepFolder;
    options.device = "cpu";
    return options;
  }

  Result<std::vector<OutputFile>> run(const GenerateOptions& options, const fs::path& output_dir) {
    fs::create_directories(output_dir);
    context_.output_dir = output_dir;
    context_.scratch_dir = output_dir;
    context_.cancel = &cancel_;
    return run_generate(options, context_);
  }

  static TempDir* checkpoint_dir_;
  TempDir work_;
  EngineContext context_;
  std::atomic<bool> cancel_{false};
};

TempDir* GenerateJob::checkpoint_dir_ = nullptr;

TEST_F(GenerateJob, WritesASongOfExactlyTheAskedLengthAtMinusOneDbfs) {
  auto options = this->options(30.5);
  options.params.format = config::AudioFormat::flac;
  std::vector<Progress> seen;
  context_.report = [&](const Progress& progress) { seen.push_back(progress); };
  auto outputs = run(options, work_ / "out");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  ASSERT_EQ(outputs->size(), 1u);
  EXPECT_EQ(outputs->front().name, "warm-lo-fi-piano-with-vinyl-crackle.flac");
  auto song = audio::decode_all(outputs->front().path);
  ASSERT_TRUE(song) << song.error().describe();
  EXPECT_EQ(song->sample_rate, 48000);
  EXPECT_EQ(song->channels, 2);
  EXPECT_EQ(song->frames(), 30u * 48000 + 24000);
  float peak = 0;
  for (float sample : song->samples) peak = std::max(peak, std::abs(sample));
  EXPECT_NEAR(peak, 0.891251f, 2e-4f);  // -1 dBFS, as 16-bit FLAC stores it
  EXPECT_EQ(context_.result["seed"], 42);
  EXPECT_EQ(context_.result["dtype"], "float32");
  EXPECT_EQ(context_.result["latent_frames"], 763);  // ceil(30.5 s x 25)
  // Every stage reported, the sampler step by step.
  int steps = 0;
  for (const auto& progress : seen) steps += progress.stage == "sample";
  EXPECT_EQ(steps, 8);
  EXPECT_EQ(seen.back().stage, "write");
}

TEST_F(GenerateJob, TheSameSeedMakesTheSameSongAndAnotherSeedAnother) {
  auto first = run(options(10), work_ / "a");
  ASSERT_TRUE(first) << first.error().describe();
  auto again = run(options(10), work_ / "b");
  ASSERT_TRUE(again) << again.error().describe();
  auto other_options = options(10);
  other_options.params.seed = 43;
  auto other = run(other_options, work_ / "c");
  ASSERT_TRUE(other) << other.error().describe();
  const auto a = ferry::test::read_text(first->front().path);
  EXPECT_EQ(a, ferry::test::read_text(again->front().path));
  EXPECT_NE(a, ferry::test::read_text(other->front().path));
}

TEST_F(GenerateJob, ABatchMakesOneFilePerSeedAndReportsThem) {
  auto options = this->options(10);
  options.params.batch = 3;
  options.params.name = "take";
  options.params.format = config::AudioFormat::wav_f32;
  auto outputs = run(options, work_ / "batch");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  ASSERT_EQ(outputs->size(), 3u);
  EXPECT_EQ((*outputs)[0].name, "take-1.wav");
  EXPECT_EQ((*outputs)[2].name, "take-3.wav");
  EXPECT_EQ(context_.result["seeds"], nlohmann::json::array({42, 43, 44}));
  // Item 2 of the batch is the song seed 43 makes alone.
  auto single_options = this->options(10);
  single_options.params.seed = 43;
  single_options.params.format = config::AudioFormat::wav_f32;
  single_options.params.name = "take-2";
  auto single = run(single_options, work_ / "single");
  ASSERT_TRUE(single) << single.error().describe();
  auto batch_song = audio::decode_all((*outputs)[1].path);
  auto single_song = audio::decode_all(single->front().path);
  ASSERT_TRUE(batch_song && single_song);
  ASSERT_EQ(batch_song->samples.size(), single_song->samples.size());
  double largest = 0;
  for (std::size_t i = 0; i < batch_song->samples.size(); ++i)
    largest = std::max(largest, static_cast<double>(std::abs(batch_song->samples[i] - single_song->samples[i])));
  EXPECT_LT(largest, 1e-4) << "batched and single runs differ only by float rounding";
}

TEST_F(GenerateJob, WithoutASeedOneIsDrawnAndReported) {
  auto options = this->options(10);
  options.params.seed.reset();
  auto outputs = run(options, work_ / "random");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  ASSERT_TRUE(context_.result["seed"].is_number_unsigned());
  EXPECT_LT(context_.result["seed"].get<std::uint64_t>(), std::uint64_t{1} << 53);
}

TEST_F(GenerateJob, TheOlderApisStepsAndGuidanceAreReportedAsIgnored) {
  auto options = this->options(10);
  options.params.infer_steps = 60;
  options.params.guidance_scale = 15;
  auto outputs = run(options, work_ / "older");
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_EQ(context_.result["ignored"], nlohmann::json::array({"infer_step", "guidance_scale"}));
}

TEST_F(GenerateJob, CancelLeavesNoFile) {
  context_.report = [&](const Progress& progress) {
    if (progress.stage == "sample" && progress.done >= 3) cancel_ = true;
  };
  auto outputs = run(options(10), work_ / "cancelled");
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().code, ErrorCode::cancelled);
  EXPECT_TRUE(fs::is_empty(work_ / "cancelled"));
}

TEST_F(GenerateJob, AMissingModelSaysHowToFetchIt) {
  auto options = this->options(10);
  options.checkpoint_dir = work_ / "nowhere";
  auto outputs = run(options, work_ / "none");
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().code, ErrorCode::not_found);
  EXPECT_NE(outputs.error().message.find("ferry-agent models fetch acestep-v15-turbo"), std::string::npos)
      << outputs.error().message;
}

TEST(GenerateOutputNames, OneSongOrANumberedBatch) {
  config::GenerateParams params;
  params.caption = "Dreamy synthwave";
  params.format = config::AudioFormat::wav_f32;
  EXPECT_EQ(generate_output_names(params), (std::vector<std::string>{"dreamy-synthwave.wav"}));
  params.batch = 2;
  params.name = "night";
  EXPECT_EQ(generate_output_names(params), (std::vector<std::string>{"night-1.wav", "night-2.wav"}));
}

}  // namespace
}  // namespace ferry::agent
