// Times ACE-Step 1.5 turbo's stages on the CPU at the full published size,
// with random weights (timing the arithmetic needs no real weights): one DiT
// step for a 10 s and a 30 s song, the condition encoder, the text encoder on
// a 128-token caption, and the VAE decode per second of audio (tiled, as the
// engine decodes). Every figure comes with the thread count it ran on.
//
// No reference implementation runs on this machine, so there is no ratio;
// the CPU figures published for the GGML port acestep.cpp are printed for
// context only (another machine, thread count, precision and song length).
//
// The transformers' weights are views of one shared random buffer (the DiT's
// 2 B parameters would need 9 GB); at these sequence lengths the matrix
// products are bound by arithmetic, not by reading weights, so this changes
// little. --distinct-weights gives every tensor its own memory instead.
//
//   generate_bench [--frames 250,750] [--repeats 1] [--vae-seconds 10]
//                  [--threads N] [--distinct-weights] [--quick]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "agent/models/acestep/oobleck_vae.hpp"
#include "agent/models/acestep/published_configs.hpp"
#include "agent/models/acestep/qwen3_encoder.hpp"
#include "agent/models/acestep/turbo_model.hpp"
#include "agent/models/acestep/turbo_sampler.hpp"
#include "bench/machine.hpp"

namespace {

using namespace ferry::acestep;

constexpr double kLatentFramesPerSecond = 25.0;
constexpr std::int64_t kCaptionTokens = 128;
constexpr std::int64_t kLyricTokens = 256;  // a verse and a chorus

struct Options {
  std::vector<std::int64_t> frames{250, 750};
  int repeats = 1;  // timed runs of each figure
  double vae_seconds = 10;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  bool distinct_weights = false;
};

struct Timing {
  double wall_s = 0;
  double cpu_s = 0;  // processor time of every thread together
};

// The mean over `repeats` runs of `body`. Each stage first runs once on a
// small input, untimed, so that one-time costs (thread pools, first
// allocations) stay out of the figures.
Timing measure(int repeats, const std::function<void()>& body) {
  Timing total;
  for (int i = 0; i < repeats; ++i) {
    const auto wall_start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    body();
    total.cpu_s += static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    total.wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  }
  return Timing{total.wall_s / repeats, total.cpu_s / repeats};
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return in ? one + " " + five + " " + fifteen + " (1, 5, 15 min)" : "unknown";
}

template <class T>
T require(ferry::Result<T> result, const char* what) {
  if (!result) {
    std::fprintf(stderr, "%s: %s\n", what, result.error().describe().c_str());
    std::exit(1);
  }
  return std::move(*result);
}

TensorMaker weights_for(const Options& options, std::uint64_t seed) {
  return options.distinct_weights ? random_weights({}, seed) : pooled_random_weights({}, seed);
}

std::vector<std::int64_t> parse_list(const std::string& text) {
  std::vector<std::int64_t> values;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) values.push_back(std::stoll(item));
  return values;
}

int usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--frames 250,750] [--repeats N] [--vae-seconds S] [--threads N] [--distinct-weights] "
               "[--quick]\n"
               "  --frames           song lengths in latent frames (25 per second) to time a DiT step at\n"
               "  --repeats          timed runs of each figure, averaged (default 1)\n"
               "  --vae-seconds      audio decoded by the VAE (default 10)\n"
               "  --threads          intra-op threads (default: the machine's hardware threads)\n"
               "  --distinct-weights own memory for every weight (about 12 GB) instead of one shared buffer\n"
               "  --quick            only the 10 s song (250 frames) and 2 s of VAE audio\n",
               program);
  return 2;
}

bool parse_options(int argc, char** argv, Options& options) {
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      const bool has_value = i + 1 < argc;
      if (flag == "--quick") {
        options.frames = {250};
        options.vae_seconds = 2;
      } else if (flag == "--distinct-weights") {
        options.distinct_weights = true;
      } else if (flag == "--frames" && has_value) {
        options.frames = parse_list(argv[++i]);
      } else if (flag == "--repeats" && has_value) {
        options.repeats = std::stoi(argv[++i]);
      } else if (flag == "--vae-seconds" && has_value) {
        options.vae_seconds = std::stod(argv[++i]);
      } else if (flag == "--threads" && has_value) {
        options.threads = std::stoi(argv[++i]);
      } else {
        return false;
      }
    }
  } catch (const std::exception&) {
    return false;
  }
  if (options.repeats < 1 || options.threads < 1 || options.vae_seconds <= 0 || options.frames.empty()) return false;
  for (const auto frames : options.frames) {
    if (frames < 1 || frames > 15000) return false;  // the silence latent covers 10 minutes
  }
  return true;
}

void print_context() {
  std::printf(
      "\ncontext, not a ratio: acestep.cpp (GGML) published on a 16-thread Zen 4 CPU in BF16, for an 86.8 s song\n"
      "(2170 latent frames, 1085 DiT tokens): text + condition encoders 98.6 ms, 8 DiT steps 17.3 s (2.16 s a\n"
      "step), VAE decode 27.0 s (0.31 s per second of audio). Other machine, threads, precision and length.\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) return usage(argv[0]);
  at::set_num_threads(options.threads);
  const int threads = at::get_num_threads();

  std::printf("machine: %s\n", ferry::bench::machine_description().c_str());
  std::printf("threads: %d (at::get_num_threads; %s)\n", threads,
              options.threads == static_cast<int>(std::thread::hardware_concurrency()) ? "set to the machine's cores"
                                                                                        : "set by --threads");
  std::printf("load average at start: %s\n", load_average().c_str());
  std::printf("weights: random, float32, %s; each figure is the mean of %d run(s) after a warm-up on a small "
              "input\n\n",
              options.distinct_weights ? "every tensor its own memory" : "views of one shared buffer",
              options.repeats);

  // Text encoder: Qwen3-Embedding-0.6B on a caption.
  auto qwen_json = require(ModelConfig::parse(kPublishedQwen3EmbeddingConfig, "Qwen3-Embedding-0.6B"), "config");
  auto qwen_config = require(parse_qwen3_config(qwen_json), "Qwen3 config");
  WeightTable qwen_weights(weights_for(options, 1));
  auto text_encoder = require(Qwen3Encoder::create(qwen_config, qwen_weights), "text encoder");
  const at::Tensor caption = at::randint(0, qwen_config.vocab_size, {1, kCaptionTokens}, at::kLong);
  (void)require(text_encoder->forward(caption.narrow(1, 0, 8)), "text encoder warm-up");
  at::Tensor text_states;
  const Timing text = measure(options.repeats, [&] {
    text_states = require(text_encoder->forward(caption), "text encoder forward");
  });
  std::printf("text encoder (Qwen3 0.6B, %lld-token caption), %d threads: %.3f s wall, %.3f s CPU\n",
              static_cast<long long>(kCaptionTokens), threads, text.wall_s, text.cpu_s);
  text_encoder.reset();

  // Condition encoder and DiT.
  auto turbo_config = require(parse_dit_config(kPublishedTurboConfig, "acestep-v15-turbo"), "turbo config");
  WeightTable turbo_weights(weights_for(options, 2));
  auto model = require(build_turbo_model(turbo_config, turbo_weights), "turbo model");
  ConditionInputs inputs;
  inputs.text_states = text_states;
  inputs.lyric_embeddings = at::randn({1, kLyricTokens, turbo_config.text_hidden_dim});
  // Without a reference clip upstream passes the silence latent's first 750 frames.
  inputs.timbre_references = at::randn({1, turbo_config.timbre_fix_frame, turbo_config.timbre_hidden_dim});
  ConditionInputs small;
  small.text_states = text_states.narrow(1, 0, 8);
  small.lyric_embeddings = inputs.lyric_embeddings.narrow(1, 0, 8);
  small.timbre_references = inputs.timbre_references.narrow(1, 0, 8);
  (void)require(model.condition_encoder->encode(small), "condition encoder warm-up");
  EncodedConditions conditions;
  const Timing condition = measure(options.repeats, [&] {
    conditions = require(model.condition_encoder->encode(inputs), "condition encoder");
  });
  std::printf("condition encoder (%lld lyric tokens, %lld timbre frames, %lld caption states -> %lld), %d threads: "
              "%.3f s wall, %.3f s CPU\n",
              static_cast<long long>(kLyricTokens), static_cast<long long>(turbo_config.timbre_fix_frame),
              static_cast<long long>(kCaptionTokens), static_cast<long long>(conditions.states.size(1)), threads,
              condition.wall_s, condition.cpu_s);

  const std::int64_t latent = turbo_config.audio_acoustic_hidden_dim;
  NoiseSource noise = require(NoiseSource::create({42}), "noise");
  const auto dit_step = [&](std::int64_t frames, int repeats) {
    const at::Tensor silence = at::randn({1, frames, latent});
    const at::Tensor context = require(text_to_music_context(silence, frames), "context");
    DitConditioning conditioning;
    const Timing prepare = measure(1, [&] {
      conditioning = require(model.dit->prepare(conditions.states, conditions.mask, context), "DiT prepare");
    });
    const at::Tensor x = noise.next(frames, latent, at::kCPU, at::kFloat);
    const Timing step = measure(repeats, [&] { (void)require(model.dit->velocity(x, 1.0, conditioning), "DiT step"); });
    return std::pair{prepare, step};
  };
  (void)dit_step(16, 1);  // warm-up
  for (const std::int64_t frames : options.frames) {
    const auto [prepare, step] = dit_step(frames, options.repeats);
    std::printf("DiT step, %.0f s song (%lld latent frames, %lld tokens), %d threads: %.3f s wall, %.3f s CPU "
                "(prepare once %.3f s; %lld steps ~ %.1f s)\n",
                static_cast<double>(frames) / kLatentFramesPerSecond, static_cast<long long>(frames),
                static_cast<long long>((frames + turbo_config.patch_size - 1) / turbo_config.patch_size), threads,
                step.wall_s, step.cpu_s, prepare.wall_s, static_cast<long long>(kTurboSteps),
                prepare.wall_s + kTurboSteps * step.wall_s);
  }
  model = TurboModel{};

  // VAE decoder, tiled like the engine. Its weights are always distinct and
  // scaled per layer (random_weights) so the audio path stays in range.
  auto vae_json = require(ModelConfig::parse(kPublishedVaeConfig, "vae"), "VAE config");
  auto vae_config = require(parse_oobleck_config(vae_json), "VAE config");
  WeightTable vae_weights(random_weights({}, 3));
  auto vae = require(OobleckDecoder::create(vae_config, vae_weights, at::kFloat), "VAE");
  const auto latent_frames = static_cast<std::int64_t>(options.vae_seconds * kLatentFramesPerSecond + 0.5);
  const at::Tensor latents = at::randn({1, vae_config.decoder_input_channels, latent_frames});
  const TileOptions tiles;
  const auto plan = require(plan_tiles(latent_frames, tiles), "tile plan");
  (void)require(vae->decode_tiled(latents.narrow(2, 0, std::min<std::int64_t>(8, latent_frames)), tiles), "VAE warm-up");
  const Timing decode = measure(options.repeats, [&] {
    (void)require(vae->decode_tiled(latents, tiles), "VAE decode");
  });
  const double audio_seconds = static_cast<double>(latent_frames) / kLatentFramesPerSecond;
  std::printf("VAE decode, %.1f s of 48 kHz stereo (%zu tile(s) of up to %lld frames), %d threads: %.3f s wall, "
              "%.3f s CPU = %.3f s wall (%.3f s CPU) per second of audio\n",
              audio_seconds, plan.size(), static_cast<long long>(tiles.tile_frames), threads, decode.wall_s,
              decode.cpu_s, decode.wall_s / audio_seconds, decode.cpu_s / audio_seconds);

  std::printf("\nload average at end: %s\n", load_average().c_str());
  print_context();
  return 0;
}
