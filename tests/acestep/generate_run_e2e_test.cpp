// Generation through the whole system on the local provider: `ferry run`
// with a `generate` job and `ferry generate`, the agent finding a song-length
// tiny checkpoint in its models folder.

#include <gtest/gtest.h>

#include "agent/audio/decoder.hpp"
#include "agent/models/registry.hpp"
#include "tests/acestep/song_checkpoint.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;

class GenerateRun : public ::testing::Test {
 protected:
  void SetUp() override {
    acestep::testing::make_song_checkpoint(dir_ / "models" / models::kAceStepFolder);
    fs::create_directories(dir_ / "tmp");
  }

  test::Finished ferry(const std::vector<std::string>& arguments) {
    test::ChildProcess::Options options;
    options.argv = {FERRY_BIN};
    options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
    options.env = test::local_ferry_environment(dir_.path(), FERRY_AGENT_BIN);
    options.env["FERRY_MODELS_DIR"] = (dir_ / "models").string();
    options.working_dir = dir_.path();
    return test::run_to_end(options, dir_.path(), std::chrono::seconds(280));
  }

  test::TempDir dir_{"ferry-generate-e2e"};
};

TEST_F(GenerateRun, RunWithAGenerateJobBringsASongLengthFileHome) {
  test::write_text(dir_ / "songs.yaml",
                   "jobs:\n"
                   "  - generate:\n"
                   "      caption: slow piano ballad with strings\n"
                   "      lyrics: |\n"
                   "        [Verse 1]\n"
                   "        the lights go down\n"
                   "      language: en\n"
                   "      duration: 3m\n"
                   "      seed: 42\n"
                   "      format: mp3\n"
                   "      name: ballad\n");
  auto run = ferry({"run", (dir_ / "songs.yaml").string()});
  ASSERT_EQ(run.status, 0) << run.err;
  auto song = audio::decode_all(dir_ / "results" / "ballad.mp3");
  ASSERT_TRUE(song) << song.error().describe() << "\n" << run.err;
  EXPECT_EQ(song->sample_rate, 48000);
  EXPECT_EQ(song->channels, 2);
  EXPECT_GE(song->frames(), 180u * 48000);
  EXPECT_LE(song->frames(), 180u * 48000 + 1152);
  // Nothing but the song came home.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "results"), fs::directory_iterator()), 1);
}

TEST_F(GenerateRun, GenerateCommandMakesABatchAndRefusesBadValuesBeforeStarting) {
  auto run = ferry({"generate", "--caption", "lo-fi beat", "--duration", "10s", "--seed", "3", "--batch", "2",
                    "--format", "flac", "--instrumental", "-o", "songs"});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(fs::exists(dir_ / "songs" / "lo-fi-beat-1.flac")) << run.err;
  EXPECT_TRUE(fs::exists(dir_ / "songs" / "lo-fi-beat-2.flac")) << run.err;

  auto bad = ferry({"generate", "--caption", "x", "--duration", "20m"});
  EXPECT_EQ(bad.status, 2) << bad.err;
  EXPECT_NE(bad.err.find("jobs[0].generate.duration: expected a length from 10s to 10m, got 20m"), std::string::npos)
      << bad.err;
  EXPECT_EQ(bad.err.find("ferry-generate.yaml"), std::string::npos) << "no location in a file the user never saw";
}

}  // namespace
}  // namespace ferry
