// The native v3 network and pipeline against torchaudio's HDemucs, run by
// Debian's python3-torchaudio on seeded random weights in the same test:
// reference/torchaudio_hdemucs.py saves the state dict, a mix, one forward
// pass and the whole pipeline; the native side loads that state dict with
// its own reader and must reproduce both (per-source SDR of the difference
// >= 60 dB). Without python3-torch/python3-torchaudio the test fails and
// says what to install: the comparison is the point of the test.

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "agent/models/checkpoint.hpp"
#include "agent/models/demucs_network.hpp"
#include "agent/models/separation.hpp"
#include "agent/models/torchaudio_hdemucs.hpp"
#include "fixtures.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace ferry::models {
namespace {

constexpr double kMinimumSdr = 60.0;

// What the reference script wrote, made once for every test of the suite.
class TorchaudioParity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    folder_ = new test::TempDir("ferry-torchaudio-parity");
    const auto out_log = *folder_ / "reference.out", err_log = *folder_ / "reference.err";
    test::ChildProcess::Options options;
    options.argv = {FERRY_REFERENCE_PYTHON, FERRY_TORCHAUDIO_REFERENCE, "parity", folder_->path().string()};
    options.stdout_path = out_log;
    options.stderr_path = err_log;
    test::ChildProcess python(std::move(options));
    const auto status = python.wait_for_exit(std::chrono::seconds(120));
    if (status != 0) {
      problem_ = "the torchaudio reference (" + std::string(FERRY_REFERENCE_PYTHON) + " " +
                 FERRY_TORCHAUDIO_REFERENCE + ") failed" +
                 (status ? " with status " + std::to_string(*status) : std::string(" to finish in time")) + ":\n" +
                 test::read_text(out_log) + test::read_text(err_log) +
                 "\nThis test needs Debian's python3-torch and python3-torchaudio: run scripts/setup.";
      return;
    }
    meta_ = new nlohmann::json(nlohmann::json::parse(test::read_text(*folder_ / "parity.json")));
  }
  static void TearDownTestSuite() {
    delete meta_;
    meta_ = nullptr;
    delete folder_;
    folder_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(problem_.empty()) << problem_;
    auto state = load_state_dict(*folder_ / "model.pt");
    ASSERT_TRUE(state) << state.error().describe();
    ASSERT_TRUE(is_torchaudio_hdemucs(*state));
    auto checkpoint = from_torchaudio_hdemucs(std::move(*state), sources(), (*meta_)["segment_seconds"].get<int>());
    ASSERT_TRUE(checkpoint) << checkpoint.error().describe();
    auto network = DemucsNetwork::create(*checkpoint);
    ASSERT_TRUE(network) << network.error().describe();
    network_ = std::move(*network);
    mix_ = read("mix.f32", "mix_shape");
  }

  static std::vector<std::string> sources() { return (*meta_)["sources"].get<std::vector<std::string>>(); }
  static at::Tensor read(const std::string& file, const std::string& shape_key) {
    return testing::read_f32(*folder_ / file, (*meta_)[shape_key].get<std::vector<std::int64_t>>());
  }
  static void expect_close(const std::string& what, const at::Tensor& reference, const at::Tensor& out) {
    ASSERT_EQ(out.sizes(), reference.sizes());
    ASSERT_TRUE(at::isfinite(reference).all().item<bool>()) << "the reference output is not finite";
    const auto sdr = testing::sdr_per_source(reference, out);
    const auto names = sources();
    for (std::size_t s = 0; s < sdr.size(); ++s) {
      std::cout << what << " SDR " << names[s] << ": " << sdr[s] << " dB\n";
      EXPECT_GE(sdr[s], kMinimumSdr) << what << ", source " << names[s];
    }
  }

  static inline test::TempDir* folder_ = nullptr;
  static inline nlohmann::json* meta_ = nullptr;
  static inline std::string problem_;
  std::unique_ptr<DemucsNetwork> network_;
  at::Tensor mix_;
};

TEST_F(TorchaudioParity, LoadsTheStateDictAsTheConfigurationTorchaudioBuilt) {
  EXPECT_EQ(network_->sources(), sources());
  EXPECT_EQ(network_->config().channels, 8);
  EXPECT_EQ(network_->config().depth, 5);
  EXPECT_EQ(network_->config().nfft, 1024);
  EXPECT_EQ(network_->segment_samples(), (*meta_)["segment_seconds"].get<std::int64_t>() * 44100);
}

TEST_F(TorchaudioParity, ForwardPassMatchesTorchaudio) {
  const auto length = (*meta_)["forward_length"].get<std::int64_t>();
  auto out = network_->forward(mix_.slice(1, 0, length).unsqueeze(0));
  ASSERT_TRUE(out) << out.error().describe();
  expect_close("torchaudio forward", read("forward.f32", "forward_shape"), (*out)[0]);
}

TEST_F(TorchaudioParity, PipelineWithoutShiftsMatchesApplyModelOnTorchaudio) {
  const at::Tensor reference = read("separated.f32", "separated_shape");
  for (int batch : {1, 3}) {
    SeparationOptions options;
    options.overlap = (*meta_)["overlap"].get<double>();
    options.shifts = 0;
    options.batch_size = batch;
    auto out = separate({BagMember{network_.get(), {}, {}}}, mix_, options);
    ASSERT_TRUE(out) << out.error().describe();
    expect_close("torchaudio pipeline, batch " + std::to_string(batch), reference, *out);
  }
}

}  // namespace
}  // namespace ferry::models
