// The convert engine: decode each input, resample / downmix as asked, cut
// into segments exact to the sample and encode, block by block, so memory
// does not grow with the length of the input.

#include <algorithm>
#include <optional>

#include "agent/audio/decoder.hpp"
#include "agent/audio/encoder.hpp"
#include "agent/engines/convert_plan.hpp"
#include "agent/engines/engine.hpp"
#include "agent/engines/published_outputs.hpp"

namespace ferry::agent {

namespace {

// Frames per block: about a third of a second at 48 kHz, so cancellation and
// progress are prompt while per-block costs stay negligible.
constexpr std::size_t kBlockFrames = 16384;

Error about_input(Error error, std::size_t index) {
  error.field = "inputs[" + std::to_string(index) + "]";
  return error;
}

Error cancelled_error() { return Error{ErrorCode::cancelled, "the conversion was cancelled", {}}; }

// Converts one input, streaming; the cumulative progress of earlier inputs
// is `done_before_s`.
class InputConversion {
 public:
  InputConversion(const config::ConvertParams& params, const LocalInput& input, std::size_t index, std::string stem,
                  EngineContext& context, PublishedOutputs& outputs)
      : params_(params), input_(input), index_(index), stem_(std::move(stem)), context_(context), outputs_(outputs) {}

  Result<double> run(double done_before_s, double total_s) {
    audio::DecodeOptions probe_options;
    probe_options.display_name = input_.name;
    auto probed = audio::AudioDecoder::open(input_.path, probe_options);
    if (!probed) return fail(about_input(probed.error(), index_));
    const audio::SourceInfo source = probed->info();

    audio::DecodeOptions options = probe_options;
    options.sample_rate =
        params_.sample_rate.value_or(audio::nearest_supported_sample_rate(params_.format, source.sample_rate));
    options.channels = convert::output_channels(params_, source.channels);
    if (*options.sample_rate == source.sample_rate && *options.channels == source.channels) {
      decoder_ = std::move(*probed);  // already what we need: no second open
    } else {
      auto reopened = audio::AudioDecoder::open(input_.path, options);
      if (!reopened) return fail(about_input(reopened.error(), index_));
      decoder_ = std::move(*reopened);
    }

    auto plan = convert::SegmentPlan::from_params(params_, decoder_->sample_rate());
    if (!plan) return fail(plan.error());
    plan_ = std::move(*plan);

    const std::size_t channels = static_cast<std::size_t>(decoder_->channels());
    std::vector<float> block(kBlockFrames * channels);
    while (true) {
      if (context_.cancelled()) return fail(cancelled_error());
      auto got = decoder_->read(block.data(), kBlockFrames);
      if (!got) return fail(about_input(got.error(), index_));
      if (*got == 0) break;
      if (auto written = write_block(block.data(), *got); !written) return fail(written.error());
      double done_s = static_cast<double>(decoder_->frames_read()) / decoder_->sample_rate();
      context_.report(Progress{"convert", done_before_s + done_s, total_s});
    }
    if (position_ == 0) {
      return fail(ErrorCode::invalid_argument, "'" + input_.name + "' contains no audio samples",
                  "inputs[" + std::to_string(index_) + "]");
    }
    if (auto closed = close_segment(); !closed) return fail(closed.error());
    return static_cast<double>(position_) / decoder_->sample_rate();
  }

 private:
  // Writes frames, closing a segment exactly at its end frame and opening the
  // next only when it gets a sample (so no empty segment is ever created).
  Status write_block(const float* interleaved, std::size_t frames) {
    const std::size_t channels = static_cast<std::size_t>(decoder_->channels());
    while (frames > 0) {
      if (!encoder_) {
        if (auto opened = open_segment(); !opened) return opened;
      }
      std::size_t take = frames;
      if (auto end = plan_.segment_end(segment_index_)) {
        take = std::min<std::size_t>(take, static_cast<std::size_t>(*end - position_));
      }
      if (auto written = encoder_->write(interleaved, take); !written) return written;
      interleaved += take * channels;
      frames -= take;
      position_ += static_cast<std::int64_t>(take);
      if (auto end = plan_.segment_end(segment_index_); end && position_ == *end) {
        if (auto closed = close_segment(); !closed) return closed;
      }
    }
    return {};
  }

  Status open_segment() {
    std::optional<std::size_t> number;
    if (plan_.cuts()) number = segment_index_ + 1;
    auto name = convert::output_name(stem_, number, config::file_extension(params_.format));
    audio::EncodeOptions options;
    options.format = params_.format;
    options.sample_rate = decoder_->sample_rate();
    options.channels = decoder_->channels();
    options.bitrate_kbps = params_.bitrate_kbps;
    auto created = audio::AudioEncoder::create(context_.output_dir / name, options);
    if (!created) return fail(created.error());
    encoder_ = std::move(*created);
    return {};
  }

  Status close_segment() {
    if (!encoder_) return {};
    if (auto finished = encoder_->finish(); !finished) return finished;
    outputs_.add(OutputFile{encoder_->path().filename().string(), encoder_->path()});
    encoder_.reset();
    ++segment_index_;
    return {};
  }

  const config::ConvertParams& params_;
  const LocalInput& input_;
  std::size_t index_;
  std::string stem_;
  EngineContext& context_;
  PublishedOutputs& outputs_;
  std::optional<audio::AudioDecoder> decoder_;
  std::optional<audio::AudioEncoder> encoder_;
  convert::SegmentPlan plan_;
  std::size_t segment_index_ = 0;
  std::int64_t position_ = 0;  // output frames written for this input
};

// Seconds of all inputs together when every container states its length,
// else 0 (unknown). Opening every input first also rejects a bad one before
// any work is done.
Result<double> total_duration_s(const std::vector<LocalInput>& inputs) {
  double total = 0;
  bool known = true;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    audio::DecodeOptions options;
    options.display_name = inputs[i].name;
    auto decoder = audio::AudioDecoder::open(inputs[i].path, options);
    if (!decoder) return fail(about_input(decoder.error(), i));
    if (decoder->info().duration_s) {
      total += *decoder->info().duration_s;
    } else {
      known = false;
    }
  }
  return known ? total : 0.0;
}

}  // namespace

Result<std::vector<OutputFile>> run_convert(const config::ConvertParams& params, const std::vector<LocalInput>& inputs,
                                            EngineContext& context) {
  if (inputs.empty()) return fail(ErrorCode::invalid_argument, "a convert job needs at least one input", "inputs");
  if (params.sample_rate) {
    int supported = audio::nearest_supported_sample_rate(params.format, *params.sample_rate);
    if (supported != *params.sample_rate) {
      return fail(ErrorCode::invalid_argument,
                  std::string(config::to_string(params.format)) + " cannot store " +
                      std::to_string(*params.sample_rate) + " Hz; use " + std::to_string(supported) + " Hz",
                  "params.sample_rate");
    }
  }
  // Catch bad cut settings before touching any input.
  if (auto plan = convert::SegmentPlan::from_params(params, params.sample_rate.value_or(48000)); !plan) {
    return fail(plan.error());
  }

  auto total_s = total_duration_s(inputs);
  if (!total_s) return fail(total_s.error());
  context.report(Progress{"convert", 0, *total_s});

  std::vector<std::string> names;
  for (const auto& input : inputs) names.push_back(input.name);
  const auto stems = convert::unique_stems(names);

  PublishedOutputs outputs;
  double done_s = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (context.cancelled()) return fail(cancelled_error());
    InputConversion conversion(params, inputs[i], i, stems[i], context, outputs);
    auto converted_s = conversion.run(done_s, *total_s);
    if (!converted_s) return fail(converted_s.error());
    done_s += *converted_s;
  }
  context.report(Progress{"convert", done_s, *total_s > 0 ? *total_s : done_s});
  return outputs.release();
}

}  // namespace ferry::agent
