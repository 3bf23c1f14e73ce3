// Separation through the whole system: `ferry run` with a `separate` job and
// `ferry separate FILE...`, on the local provider, with a fixture checkpoint
// in the agent's models folder and a short generated WAV.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;

fs::path fixture_model() {
  return fs::path(FERRY_FIXTURES_DIR) / "demucs" / "htdemucs_small" / "model.th";
}

class SeparateE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fixture_model())) GTEST_SKIP() << "fixtures not found";
    if (std::system("ffmpeg -version >/dev/null 2>&1") != 0) GTEST_SKIP() << "the ffmpeg CLI is needed";
    fs::create_directories(dir_ / "models");
    fs::create_directories(dir_ / "tmp");
    fs::copy_file(fixture_model(), dir_ / "models" / "small.th");
    const std::string command = "ffmpeg -nostdin -loglevel error -y -f lavfi -i 'sine=frequency=330:duration=3' "
                                "-ac 2 -ar 44100 '" + (dir_ / "song.wav").string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }

  struct Outcome {
    int status = -1;
    std::string out, err;
  };
  Outcome ferry(const std::vector<std::string>& arguments) {
    test::ChildProcess::Options options;
    options.argv = {FERRY_BIN};
    options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
    options.env = test::local_ferry_environment(dir_.path(), FERRY_AGENT_BIN);
    options.env["FERRY_MODELS_DIR"] = (dir_ / "models").string();
    options.stdout_path = dir_ / "out.txt";
    options.stderr_path = dir_ / "err.txt";
    options.working_dir = dir_.path();
    test::ChildProcess child(options);
    Outcome outcome;
    outcome.status = child.wait_for_exit(std::chrono::seconds(110)).value_or(-1);
    outcome.out = test::read_text(dir_ / "out.txt");
    outcome.err = test::read_text(dir_ / "err.txt");
    return outcome;
  }

  test::TempDir dir_{"ferry-separate-e2e"};
};

TEST_F(SeparateE2E, RunWithASeparateJobBringsTheStemsHome) {
  test::write_text(dir_ / "stems.yaml",
                   "jobs:\n  - separate: {inputs: [song.wav], checkpoint: small.th, stems: [vocals, instrumental], "
                   "format: flac, shifts: 0}\n");
  auto run = ferry({"run", (dir_ / "stems.yaml").string()});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(fs::exists(dir_ / "results" / "song_vocals.flac")) << run.out;
  EXPECT_TRUE(fs::exists(dir_ / "results" / "song_instrumental.flac")) << run.out;
}

TEST_F(SeparateE2E, SeparateCommandRunsTheSameJobFromTheCommandLine) {
  auto missing = ferry({"separate", "song.wav", "--model", "htdemucs_ft", "-o", "stems"});
  EXPECT_EQ(missing.status, 1) << missing.err;  // the job fails on the agent: no such model there
  EXPECT_NE(missing.err.find("models fetch htdemucs_ft"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace ferry
