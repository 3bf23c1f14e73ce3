// `ferry-agent generate` as a user runs it: the real binary on a song-length
// tiny checkpoint, and its answers to bad arguments.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/audio/decoder.hpp"
#include "agent/models/registry.hpp"
#include "tests/acestep/song_checkpoint.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace ferry {
namespace {

using namespace std::chrono_literals;

test::Finished run_agent(const std::vector<std::string>& arguments, const test::TempDir& dir) {
  test::ChildProcess::Options options;
  options.argv = {FERRY_AGENT_BIN};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.env["FERRY_MODELS_DIR"] = (dir / "models").string();
  return test::run_to_end(options, dir.path(), 240s);
}

TEST(GenerateCli, WritesTheSongWithItsLyricsAndPrintsTheSeed) {
  test::TempDir dir;
  acestep::testing::make_song_checkpoint(dir / "models" / models::kAceStepFolder);
  test::write_text(dir / "lyrics.txt", "[Verse 1]\nneon on the water\n[Chorus]\nwe drive all night\n");
  auto run = run_agent({"generate", "--caption", "dreamy synthwave", "--lyrics", (dir / "lyrics.txt").string(),
                        "--language", "en", "--duration", "12s", "--seed", "5", "--bpm", "100", "--key", "A minor",
                        "--time-signature", "4", "--device", "cpu", "--output", (dir / "songs" / "night.mp3").string()},
                       dir);
  ASSERT_EQ(run.status, 0) << run.err;
  auto result = nlohmann::json::parse(run.out);
  EXPECT_EQ(result["seed"], 5);
  ASSERT_EQ(result["outputs"].size(), 1u) << run.out;
  EXPECT_EQ(result["outputs"][0], (dir / "songs" / "night.mp3").string());
  auto song = audio::decode_all(dir / "songs" / "night.mp3");
  ASSERT_TRUE(song) << song.error().describe();
  EXPECT_EQ(song->sample_rate, 48000);
  // MP3 frames round the length up by at most one frame of 1152 samples.
  EXPECT_GE(song->frames(), 12u * 48000);
  EXPECT_LE(song->frames(), 12u * 48000 + 1152);
}

TEST(GenerateCli, BadArgumentsAreNamedWithExitStatusTwo) {
  test::TempDir dir;
  auto expect_refused = [&](std::vector<std::string> arguments, const std::string& hint) {
    arguments.insert(arguments.begin(), "generate");
    auto run = run_agent(arguments, dir);
    EXPECT_EQ(run.status, 2) << run.err;
    EXPECT_NE(run.err.find(hint), std::string::npos) << run.err;
  };
  const std::string out = (dir / "song.wav").string();
  expect_refused({"--caption", "x", "--duration", "5s", "--output", out}, "--duration: expected a length from 10s to 10m");
  expect_refused({"--caption", "x", "--duration", "30s", "--language", "xx", "--output", out}, "unknown language 'xx'");
  expect_refused({"--caption", "x", "--duration", "30s", "--key", "H major", "--output", out}, "--key");
  expect_refused({"--caption", " ", "--duration", "30s", "--output", out}, "--caption: is empty");
  expect_refused({"--caption", "x", "--duration", "30s", "--output", (dir / "song.ogg").string()},
                 "must end in .wav, .flac or .mp3");
  EXPECT_FALSE(std::filesystem::exists(dir / "song.wav"));
  // A lyrics file that cannot be read is a failure of the work (exit 1).
  auto missing_lyrics = run_agent(
      {"generate", "--caption", "x", "--duration", "30s", "--lyrics", (dir / "none.txt").string(), "--output", out},
      dir);
  EXPECT_EQ(missing_lyrics.status, 1) << missing_lyrics.err;
  EXPECT_NE(missing_lyrics.err.find("cannot read --lyrics"), std::string::npos) << missing_lyrics.err;
}

TEST(GenerateCli, AMissingModelSaysWhatToFetch) {
  test::TempDir dir;
  auto run = run_agent({"generate", "--caption", "x", "--duration", "10s", "--output", (dir / "song.wav").string()},
                       dir);
  EXPECT_EQ(run.status, 1) << run.err;
  EXPECT_NE(run.err.find("ferry-agent models fetch acestep-v15-turbo"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace ferry
