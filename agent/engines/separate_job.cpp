// The separate engine. Each input is decoded once to interleaved float32 in
// the scratch folder while the statistics the pipeline normalises by are
// accumulated; the pipeline then reads windows of that file and hands back
// finished blocks. Float WAV stems go straight to their encoders; 16-bit
// stems are staged as float first, so that a stem beyond full scale can be
// scaled down as a whole as demucs does by default, instead of clipped.

#include "agent/engines/separate_job.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <set>

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include "agent/audio/decoder.hpp"
#include "agent/audio/encoder.hpp"
#include "agent/engines/convert_plan.hpp"
#include "agent/engines/published_outputs.hpp"
#include "agent/engines/torch_device.hpp"
#include "agent/models/allocator.hpp"
#include "agent/models/bag_loader.hpp"
#include "agent/models/registry.hpp"
#include "agent/models/separation.hpp"
#include "common/files.hpp"

namespace ferry::agent {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kDecodeBlockFrames = 65536;

Error about_input(Error error, std::size_t index) {
  error.field = "inputs[" + std::to_string(index) + "]";
  return error;
}

Error cancelled_error() { return Error{ErrorCode::cancelled, "the separation was cancelled", {}}; }

Result<models::LoadedModel> load_model(const SeparateOptions& options, const models::LoadOptions& load) {
  if (options.checkpoint) return models::load_checkpoint_model(*options.checkpoint, load);
  if (options.bag) return models::load_bag_model(*options.bag, load);
  auto entry = models::find_model(options.model);
  if (!entry) return fail(entry.error());
  return models::load_registry_model(**entry, options.models_dir, load);
}

// The input as decoded to the model's rate and channels, on disk.
struct DecodedMix {
  fs::path raw;
  std::int64_t frames = 0;
  int channels = 2;
  models::MixStatistics statistics;
};

Result<DecodedMix> decode_to_scratch(const LocalInput& input, std::size_t index, int sample_rate, int channels,
                                     const fs::path& raw, const EngineContext& context) {
  audio::DecodeOptions options;
  options.sample_rate = sample_rate;
  options.channels = channels;
  options.display_name = input.name;
  auto decoder = audio::AudioDecoder::open(input.path, options);
  if (!decoder) return fail(about_input(decoder.error(), index));
  std::ofstream out(raw, std::ios::binary | std::ios::trunc);
  if (!out) return fail(ErrorCode::io_error, "cannot write the scratch file '" + raw.string() + "'");
  std::vector<float> block(kDecodeBlockFrames * static_cast<std::size_t>(channels));
  // Statistics of the mono downmix, as the pipeline defines them (unbiased std).
  double sum = 0, sum_squares = 0;
  DecodedMix mix{raw, 0, channels, {}};
  while (true) {
    if (context.cancelled()) return fail(cancelled_error());
    auto got = decoder->read(block.data(), kDecodeBlockFrames);
    if (!got) return fail(about_input(got.error(), index));
    if (*got == 0) break;
    for (std::size_t frame = 0; frame < *got; ++frame) {
      double mono = 0;
      for (int c = 0; c < channels; ++c) mono += block[frame * channels + c];
      mono /= channels;
      sum += mono;
      sum_squares += mono * mono;
    }
    out.write(reinterpret_cast<const char*>(block.data()),
              static_cast<std::streamsize>(*got * static_cast<std::size_t>(channels) * sizeof(float)));
    if (!out) return fail(ErrorCode::io_error, "cannot write the scratch file '" + raw.string() + "' (disk full?)");
    mix.frames += static_cast<std::int64_t>(*got);
  }
  if (mix.frames == 0) {
    return fail(ErrorCode::invalid_argument, "'" + input.name + "' contains no audio samples",
                "inputs[" + std::to_string(index) + "]");
  }
  const double n = static_cast<double>(mix.frames);
  mix.statistics.mean = sum / n;
  const double variance = mix.frames > 1 ? (sum_squares - n * mix.statistics.mean * mix.statistics.mean) / (n - 1) : 0;
  mix.statistics.std = variance > 0 ? std::sqrt(variance) : 1.0;
  return mix;
}

// Removes a scratch file however the input's separation ends.
class ScratchFile {
 public:
  explicit ScratchFile(fs::path path) : path_(std::move(path)) {}
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ~ScratchFile() {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Windows of the scratch file as (channels, n) tensors.
class ScratchReader {
 public:
  explicit ScratchReader(const DecodedMix& mix) : mix_(mix), in_(mix.raw, std::ios::binary) {}

  Result<at::Tensor> read(std::int64_t begin, std::int64_t end) {
    at::Tensor frames = at::empty({end - begin, mix_.channels}, at::kFloat);
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(begin * mix_.channels * sizeof(float)));
    in_.read(static_cast<char*>(frames.data_ptr()), static_cast<std::streamsize>(frames.numel() * sizeof(float)));
    if (!in_) return fail(ErrorCode::io_error, "cannot read the scratch file '" + mix_.raw.string() + "'");
    return frames.t().contiguous();
  }

 private:
  const DecodedMix& mix_;
  std::ifstream in_;
};

// One output: a source of the model, or the sum of every source but vocals.
struct StemPlan {
  std::string name;
  std::vector<std::int64_t> sources;  ///< summed
};

Result<std::vector<StemPlan>> plan_stems(const std::vector<std::string>& requested,
                                         const std::vector<std::string>& sources) {
  std::vector<StemPlan> plans;
  const auto wanted = requested.empty() ? sources : requested;
  for (const auto& stem : wanted) {
    StemPlan plan{stem, {}};
    if (stem == kInstrumentalStem) {
      bool has_vocals = false;
      for (std::size_t s = 0; s < sources.size(); ++s) {
        if (sources[s] == "vocals") {
          has_vocals = true;
        } else {
          plan.sources.push_back(static_cast<std::int64_t>(s));
        }
      }
      if (!has_vocals) {
        return fail(ErrorCode::invalid_argument, "'instrumental' needs a model with a vocals source", "stems");
      }
    } else {
      for (std::size_t s = 0; s < sources.size(); ++s) {
        if (sources[s] == stem) plan.sources.push_back(static_cast<std::int64_t>(s));
      }
      if (plan.sources.empty()) {
        std::string known;
        for (const auto& source : sources) known += source + ", ";
        return fail(ErrorCode::invalid_argument,
                    "the model has no stem '" + stem + "'; it has " + known + "and instrumental", "stems");
      }
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

// Whether stems written as `format` are scaled down when they exceed full
// scale. Demucs' CLI does this by default (`--clip-mode rescale`): a stem
// whose peak exceeds 1 is divided as a whole by 1.01 x its peak, instead of
// being clipped sample by sample. Float WAV holds any value, so it is left
// as the model made it.
bool rescales_to_full_scale(config::AudioFormat format) { return format != config::AudioFormat::wav_f32; }

// demucs.audio.prevent_clip in `rescale` mode: 1 / max(1.01 * peak, 1).
float rescale_factor(float peak) { return 1.0f / std::max(1.01f * peak, 1.0f); }

// The encoders of one input, fed block by block. Stems that may need
// rescaling are staged as float in the scratch folder, since their peak is
// known only once the whole input is separated; finish() encodes them.
class StemWriters {
 public:
  static Result<StemWriters> open(const std::vector<StemPlan>& plans, const std::string& input_stem,
                                  const SeparateOptions& options, int sample_rate, int channels,
                                  const fs::path& output_dir, const fs::path& scratch_dir) {
    StemWriters writers;
    writers.mono_ = options.mono;
    for (std::size_t i = 0; i < plans.size(); ++i) {
      audio::EncodeOptions encode;
      encode.format = options.format;
      encode.sample_rate = sample_rate;
      encode.channels = options.mono ? 1 : channels;
      encode.bitrate_kbps = options.bitrate_kbps;
      const auto name = input_stem + "_" + plans[i].name + "." + std::string(config::file_extension(options.format));
      auto encoder = audio::AudioEncoder::create(output_dir / name, encode);
      if (!encoder) return fail(encoder.error());
      Stem stem{std::move(*encoder), at::tensor(plans[i].sources, at::kLong), nullptr, {}, 0.0f};
      if (rescales_to_full_scale(options.format)) {
        stem.staging = std::make_unique<ScratchFile>(scratch_dir / (".separate-stem-" + std::to_string(i) + ".f32"));
        stem.staging_out.open(stem.staging->path(), std::ios::binary | std::ios::trunc);
        if (!stem.staging_out) {
          return fail(ErrorCode::io_error, "cannot write the scratch file '" + stem.staging->path().string() + "'");
        }
      }
      writers.stems_.push_back(std::move(stem));
    }
    return writers;
  }

  Status write(const at::Tensor& block) {
    const at::Tensor cpu = block.to(at::kCPU, at::kFloat);
    for (auto& stem : stems_) {
      at::Tensor samples = cpu.index_select(0, stem.sources).sum(0);  // (channels, n)
      if (mono_) samples = samples.mean(0, /*keepdim=*/true);
      const at::Tensor interleaved = samples.t().contiguous();
      const auto frames = static_cast<std::size_t>(samples.size(1));
      if (!stem.staging) {
        if (auto written = stem.encoder.write(interleaved.data_ptr<float>(), frames); !written) return written;
        continue;
      }
      stem.peak = std::max(stem.peak, interleaved.abs().max().item<float>());
      stem.staging_out.write(reinterpret_cast<const char*>(interleaved.data_ptr<float>()),
                             static_cast<std::streamsize>(interleaved.numel() * sizeof(float)));
      if (!stem.staging_out) {
        return fail(ErrorCode::io_error,
                    "cannot write the scratch file '" + stem.staging->path().string() + "' (disk full?)");
      }
    }
    return {};
  }

  Status finish(PublishedOutputs& outputs) {
    for (auto& stem : stems_) {
      if (stem.staging) {
        if (auto encoded = encode_staged(stem); !encoded) return encoded;
      }
      if (auto finished = stem.encoder.finish(); !finished) return finished;
      outputs.add(OutputFile{stem.encoder.path().filename().string(), stem.encoder.path()});
    }
    return {};
  }

 private:
  struct Stem {
    audio::AudioEncoder encoder;
    at::Tensor sources;                    ///< model sources summed into this stem
    std::unique_ptr<ScratchFile> staging;  ///< float samples awaiting the peak; null: written directly
    std::ofstream staging_out;
    float peak = 0;
  };

  static Status encode_staged(Stem& stem) {
    stem.staging_out.close();
    const std::string staged = stem.staging->path().string();
    if (!stem.staging_out) return fail(ErrorCode::io_error, "cannot finish the scratch file '" + staged + "'");
    const float scale = rescale_factor(stem.peak);
    const auto channels = static_cast<std::size_t>(stem.encoder.channels());
    std::ifstream in(staged, std::ios::binary);
    std::vector<float> block(kDecodeBlockFrames * channels);
    while (in) {
      in.read(reinterpret_cast<char*>(block.data()), static_cast<std::streamsize>(block.size() * sizeof(float)));
      const auto frames = static_cast<std::size_t>(in.gcount()) / sizeof(float) / channels;
      if (frames == 0) break;
      if (scale != 1.0f) {
        for (std::size_t k = 0; k < frames * channels; ++k) block[k] *= scale;
      }
      if (auto written = stem.encoder.write(block.data(), frames); !written) return written;
    }
    if (in.bad()) return fail(ErrorCode::io_error, "cannot read the scratch file '" + staged + "'");
    return {};
  }

  std::vector<Stem> stems_;
  bool mono_ = false;
};

}  // namespace

Status validate_separate_options(const SeparateOptions& options) {
  const int named = (options.model.empty() ? 0 : 1) + (options.checkpoint ? 1 : 0) + (options.bag ? 1 : 0);
  if (named != 1) {
    return fail(ErrorCode::invalid_argument, "name the weights with exactly one of model, checkpoint or bag", "model");
  }
  if (!(options.overlap >= 0 && options.overlap < 1)) {
    return fail(ErrorCode::invalid_argument, "overlap must be at least 0 and below 1 (Demucs' default is 0.25)",
                "overlap");
  }
  if (options.shifts < 0 || options.shifts > 20) {
    return fail(ErrorCode::invalid_argument, "shifts must be between 0 and 20 (each costs a full pass)", "shifts");
  }
  if (options.batch && (*options.batch < 1 || *options.batch > 64)) {
    return fail(ErrorCode::invalid_argument, "batch must be between 1 and 64", "batch");
  }
  if (options.device != "auto" && options.device != "cpu" && options.device != "cuda") {
    return fail(ErrorCode::invalid_argument, "device must be auto, cpu or cuda", "device");
  }
  std::set<std::string> seen;
  for (const auto& stem : options.stems) {
    if (!is_safe_name(stem)) return fail(ErrorCode::invalid_argument, "'" + stem + "' is not a stem name", "stems");
    if (!seen.insert(stem).second) return fail(ErrorCode::invalid_argument, "stem '" + stem + "' is listed twice", "stems");
  }
  return {};
}

Result<std::vector<OutputFile>> run_separate(const SeparateOptions& options, const std::vector<LocalInput>& inputs,
                                             EngineContext& context) {
  if (inputs.empty()) return fail(ErrorCode::invalid_argument, "a separate job needs at least one input", "inputs");
  if (auto valid = validate_separate_options(options); !valid) return fail(valid.error());
  auto device = choose_device(options.device);
  if (!device) return fail(device.error());
  models::tune_allocator_for_inference();
  models::LoadOptions load;
  load.device = *device;
  auto model = load_model(options, load);
  if (!model) return fail(model.error());
  auto plans = plan_stems(options.stems, model->sources);
  if (!plans) return fail(plans.error());

  models::SeparationOptions separation;
  separation.overlap = options.overlap;
  separation.shifts = options.shifts;
  separation.seed = options.seed;
  separation.batch_size = options.batch.value_or(device->is_cuda() ? 4 : 1);

  std::vector<std::string> names;
  for (const auto& input : inputs) names.push_back(input.name);
  const auto stems = convert::unique_stems(names);

  PublishedOutputs outputs;
  double chunks_before = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (context.cancelled()) return fail(cancelled_error());
    const ScratchFile raw(context.scratch_dir / (".separate-input-" + std::to_string(i) + ".f32"));
    auto mix = decode_to_scratch(inputs[i], i, model->samplerate, model->audio_channels, raw.path(), context);
    if (!mix) return fail(mix.error());
    auto writers = StemWriters::open(*plans, stems[i], options, model->samplerate, model->audio_channels,
                                     context.output_dir, context.scratch_dir);
    if (!writers) return fail(writers.error());

    ScratchReader reader(*mix);
    models::MixSource source{mix->frames, mix->statistics,
                             [&](std::int64_t begin, std::int64_t end) { return reader.read(begin, end); }};
    // Later inputs are assumed as long as this one until they are decoded.
    const double inputs_left = static_cast<double>(inputs.size() - i);
    double chunks_this = 0;
    separation.on_progress = [&](const models::SeparationProgress& progress) {
      chunks_this = static_cast<double>(progress.done);
      context.report(Progress{"separate", chunks_before + chunks_this,
                              chunks_before + static_cast<double>(progress.total) * inputs_left});
      return !context.cancelled();
    };
    auto separated = models::separate_stream(model->members, source, separation,
                                             [&](const at::Tensor& block) { return writers->write(block); });
    if (!separated) {
      if (separated.error().code == ErrorCode::cancelled) return fail(cancelled_error());
      return fail(about_input(separated.error(), i));
    }
    if (auto finished = writers->finish(outputs); !finished) return fail(finished.error());
    chunks_before += chunks_this;
  }
  context.report(Progress{"separate", chunks_before, chunks_before});
  return outputs.release();
}

}  // namespace ferry::agent
