#include "agent/engines/generate_job.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/audio/encoder.hpp"
#include "agent/engines/published_outputs.hpp"
#include "agent/engines/torch_device.hpp"
#include "agent/models/acestep/oobleck_vae.hpp"
#include "agent/models/acestep/prompt_builder.hpp"
#include "agent/models/acestep/qwen3_encoder.hpp"
#include "agent/models/acestep/qwen_tokenizer.hpp"
#include "agent/models/acestep/turbo_model.hpp"
#include "agent/models/acestep/turbo_sampler.hpp"
#include "agent/models/allocator.hpp"
#include "agent/models/registry.hpp"

namespace ferry::agent {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDitFolder = "acestep-v15-turbo";
constexpr const char* kTextEncoderFolder = "Qwen3-Embedding-0.6B";
constexpr const char* kVaeFolder = "vae";
// Samples written per encoder call: bounded memory for the interleaved copy.
constexpr std::int64_t kWriteBlockFrames = 1 << 16;

Error cancelled_error() { return Error{ErrorCode::cancelled, "the generation was cancelled", {}}; }

Status check_checkpoint_folder(const fs::path& dir) {
  for (const char* part : {kDitFolder, kTextEncoderFolder, kVaeFolder}) {
    if (fs::is_directory(dir / part)) continue;
    return fail(ErrorCode::not_found,
                fmt::format("the ACE-Step 1.5 turbo model is not in {} (missing {}/); run `ferry-agent models fetch "
                            "{}` (about 6.3 GB) or put the folders of huggingface.co/ACE-Step/Ace-Step1.5 there",
                            dir.string(), part, models::kAceStepTurboModel),
                "model");
  }
  return {};
}

acestep::PromptRequest prompt_request(const config::GenerateParams& params) {
  acestep::PromptRequest request;
  request.caption = params.caption;
  request.lyrics = params.lyrics;
  request.instrumental = params.instrumental;
  request.language = params.language;
  request.duration_s = params.duration_s;
  request.bpm = params.bpm;
  request.key = params.key;
  request.time_signature = params.time_signature;
  return request;
}

at::Tensor token_tensor(const std::vector<std::int32_t>& ids) {
  return at::tensor(std::vector<std::int64_t>(ids.begin(), ids.end()), at::kLong).unsqueeze(0);
}

/// The text encoder's two outputs for one song, then the encoder is freed.
struct TextConditions {
  at::Tensor caption_states;    ///< [1, Lc, hidden]
  at::Tensor lyric_embeddings;  ///< [1, Ll, hidden]
};

Result<TextConditions> encode_texts(const GenerateOptions& options, const models::LoadOptions& load) {
  const fs::path folder = options.checkpoint_dir / kTextEncoderFolder;
  auto tokenizer = acestep::QwenTokenizer::load(folder);
  if (!tokenizer) return fail(tokenizer.error());
  auto texts = acestep::build_prompts(prompt_request(options.params));
  if (!texts) return fail(texts.error());
  auto tokens = acestep::tokenize_prompts(*tokenizer, *texts);
  if (!tokens) return fail(tokens.error());
  auto encoder = acestep::Qwen3Encoder::load(folder, load);
  if (!encoder) return fail(encoder.error());
  auto caption = (*encoder)->forward(token_tensor(tokens->caption));
  if (!caption) return fail(caption.error());
  auto lyrics = (*encoder)->embed(token_tensor(tokens->lyrics));
  if (!lyrics) return fail(lyrics.error());
  return TextConditions{*caption, *lyrics};
}

/// Eight DiT steps from seeded noise; returns the latents [B, T, C].
Result<at::Tensor> sample_latents(const GenerateOptions& options, const models::LoadOptions& load,
                                  const TextConditions& text, std::int64_t frames,
                                  const std::vector<std::uint64_t>& seeds, EngineContext& context) {
  auto model = acestep::load_turbo_model(options.checkpoint_dir / kDitFolder, load);
  if (!model) return fail(model.error());
  auto timbre = acestep::silence_timbre_reference(model->silence_latent, model->config.timbre_fix_frame);
  if (!timbre) return fail(timbre.error());
  acestep::ConditionInputs inputs;
  inputs.text_states = text.caption_states;
  inputs.lyric_embeddings = text.lyric_embeddings;
  inputs.timbre_references = *timbre;
  auto conditions = model->condition_encoder->encode(inputs);
  if (!conditions) return fail(conditions.error());
  auto latent_context = acestep::text_to_music_context(model->silence_latent, frames);
  if (!latent_context) return fail(latent_context.error());
  auto prepared = model->dit->prepare(conditions->states, conditions->mask, *latent_context);
  if (!prepared) return fail(prepared.error());

  auto noise = acestep::NoiseSource::create(seeds);
  if (!noise) return fail(noise.error());
  const at::Tensor start = noise->next(frames, model->config.audio_acoustic_hidden_dim, load.device, load.dtype);
  auto schedule = acestep::turbo_schedule(options.params.shift);
  if (!schedule) return fail(schedule.error());
  acestep::SamplerOptions sampler;
  sampler.timesteps = *schedule;
  sampler.method = options.params.sampler == "sde" ? acestep::SamplerMethod::sde : acestep::SamplerMethod::ode;
  sampler.renoise = &*noise;
  sampler.on_step = [&](const acestep::SamplerProgress& step) {
    context.report(Progress{"sample", static_cast<double>(step.step), static_cast<double>(step.total)});
    return !context.cancelled();
  };
  const auto& dit = *model->dit;
  const auto& conditioning = *prepared;
  return acestep::sample_turbo(
      start, [&](const at::Tensor& x, double t) { return dit.velocity(x, t, conditioning); }, sampler);
}

/// Decodes latents [B, T, C] to audio [B, 2, samples] at -1 dBFS peak.
Result<at::Tensor> decode_latents(const GenerateOptions& options, const models::LoadOptions& load,
                                  const at::Tensor& latents, EngineContext& context) {
  auto vae = acestep::OobleckDecoder::load(options.checkpoint_dir / kVaeFolder, load);
  if (!vae) return fail(vae.error());
  acestep::TileOptions tiles;
  tiles.tile_frames = options.decode_tile_frames;
  tiles.overlap_frames = options.decode_overlap_frames;
  auto audio = (*vae)->decode_tiled(latents.transpose(1, 2).contiguous(), tiles,
                                    [&](std::int64_t done, std::int64_t total) {
                                      context.report(Progress{"decode", static_cast<double>(done),
                                                              static_cast<double>(total)});
                                      return !context.cancelled();
                                    });
  if (!audio) return fail(audio.error());
  return acestep::normalize_peak(*audio);
}

Status write_song(const at::Tensor& song, const fs::path& path, const config::GenerateParams& params, int sample_rate,
                  PublishedOutputs& outputs) {
  audio::EncodeOptions encode;
  encode.format = params.format;
  encode.sample_rate = sample_rate;
  encode.channels = static_cast<int>(song.size(0));
  encode.bitrate_kbps = params.bitrate_kbps;
  auto encoder = audio::AudioEncoder::create(path, encode);
  if (!encoder) return fail(encoder.error());
  const std::int64_t samples = song.size(1);
  for (std::int64_t begin = 0; begin < samples; begin += kWriteBlockFrames) {
    const std::int64_t end = std::min(samples, begin + kWriteBlockFrames);
    const at::Tensor interleaved = song.slice(1, begin, end).transpose(0, 1).contiguous();
    if (auto written = encoder->write(interleaved.data_ptr<float>(), static_cast<std::size_t>(end - begin)); !written)
      return written;
  }
  if (auto finished = encoder->finish(); !finished) return finished;
  outputs.add(OutputFile{path.filename().string(), path});
  return {};
}

nlohmann::json ignored_fields(const config::GenerateParams& params) {
  nlohmann::json ignored = nlohmann::json::array();
  if (params.infer_steps) ignored.push_back("infer_step");
  if (params.guidance_scale) ignored.push_back("guidance_scale");
  return ignored;
}

}  // namespace

std::vector<std::string> generate_output_names(const config::GenerateParams& params) {
  const std::string stem = config::generate_output_stem(params);
  const std::string extension(config::file_extension(params.format));
  if (params.batch <= 1) return {stem + "." + extension};
  std::vector<std::string> names;
  for (int i = 1; i <= params.batch; ++i) names.push_back(fmt::format("{}-{}.{}", stem, i, extension));
  return names;
}

std::uint64_t choose_seed(const config::GenerateParams& params) {
  if (params.seed) return *params.seed;
  std::random_device entropy;
  // Below 2^53: the seed survives a trip through any JSON reader.
  return ((static_cast<std::uint64_t>(entropy()) << 32) | entropy()) & ((std::uint64_t{1} << 53) - 1);
}

Result<std::vector<OutputFile>> run_generate(const GenerateOptions& options, EngineContext& context) {
  const auto& params = options.params;
  if (auto present = check_checkpoint_folder(options.checkpoint_dir); !present) return fail(present.error());
  auto device = choose_device(options.device);
  if (!device) return fail(device.error());
  models::LoadOptions load;
  load.device = *device;
  load.dtype = transformer_dtype(*device);

  models::tune_allocator_for_inference();
  const std::uint64_t seed = choose_seed(params);
  std::vector<std::uint64_t> seeds;
  for (int i = 0; i < params.batch; ++i) seeds.push_back(seed + static_cast<std::uint64_t>(i));
  context.result = {{"seed", seed},
                    {"seeds", seeds},
                    {"device", device->str()},
                    {"dtype", dtype_name(load.dtype)},
                    {"model", models::kAceStepTurboModel}};
  if (auto ignored = ignored_fields(params); !ignored.empty()) {
    context.result["ignored"] = ignored;
    spdlog::info("generate: {} ignored: ACE-Step turbo always takes 8 steps without guidance", ignored.dump());
  }

  at::InferenceMode inference;
  context.report(Progress{"encode", 0, 1});
  auto text = encode_texts(options, load);
  if (!text) return fail(text.error());
  if (context.cancelled()) return fail(cancelled_error());
  context.report(Progress{"encode", 1, 1});

  auto vae_config = acestep::ModelConfig::load(options.checkpoint_dir / kVaeFolder / "config.json");
  if (!vae_config) return fail(vae_config.error());
  auto geometry = acestep::parse_oobleck_config(*vae_config);
  if (!geometry) return fail(geometry.error());
  const std::int64_t hop = geometry->hop_length();
  const std::int64_t rate = geometry->sampling_rate;
  // Whole latent frames cover the length; the audio is cut to it exactly.
  const auto samples = static_cast<std::int64_t>(std::llround(params.duration_s * static_cast<double>(rate)));
  const std::int64_t frames = (samples + hop - 1) / hop;
  context.result["latent_frames"] = frames;

  auto latents = sample_latents(options, load, *text, frames, seeds, context);
  if (!latents) return fail(latents.error());
  auto audio = decode_latents(options, load, *latents, context);
  if (!audio) return fail(audio.error());

  const auto names = generate_output_names(params);
  PublishedOutputs outputs;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (context.cancelled()) return fail(cancelled_error());
    const at::Tensor song = (*audio)[static_cast<std::int64_t>(i)].slice(1, 0, samples).contiguous();
    if (auto written = write_song(song, context.output_dir / names[i], params, static_cast<int>(rate), outputs);
        !written)
      return fail(written.error());
    context.report(Progress{"write", static_cast<double>(i + 1), static_cast<double>(names.size())});
  }
  return outputs.release();
}

Result<std::vector<OutputFile>> run_generate_job(const config::GenerateParams& params, EngineContext& context) {
  GenerateOptions options;
  options.params = params;
  options.checkpoint_dir = context.models_dir / models::kAceStepFolder;
  return run_generate(options, context);
}

}  // namespace ferry::agent
