// `ferry-agent separate` and `ferry-agent models list|fetch` as a user runs
// them: the real binary, fixture checkpoints, a short generated WAV.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/audio/decoder.hpp"
#include "agent/audio/encoder.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace ferry {
namespace {

using namespace std::chrono_literals;

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(FERRY_FIXTURES_DIR) / "demucs" / name;
}

void write_noise_wav(const std::filesystem::path& path, std::size_t frames) {
  audio::EncodeOptions options;
  options.format = config::AudioFormat::wav;
  auto encoder = audio::AudioEncoder::create(path, options);
  ASSERT_TRUE(encoder) << encoder.error().describe();
  std::vector<float> samples(frames * 2);
  std::uint32_t state = 7;
  for (auto& sample : samples) {
    state = state * 1664525u + 1013904223u;
    sample = static_cast<float>(static_cast<int>(state >> 16) - 32768) / 327680.0f;
  }
  ASSERT_TRUE(encoder->write(samples.data(), frames));
  ASSERT_TRUE(encoder->finish());
}

struct Run {
  int status = -1;
  std::string out, err;
};

Run run_agent(const std::vector<std::string>& arguments, const test::TempDir& dir) {
  test::ChildProcess::Options options;
  options.argv = {FERRY_AGENT_BIN};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.stdout_path = dir / "stdout.txt";
  options.stderr_path = dir / "stderr.txt";
  options.env["FERRY_MODELS_DIR"] = (dir / "models").string();
  test::ChildProcess process(options);
  Run run;
  run.status = process.wait_for_exit(120s).value_or(-1);
  run.out = test::read_text(dir / "stdout.txt");
  run.err = test::read_text(dir / "stderr.txt");
  return run;
}

TEST(SeparateCli, WritesTheRequestedStemsWithTheInputsLength) {
  if (!std::filesystem::exists(fixture("htdemucs_small"))) GTEST_SKIP() << "fixtures not found";
  test::TempDir dir;
  write_noise_wav(dir / "take 1.wav", 44100 * 3);
  auto run = run_agent({"separate", "--input", (dir / "take 1.wav").string(), "--output", (dir / "stems").string(),
                        "--checkpoint", (fixture("htdemucs_small") / "model.th").string(), "--stems",
                        "vocals,instrumental", "--format", "flac", "--device", "cpu"},
                       dir);
  ASSERT_EQ(run.status, 0) << run.err;
  auto result = nlohmann::json::parse(run.out);
  ASSERT_EQ(result["outputs"].size(), 2u) << run.out;
  for (const char* name : {"take_1_vocals.flac", "take_1_instrumental.flac"}) {
    auto decoded = audio::decode_all(dir / "stems" / name);
    ASSERT_TRUE(decoded) << name << ": " << decoded.error().describe();
    EXPECT_EQ(decoded->frames(), 44100u * 3) << name;
    EXPECT_EQ(decoded->channels, 2);
  }
  // Nothing but the stems is left in the output folder.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir / "stems")) ++files;
  EXPECT_EQ(files, 2u);
}

TEST(SeparateCli, BadArgumentsExitWithTwoAndSayWhy) {
  test::TempDir dir;
  write_noise_wav(dir / "a.wav", 4410);
  auto both = run_agent({"separate", "--input", (dir / "a.wav").string(), "--output", (dir / "out").string(),
                         "--model", "htdemucs", "--checkpoint", "x.th"},
                        dir);
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.err.find("exactly one of model, checkpoint or bag"), std::string::npos) << both.err;

  auto missing = run_agent({"separate", "--input", (dir / "a.wav").string(), "--output", (dir / "out").string(),
                            "--model", "htdemucs_ft"},
                           dir);
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("ferry-agent models fetch htdemucs_ft"), std::string::npos) << missing.err;
}

TEST(ModelsCli, ListShowsTheRegistryAndWhatIsPresent) {
  test::TempDir dir;
  auto run = run_agent({"models", "list"}, dir);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find((dir / "models").string()), std::string::npos) << run.out;
  for (const char* name : {"htdemucs_ft  missing", "htdemucs_6s  missing", "hdemucs_mmi  missing"}) {
    EXPECT_NE(run.out.find(name), std::string::npos) << run.out;
  }
  auto unknown = run_agent({"models", "fetch", "nope"}, dir);
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("known models"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace ferry
