#include "agent/audio/encoder.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "agent/audio/ffmpeg_support.hpp"
#include "agent/audio/sample_packing.hpp"
#include "common/files.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
}

namespace ferry::audio {

using namespace detail;
using config::AudioFormat;

namespace {

// Frames per packet for codecs that take any size (PCM): large enough that
// per-packet costs vanish, small enough to stay in cache.
constexpr int kPcmFrameSize = 4096;

struct FormatChoice {
  const char* muxer;
  const char* encoder;
  AVSampleFormat sample_format;
  const char* label;  // for messages
};

FormatChoice choice_for(AudioFormat format) {
  switch (format) {
    case AudioFormat::wav: return {"wav", "pcm_s16le", AV_SAMPLE_FMT_S16, "WAV"};
    case AudioFormat::wav_f32: return {"wav", "pcm_f32le", AV_SAMPLE_FMT_FLT, "32-bit float WAV"};
    case AudioFormat::flac: return {"flac", "flac", AV_SAMPLE_FMT_S16, "FLAC"};
    case AudioFormat::mp3: return {"mp3", "libmp3lame", AV_SAMPLE_FMT_FLTP, "MP3"};
  }
  return {"wav", "pcm_s16le", AV_SAMPLE_FMT_S16, "WAV"};
}

struct OutputFormatDeleter {
  void operator()(AVFormatContext* context) const {
    if (context->pb) avio_closep(&context->pb);
    avformat_free_context(context);
  }
};
using OutputFormatHandle = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;

struct DictionaryDeleter {
  void operator()(AVDictionary* dictionary) const { av_dict_free(&dictionary); }
};

}  // namespace

struct AudioEncoder::State {
  std::filesystem::path final_path;
  std::filesystem::path partial_path;
  FormatChoice choice{};
  OutputFormatHandle muxer;
  AVStream* stream = nullptr;
  CodecContextHandle codec;
  FrameHandle staging{av_frame_alloc()};  // one codec frame being filled
  PacketHandle packet{av_packet_alloc()};
  int frame_size = kPcmFrameSize;
  int staged = 0;  // frames in `staging`
  std::int64_t frames_sent = 0;
  std::int64_t frames_written = 0;
  bool finished = false;
  std::optional<Error> failure;  // after a failed write the file is unusable

  ~State() {
    if (finished) return;
    muxer.reset();  // closes the file before it is removed
    std::error_code ignored;
    std::filesystem::remove(partial_path, ignored);
  }

  int channels() const { return codec->ch_layout.nb_channels; }

  Error error(ErrorCode code, const std::string& problem) const {
    return Error{code, "cannot write '" + final_path.filename().string() + "': " + problem, final_path.filename().string()};
  }

  Status remember(Status status) {
    if (!status) failure = status.error();
    return status;
  }

  Status drain_packets() {
    while (true) {
      int rc = avcodec_receive_packet(codec.get(), packet.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return {};
      if (rc < 0) return fail(error(ErrorCode::internal, "the encoder failed (" + av_error_text(rc) + ")"));
      av_packet_rescale_ts(packet.get(), codec->time_base, stream->time_base);
      packet->stream_index = stream->index;
      rc = av_write_frame(muxer.get(), packet.get());
      av_packet_unref(packet.get());
      if (rc < 0) return fail(error(ErrorCode::io_error, av_error_text(rc)));
    }
  }

  // nullptr flushes the encoder.
  Status send(AVFrame* frame) {
    int rc = avcodec_send_frame(codec.get(), frame);
    if (rc < 0) return fail(error(ErrorCode::internal, "the encoder refused a frame (" + av_error_text(rc) + ")"));
    return drain_packets();
  }

  Status send_staged() {
    staging->nb_samples = staged;
    staging->pts = frames_sent;
    frames_sent += staged;
    staged = 0;
    return send(staging.get());
  }

  // Copies frames into the staging frame in the codec's layout.
  void stage(const float* interleaved, std::size_t frames) {
    const std::size_t offset = static_cast<std::size_t>(staged);
    const std::size_t count = frames * static_cast<std::size_t>(channels());
    switch (choice.sample_format) {
      case AV_SAMPLE_FMT_S16:
        pack_s16(interleaved, count, reinterpret_cast<std::int16_t*>(staging->data[0]) + offset * channels());
        break;
      case AV_SAMPLE_FMT_FLT:
        std::memcpy(reinterpret_cast<float*>(staging->data[0]) + offset * channels(), interleaved,
                    count * sizeof(float));
        break;
      default:  // FLTP
        deinterleave(interleaved, frames, channels(), reinterpret_cast<float* const*>(staging->extended_data), offset);
        break;
    }
    staged += static_cast<int>(frames);
  }
};

AudioEncoder::AudioEncoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
AudioEncoder::AudioEncoder(AudioEncoder&&) noexcept = default;
AudioEncoder& AudioEncoder::operator=(AudioEncoder&&) noexcept = default;
AudioEncoder::~AudioEncoder() = default;

const std::filesystem::path& AudioEncoder::path() const { return state_->final_path; }
const std::filesystem::path& AudioEncoder::partial_path() const { return state_->partial_path; }
int AudioEncoder::sample_rate() const { return state_->codec->sample_rate; }
int AudioEncoder::channels() const { return state_->channels(); }
std::int64_t AudioEncoder::frames_written() const { return state_->frames_written; }
bool AudioEncoder::finished() const { return state_->finished; }

std::filesystem::path partial_path_for(const std::filesystem::path& target) {
  std::string name = ".";
  name += target.filename().string();
  name += ".partial";
  return target.parent_path() / name;
}

std::vector<std::pair<std::string, std::string>> muxer_options(AudioFormat format) {
  if (format == AudioFormat::wav || format == AudioFormat::wav_f32) return {{"rf64", "auto"}};
  return {};
}

int nearest_supported_sample_rate(AudioFormat format, int sample_rate) {
  if (format != AudioFormat::mp3) return sample_rate;
  static constexpr int kMp3Rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
  int best = kMp3Rates[0];
  for (int rate : kMp3Rates) {
    if (std::abs(rate - sample_rate) <= std::abs(best - sample_rate)) best = rate;
  }
  return best;
}

int max_channels(AudioFormat format) {
  switch (format) {
    case AudioFormat::mp3: return 2;
    case AudioFormat::flac: return 8;
    default: return 64;
  }
}

Result<AudioEncoder> AudioEncoder::create(const std::filesystem::path& path, const EncodeOptions& options) {
  route_ffmpeg_logs();
  auto state = std::make_unique<State>();
  state->final_path = path;
  state->partial_path = partial_path_for(path);
  state->choice = choice_for(options.format);
  const FormatChoice& choice = state->choice;

  if (options.channels < 1 || options.channels > max_channels(options.format)) {
    return fail(state->error(options.channels < 1 ? ErrorCode::invalid_argument : ErrorCode::unsupported,
                             std::string(choice.label) + " stores 1 to " + std::to_string(max_channels(options.format)) +
                                 " channels, not " + std::to_string(options.channels) + "; downmix first"));
  }
  if (options.sample_rate < 1000 || options.sample_rate > 768000) {
    return fail(state->error(ErrorCode::invalid_argument,
                             "sample rate " + std::to_string(options.sample_rate) + " Hz is out of range"));
  }
  if (nearest_supported_sample_rate(options.format, options.sample_rate) != options.sample_rate) {
    return fail(state->error(ErrorCode::unsupported,
                             std::string(choice.label) + " cannot store " + std::to_string(options.sample_rate) +
                                 " Hz; resample to " +
                                 std::to_string(nearest_supported_sample_rate(options.format, options.sample_rate)) +
                                 " Hz"));
  }
  if (options.format == AudioFormat::mp3 && options.bitrate_kbps &&
      (*options.bitrate_kbps < 8 || *options.bitrate_kbps > 320)) {
    return fail(state->error(ErrorCode::invalid_argument,
                             "MP3 bitrate must be 8 to 320 kbps, not " + std::to_string(*options.bitrate_kbps)));
  }

  const AVCodec* encoder = avcodec_find_encoder_by_name(choice.encoder);
  if (!encoder) {
    return fail(state->error(ErrorCode::unsupported,
                             std::string("this build of FFmpeg has no ") + choice.encoder + " encoder"));
  }
  AVFormatContext* raw_muxer = nullptr;
  int rc = avformat_alloc_output_context2(&raw_muxer, nullptr, choice.muxer, state->partial_path.c_str());
  if (rc < 0 || !raw_muxer) {
    return fail(state->error(ErrorCode::unsupported, std::string("no ") + choice.muxer + " muxer (" + av_error_text(rc) + ")"));
  }
  state->muxer.reset(raw_muxer);
  state->stream = avformat_new_stream(raw_muxer, nullptr);
  state->codec.reset(avcodec_alloc_context3(encoder));
  if (!state->stream || !state->codec || !state->staging || !state->packet) {
    return fail(ErrorCode::resource_exhausted, "out of memory creating '" + path.string() + "'");
  }

  AVCodecContext& codec = *state->codec;
  codec.sample_fmt = choice.sample_format;
  codec.sample_rate = options.sample_rate;
  av_channel_layout_default(&codec.ch_layout, options.channels);
  codec.time_base = AVRational{1, options.sample_rate};
  if (options.format == AudioFormat::mp3 && options.bitrate_kbps) codec.bit_rate = *options.bitrate_kbps * 1000LL;
  if (raw_muxer->oformat->flags & AVFMT_GLOBALHEADER) codec.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  rc = avcodec_open2(&codec, encoder, nullptr);
  if (rc < 0) {
    return fail(state->error(ErrorCode::unsupported,
                             std::string(choice.encoder) + " rejected the settings (" + av_error_text(rc) + ")"));
  }
  rc = avcodec_parameters_from_context(state->stream->codecpar, &codec);
  if (rc < 0) return fail(state->error(ErrorCode::internal, av_error_text(rc)));
  state->stream->time_base = codec.time_base;

  if (!(encoder->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE) && codec.frame_size > 0) {
    state->frame_size = codec.frame_size;
  }
  AVFrame& staging = *state->staging;
  staging.format = codec.sample_fmt;
  staging.sample_rate = codec.sample_rate;
  staging.nb_samples = state->frame_size;
  av_channel_layout_copy(&staging.ch_layout, &codec.ch_layout);
  rc = av_frame_get_buffer(&staging, 0);
  if (rc < 0) return fail(ErrorCode::resource_exhausted, "out of memory creating '" + path.string() + "'");

  rc = avio_open(&raw_muxer->pb, state->partial_path.c_str(), AVIO_FLAG_WRITE);
  if (rc < 0) {
    return fail(state->error(ErrorCode::io_error, "cannot create '" + state->partial_path.string() + "' (" +
                                                      av_error_text(rc) + ")"));
  }
  AVDictionary* raw_options = nullptr;
  for (const auto& [key, value] : muxer_options(options.format)) av_dict_set(&raw_options, key.c_str(), value.c_str(), 0);
  rc = avformat_write_header(raw_muxer, &raw_options);
  std::unique_ptr<AVDictionary, DictionaryDeleter> unused_options(raw_options);
  if (rc < 0) return fail(state->error(ErrorCode::io_error, "cannot write the header (" + av_error_text(rc) + ")"));
  if (av_dict_count(unused_options.get()) > 0) {
    // An option the muxer did not take (e.g. rf64 missing from this FFmpeg)
    // would silently cap WAV files at 4 GiB.
    return fail(state->error(ErrorCode::unsupported, std::string("the ") + choice.muxer + " muxer ignored option '" +
                                                         av_dict_get(unused_options.get(), "", nullptr, AV_DICT_IGNORE_SUFFIX)->key +
                                                         "'"));
  }
  return AudioEncoder(std::move(state));
}

Status AudioEncoder::write(const float* interleaved, std::size_t frames) {
  State& s = *state_;
  if (s.failure) return fail(*s.failure);
  if (s.finished) return fail(s.error(ErrorCode::failed_precondition, "the file is already finished"));
  const std::size_t channels = static_cast<std::size_t>(s.channels());
  while (frames > 0) {
    if (s.staged == 0) {
      // The codec may still hold a reference to the last frame's buffer.
      if (int rc = av_frame_make_writable(s.staging.get()); rc < 0) {
        return s.remember(fail(s.error(ErrorCode::resource_exhausted, av_error_text(rc))));
      }
      s.staging->nb_samples = s.frame_size;
    }
    std::size_t take = std::min(frames, static_cast<std::size_t>(s.frame_size - s.staged));
    s.stage(interleaved, take);
    interleaved += take * channels;
    frames -= take;
    s.frames_written += static_cast<std::int64_t>(take);
    if (s.staged == s.frame_size) {
      if (auto sent = s.send_staged(); !sent) return s.remember(sent);
    }
  }
  return {};
}

Status AudioEncoder::finish() {
  State& s = *state_;
  if (s.failure) return fail(*s.failure);
  if (s.finished) return fail(s.error(ErrorCode::failed_precondition, "the file is already finished"));
  if (s.staged > 0) {
    if (auto sent = s.send_staged(); !sent) return s.remember(sent);
  }
  if (auto flushed = s.send(nullptr); !flushed) return s.remember(flushed);
  if (int rc = av_write_trailer(s.muxer.get()); rc < 0) {
    return s.remember(fail(s.error(ErrorCode::io_error, "cannot complete the file (" + av_error_text(rc) + ")")));
  }
  if (int rc = avio_closep(&s.muxer->pb); rc < 0) {
    return s.remember(fail(s.error(ErrorCode::io_error, "cannot close the file (" + av_error_text(rc) + ")")));
  }
  if (auto published = publish_file(s.partial_path, s.final_path); !published) return s.remember(published);
  s.finished = true;
  return {};
}

}  // namespace ferry::audio
