// The separate engine end to end through the audio layer: fixture models on
// fixture mixes (parity with the reference pipeline through float WAV
// files), stems, instrumental, mono, rescaling of 16-bit stems beyond full
// scale, cancel and bad requests.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include <ATen/ATen.h>

#include "agent/audio/decoder.hpp"
#include "agent/audio/encoder.hpp"
#include "agent/engines/separate_job.hpp"
#include "fixtures.hpp"
#include "tests/support/files.hpp"

namespace ferry::agent {
namespace {

using models::testing::demucs_fixture;

// Writes (channels, samples) float audio as a 32-bit float WAV.
void write_wav(const std::filesystem::path& path, const at::Tensor& audio, int sample_rate = 44100) {
  audio::EncodeOptions options;
  options.format = config::AudioFormat::wav_f32;
  options.sample_rate = sample_rate;
  options.channels = static_cast<int>(audio.size(0));
  auto encoder = audio::AudioEncoder::create(path, options);
  ASSERT_TRUE(encoder) << encoder.error().describe();
  const at::Tensor interleaved = audio.t().contiguous();
  ASSERT_TRUE(encoder->write(interleaved.data_ptr<float>(), static_cast<std::size_t>(audio.size(1))));
  ASSERT_TRUE(encoder->finish());
}

// Decodes a file to (channels, samples).
at::Tensor read_audio(const std::filesystem::path& path) {
  auto decoded = audio::decode_all(path);
  EXPECT_TRUE(decoded) << decoded.error().describe();
  if (!decoded) return {};
  const auto frames = static_cast<std::int64_t>(decoded->frames());
  return at::from_blob(decoded->samples.data(), {frames, decoded->channels}, at::kFloat).t().clone();
}

double sdr(const at::Tensor& reference, const at::Tensor& estimate) {
  const auto ref = reference.to(at::kDouble);
  const double noise = (ref - estimate.to(at::kDouble)).pow(2).sum().item<double>();
  return 10 * std::log10(ref.pow(2).sum().item<double>() / std::max(noise, 1e-30));
}

class SeparateJob : public ::testing::Test {
 protected:
  EngineContext context(const std::string& output_folder = "out") {
    std::filesystem::create_directories(dir_ / output_folder);
    std::filesystem::create_directories(dir_ / "scratch");
    EngineContext context;
    context.output_dir = dir_ / output_folder;
    context.scratch_dir = dir_ / "scratch";
    return context;
  }
  std::vector<std::string> output_names() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "out")) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  ferry::test::TempDir dir_;
};

TEST_F(SeparateJob, FloatWavStemsMatchTheReferencePipeline) {
  const auto folder = demucs_fixture("htdemucs_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  const auto fixture = models::testing::read_fixture_json(folder);
  const at::Tensor mix =
      models::testing::read_f32(folder / "mix.f32", fixture["mix"]["shape"].get<std::vector<std::int64_t>>());
  const at::Tensor reference = models::testing::read_f32(
      folder / "separated.f32", fixture["separated"]["shape"].get<std::vector<std::int64_t>>());
  write_wav(dir_ / "song.wav", mix);

  SeparateOptions options;
  options.checkpoint = folder / "model.th";
  options.shifts = 0;  // the reference ran without random shifts
  options.format = config::AudioFormat::wav_f32;
  auto ctx = context();
  double last_done = -1, last_total = 0;
  ctx.report = [&](const Progress& progress) {
    EXPECT_EQ(progress.stage, "separate");
    EXPECT_GE(progress.done, last_done);
    last_done = progress.done;
    last_total = progress.total;
  };
  auto outputs = run_separate(options, {LocalInput{dir_ / "song.wav", "song.wav"}}, ctx);
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_GT(last_done, 0);
  EXPECT_EQ(last_done, last_total);

  const auto sources = fixture["sources"].get<std::vector<std::string>>();
  ASSERT_EQ(outputs->size(), sources.size());
  for (std::size_t s = 0; s < sources.size(); ++s) {
    EXPECT_EQ((*outputs)[s].name, "song_" + sources[s] + ".wav");
    const at::Tensor stem = read_audio((*outputs)[s].path);
    ASSERT_EQ(stem.sizes(), reference[s].sizes()) << sources[s];
    const double value = sdr(reference[s], stem);
    std::cout << "htdemucs_small " << sources[s] << " through float WAV: " << value << " dB\n";
    EXPECT_GE(value, 60.0) << sources[s];
  }
}

TEST_F(SeparateJob, BagFileGivesVocalsAndTheInstrumentalSum) {
  const auto folder = demucs_fixture("bag_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  const auto fixture = models::testing::read_fixture_json(folder);
  const at::Tensor mix =
      models::testing::read_f32(folder / "mix.f32", fixture["mix"]["shape"].get<std::vector<std::int64_t>>());
  const at::Tensor reference = models::testing::read_f32(
      folder / "separated.f32", fixture["separated"]["shape"].get<std::vector<std::int64_t>>());
  write_wav(dir_ / "mix.wav", mix);

  SeparateOptions options;
  options.bag = folder / "bag.yaml";
  options.shifts = 0;
  options.stems = {"vocals", "instrumental"};
  options.format = config::AudioFormat::wav_f32;
  auto ctx = context();
  auto outputs = run_separate(options, {LocalInput{dir_ / "mix.wav", "my mix.wav"}}, ctx);
  ASSERT_TRUE(outputs) << outputs.error().describe();
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_EQ(output_names(), (std::vector<std::string>{"my_mix_instrumental.wav", "my_mix_vocals.wav"}));
  EXPECT_GE(sdr(reference[3], read_audio((*outputs)[0].path)), 60.0);
  EXPECT_GE(sdr(reference[0] + reference[1] + reference[2], read_audio((*outputs)[1].path)), 60.0);
}

TEST_F(SeparateJob, MonoFlacStemsHaveTheInputsLength) {
  const auto folder = demucs_fixture("htdemucs_6s_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  at::manual_seed(5);
  const std::int64_t frames = 44100 * 2 + 17;
  const at::Tensor time = at::arange(frames, at::kFloat) / 44100.0;
  const at::Tensor tone = at::sin(time * 2 * M_PI * 220) * 0.3 + at::randn({frames}) * 0.05;
  write_wav(dir_ / "tone.wav", at::stack({tone, tone * 0.5}));

  SeparateOptions options;
  options.checkpoint = folder / "model.th";
  options.stems = {"guitar", "piano", "instrumental"};
  options.format = config::AudioFormat::flac;
  options.mono = true;
  options.seed = 3;
  auto ctx = context();
  auto outputs = run_separate(options, {LocalInput{dir_ / "tone.wav", "tone.wav"}}, ctx);
  ASSERT_TRUE(outputs) << outputs.error().describe();
  EXPECT_EQ(output_names(), (std::vector<std::string>{"tone_guitar.flac", "tone_instrumental.flac", "tone_piano.flac"}));
  for (const auto& output : *outputs) {
    const at::Tensor stem = read_audio(output.path);
    EXPECT_EQ(stem.size(0), 1) << output.name;
    EXPECT_EQ(stem.size(1), frames) << output.name;
  }
}

// demucs' CLI writes with `--clip-mode rescale` by default: a stem whose
// peak exceeds full scale is divided as a whole by 1.01 x its peak before it
// becomes 16-bit, rather than clipped; float WAV keeps the model's values.
TEST_F(SeparateJob, SixteenBitStemsBeyondFullScaleAreRescaledAsDemucsDoes) {
  const auto folder = demucs_fixture("htdemucs_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  const auto fixture = models::testing::read_fixture_json(folder);
  const at::Tensor mix =
      models::testing::read_f32(folder / "mix.f32", fixture["mix"]["shape"].get<std::vector<std::int64_t>>());
  // A mix eight times full scale: some stems of this small model exceed full scale, some do not.
  write_wav(dir_ / "loud.wav", mix * (8.0 / mix.abs().max().item<double>()));
  const std::vector<LocalInput> inputs{{dir_ / "loud.wav", "loud.wav"}};

  SeparateOptions options;
  options.checkpoint = folder / "model.th";
  options.shifts = 0;
  options.format = config::AudioFormat::wav_f32;
  auto float_ctx = context("float");
  auto floats = run_separate(options, inputs, float_ctx);
  ASSERT_TRUE(floats) << floats.error().describe();
  std::vector<at::Tensor> stems;
  for (const auto& output : *floats) stems.push_back(read_audio(output.path));
  const auto peak = [](const at::Tensor& t) { return t.abs().max().item<float>(); };
  ASSERT_GT(peak(stems[2]), 1.2f) << "the float 'other' should exceed full scale for this test to mean anything";
  ASSERT_LT(peak(stems[1]), 0.95f) << "the float bass should stay below full scale for this test to mean anything";

  const auto expect_rescaled = [&](const at::Tensor& exact, const at::Tensor& written, const std::string& what) {
    const float scale = 1.0f / std::max(1.01f * peak(exact), 1.0f);
    ASSERT_EQ(written.sizes(), exact.sizes()) << what;
    EXPECT_LT(peak(written), 1.0f) << what;
    // 16-bit quantisation is all that separates them (clipping would not be).
    EXPECT_LE((written - exact * scale).abs().max().item<float>(), 2.0f / 32768) << what;
  };
  options.format = config::AudioFormat::wav;
  auto wav_ctx = context("wav");
  auto wavs = run_separate(options, inputs, wav_ctx);
  ASSERT_TRUE(wavs) << wavs.error().describe();
  ASSERT_EQ(wavs->size(), stems.size());
  for (std::size_t s = 0; s < stems.size(); ++s) {
    expect_rescaled(stems[s], read_audio((*wavs)[s].path), (*wavs)[s].name);
  }

  // The rescaling applies to what is written: here the mono downmix of the
  // instrumental sum, in FLAC.
  options.format = config::AudioFormat::flac;
  options.mono = true;
  options.stems = {"instrumental"};
  auto flac_ctx = context("flac");
  auto flacs = run_separate(options, inputs, flac_ctx);
  ASSERT_TRUE(flacs) << flacs.error().describe();
  const at::Tensor instrumental = (stems[0] + stems[1] + stems[2]).mean(0, /*keepdim=*/true);
  ASSERT_GT(peak(instrumental), 1.0f);
  expect_rescaled(instrumental, read_audio(flacs->front().path), "mono instrumental FLAC");
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "scratch")) << "staged stems are removed";
}

TEST_F(SeparateJob, CancelLeavesNoOutputs) {
  const auto folder = demucs_fixture("htdemucs_6s_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  write_wav(dir_ / "noise.wav", at::randn({2, 44100 * 4}) * 0.1);
  SeparateOptions options;
  options.checkpoint = folder / "model.th";
  std::atomic<bool> cancel{false};
  auto ctx = context();
  ctx.cancel = &cancel;
  ctx.report = [&](const Progress&) { cancel = true; };
  auto outputs = run_separate(options, {LocalInput{dir_ / "noise.wav", "noise.wav"}}, ctx);
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().code, ErrorCode::cancelled);
  EXPECT_TRUE(output_names().empty());
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "scratch"));
}

TEST_F(SeparateJob, BadRequestsSayWhatIsWrong) {
  const auto folder = demucs_fixture("htdemucs_small");
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "fixtures not found at " << folder;
  write_wav(dir_ / "a.wav", at::zeros({2, 4410}));
  const std::vector<LocalInput> inputs{{dir_ / "a.wav", "a.wav"}};
  auto expect_error = [&](SeparateOptions options, ErrorCode code, const std::string& words) {
    auto ctx = context();
    auto outputs = run_separate(options, inputs, ctx);
    ASSERT_FALSE(outputs);
    EXPECT_EQ(outputs.error().code, code) << outputs.error().describe();
    EXPECT_NE(outputs.error().message.find(words), std::string::npos) << outputs.error().message;
    EXPECT_TRUE(output_names().empty());
  };
  SeparateOptions options;
  options.checkpoint = folder / "model.th";
  options.stems = {"kazoo"};
  expect_error(options, ErrorCode::invalid_argument, "no stem 'kazoo'");
  options.stems = {};
  options.overlap = 1.5;
  expect_error(options, ErrorCode::invalid_argument, "overlap");
  options = {};
  options.model = "htdemucs_ft";
  options.models_dir = dir_ / "models";
  expect_error(options, ErrorCode::not_found, "models fetch htdemucs_ft");
  options.checkpoint = folder / "model.th";
  expect_error(options, ErrorCode::invalid_argument, "exactly one");
}

}  // namespace
}  // namespace ferry::agent
