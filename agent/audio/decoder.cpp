#include "agent/audio/decoder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>
#include <system_error>

#include "agent/audio/ffmpeg_support.hpp"
#include "agent/audio/wav_header.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
}

namespace ferry::audio {

using namespace detail;

namespace {

// Isolated corrupt packets are skipped, as the ffmpeg tool does; this many in
// a row means the stream is not really decodable.
constexpr int kMaxConsecutiveDecodeErrors = 32;

// A stream that ends this much before its stated duration is truncated.
double truncation_tolerance_s(double stated_s) { return std::max(0.5, 0.01 * stated_s); }

// Layouts with unknown channel order cannot be remixed; read them as the
// default order for their channel count.
AVChannelLayout usable_layout(const AVChannelLayout& layout) {
  AVChannelLayout result{};
  if (layout.order == AV_CHANNEL_ORDER_UNSPEC || av_channel_layout_check(&layout) == 0) {
    av_channel_layout_default(&result, layout.nb_channels);
  } else {
    av_channel_layout_copy(&result, &layout);
  }
  return result;
}

// Downmixes are scaled so no output sample exceeds the loudest input one
// (stereo to mono is (L + R) / 2); FFmpeg leaves float mixes unscaled, which
// clips full-scale music once written as 16-bit. Mono to stereo copies the
// channel to both sides instead of FFmpeg's -3 dB pan.
int set_mixing(SwrContext* resampler, int in_channels, int out_channels) {
  if (in_channels == 1 && out_channels == 2) {
    const double copy_to_both[] = {1.0, 1.0};
    return swr_set_matrix(resampler, copy_to_both, 1);
  }
  return av_opt_set_double(resampler, "rematrix_maxval", 1.0, 0);
}

// Bytes a classic WAV header announces beyond the end of the file; 0 when
// whole or not a WAV with a stated length.
std::uint64_t missing_wav_bytes(const std::filesystem::path& path, std::uint64_t file_size) {
  std::ifstream in(path, std::ios::binary);
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  auto chunk = find_wav_data_chunk(head);
  if (!chunk) return 0;
  std::uint64_t announced_end = chunk->offset + chunk->size;
  // One byte short is a missing pad byte, which some writers omit.
  return announced_end > file_size + 1 ? announced_end - file_size : 0;
}

}  // namespace

struct AudioDecoder::State {
  std::string name;  // for messages
  InputFormatHandle format;
  AVStream* stream = nullptr;
  CodecContextHandle codec;
  PacketHandle packet{av_packet_alloc()};
  FrameHandle frame{av_frame_alloc()};
  SourceInfo info;

  // Output format, fixed at open.
  int out_rate = 0;
  AVChannelLayout out_layout{};

  // The resampler and the input format it was built for.
  ResamplerHandle resampler;
  int resampler_in_rate = 0;
  int resampler_in_format = AV_SAMPLE_FMT_NONE;
  AVChannelLayout resampler_in_layout{};

  // Converted samples not yet handed out: at most one decoded frame's worth.
  std::vector<float> pending;
  std::size_t pending_frames = 0;
  std::size_t pending_offset = 0;

  std::int64_t frames_read = 0;
  std::optional<std::int64_t> frame_limit;
  std::int64_t source_samples = 0;  // decoded, at the source rate
  int consecutive_errors = 0;
  std::string last_decode_error;
  std::string read_error;  // a demuxer failure other than end of file
  bool demuxer_done = false;
  bool finished = false;
  std::optional<Error> failure;  // once a read fails, every later read does too

  ~State() {
    av_channel_layout_uninit(&out_layout);
    av_channel_layout_uninit(&resampler_in_layout);
  }

  int out_channels() const { return out_layout.nb_channels; }

  Error error(ErrorCode code, const std::string& problem) const {
    return Error{code, "'" + name + "' " + problem, name};
  }

  // Next decoded frame into `frame`; false once the decoder is drained.
  Result<bool> decode_next_frame() {
    while (true) {
      int received = avcodec_receive_frame(codec.get(), frame.get());
      if (received == 0) {
        consecutive_errors = 0;
        return true;
      }
      if (received == AVERROR_EOF) return false;
      if (received != AVERROR(EAGAIN)) {
        if (auto counted = count_decode_error(received); !counted) return fail(counted.error());
        continue;
      }
      if (demuxer_done) return false;  // a decoder that wants input after the flush
      if (auto fed = feed_packet(); !fed) return fail(fed.error());
    }
  }

  Status feed_packet() {
    int read = av_read_frame(format.get(), packet.get());
    if (read < 0) {
      // Like the ffmpeg tool, a read error ends the input; unlike it, the
      // error is reported once the decoded part has been delivered.
      if (read != AVERROR_EOF && !avio_feof(format->pb)) read_error = av_error_text(read);
      demuxer_done = true;
      avcodec_send_packet(codec.get(), nullptr);
      return {};
    }
    if (packet->stream_index != stream->index) {
      av_packet_unref(packet.get());
      return {};
    }
    int sent = avcodec_send_packet(codec.get(), packet.get());
    av_packet_unref(packet.get());
    if (sent < 0 && sent != AVERROR(EAGAIN)) return count_decode_error(sent);
    return {};
  }

  Status count_decode_error(int code) {
    last_decode_error = av_error_text(code);
    if (++consecutive_errors >= kMaxConsecutiveDecodeErrors) {
      return fail(error(ErrorCode::data_loss,
                        "is corrupt: its audio cannot be decoded (" + last_decode_error + ")"));
    }
    return {};
  }

  // (Re)builds the resampler when a frame's format differs from the last one;
  // what the old one still holds is flushed first.
  Status configure_resampler(const AVFrame& input) {
    AVChannelLayout layout = usable_layout(input.ch_layout);
    bool same = resampler && resampler_in_rate == input.sample_rate && resampler_in_format == input.format &&
                av_channel_layout_compare(&resampler_in_layout, &layout) == 0;
    if (same) {
      av_channel_layout_uninit(&layout);
      return {};
    }
    if (resampler) flush_resampler_into_pending();
    SwrContext* created = nullptr;
    int rc = swr_alloc_set_opts2(&created, &out_layout, AV_SAMPLE_FMT_FLT, out_rate, &layout,
                                 static_cast<AVSampleFormat>(input.format), input.sample_rate, 0, nullptr);
    ResamplerHandle handle(created);
    if (rc >= 0) rc = set_mixing(handle.get(), layout.nb_channels, out_channels());
    if (rc >= 0) rc = swr_init(handle.get());
    if (rc < 0) {
      av_channel_layout_uninit(&layout);
      return fail(error(ErrorCode::unsupported, "cannot be converted to " + std::to_string(out_rate) + " Hz, " +
                                                    std::to_string(out_channels()) + " channel(s): " + av_error_text(rc)));
    }
    resampler = std::move(handle);
    resampler_in_rate = input.sample_rate;
    resampler_in_format = input.format;
    av_channel_layout_uninit(&resampler_in_layout);
    resampler_in_layout = layout;
    return {};
  }

  // Appends converted samples of `input` (nullptr: flush) to `pending`.
  Status convert_into_pending(const AVFrame* input) {
    int in_samples = input ? input->nb_samples : 0;
    int capacity = swr_get_out_samples(resampler.get(), in_samples);
    if (capacity <= 0) return {};
    // pending is empty when a new frame arrives, except after a mid-stream
    // format change, where the old resampler's tail is kept before it.
    std::size_t channels = static_cast<std::size_t>(out_channels());
    std::size_t kept = pending_frames - pending_offset;
    if (pending_offset > 0 && kept > 0) {
      std::memmove(pending.data(), pending.data() + pending_offset * channels, kept * channels * sizeof(float));
    }
    pending_offset = 0;
    pending_frames = kept;
    pending.resize(std::max(pending.size(), (kept + static_cast<std::size_t>(capacity)) * channels));
    auto* out = reinterpret_cast<std::uint8_t*>(pending.data() + kept * channels);
    int converted = swr_convert(resampler.get(), &out, capacity,
                                input ? const_cast<const std::uint8_t**>(input->extended_data) : nullptr, in_samples);
    if (converted < 0) {
      return fail(error(ErrorCode::internal, "could not be resampled: " + av_error_text(converted)));
    }
    pending_frames += static_cast<std::size_t>(converted);
    return {};
  }

  void flush_resampler_into_pending() { (void)convert_into_pending(nullptr); }

  // Called once the decoder is drained: flushes the resampler and checks
  // that the stream was whole.
  Status finish() {
    finished = true;
    if (resampler) {
      if (auto flushed = convert_into_pending(nullptr); !flushed) return flushed;
    }
    double decoded_s = info.sample_rate > 0 ? static_cast<double>(source_samples) / info.sample_rate : 0.0;
    if (!read_error.empty()) {
      return fail(error(ErrorCode::data_loss, "could not be read past " + format_seconds(decoded_s) +
                                                  " s (" + read_error + "): the file is damaged"));
    }
    if (format->duration_estimation_method == AVFMT_DURATION_FROM_STREAM && info.duration_s &&
        decoded_s < *info.duration_s - truncation_tolerance_s(*info.duration_s)) {
      return fail(error(ErrorCode::data_loss, "is truncated: its audio ends at " + format_seconds(decoded_s) +
                                                  " s but its header says " + format_seconds(*info.duration_s) +
                                                  " s; upload the complete file"));
    }
    return {};
  }

  static std::string format_seconds(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", seconds);
    return text;
  }

  // Decodes until `pending` holds samples or the stream ends.
  Status refill() {
    while (pending_offset >= pending_frames && !finished) {
      auto got = decode_next_frame();
      if (!got) return fail(got.error());
      if (!*got) return finish();
      source_samples += frame->nb_samples;
      Status converted = configure_resampler(*frame);
      if (converted) converted = convert_into_pending(frame.get());
      av_frame_unref(frame.get());
      if (!converted) return converted;
    }
    return {};
  }
};

AudioDecoder::AudioDecoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
AudioDecoder::AudioDecoder(AudioDecoder&&) noexcept = default;
AudioDecoder& AudioDecoder::operator=(AudioDecoder&&) noexcept = default;
AudioDecoder::~AudioDecoder() = default;

const SourceInfo& AudioDecoder::info() const { return state_->info; }
int AudioDecoder::sample_rate() const { return state_->out_rate; }
int AudioDecoder::channels() const { return state_->out_channels(); }
std::int64_t AudioDecoder::frames_read() const { return state_->frames_read; }

Result<AudioDecoder> AudioDecoder::open(const std::filesystem::path& path, const DecodeOptions& options) {
  route_ffmpeg_logs();
  auto state = std::make_unique<State>();
  state->name = options.display_name.empty() ? path.filename().string() : options.display_name;

  if (options.sample_rate && (*options.sample_rate < 1000 || *options.sample_rate > 768000)) {
    return fail(ErrorCode::invalid_argument,
                "sample rate " + std::to_string(*options.sample_rate) + " Hz is out of range (1000 to 768000)",
                "sample_rate");
  }
  if (options.channels && *options.channels != 1 && *options.channels != 2) {
    return fail(ErrorCode::invalid_argument,
                "channels must be 1 or 2, not " + std::to_string(*options.channels), "channels");
  }
  if (options.max_duration_s && !(*options.max_duration_s >= 0)) {
    return fail(ErrorCode::invalid_argument, "max duration must not be negative", "max_duration_s");
  }

  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail(state->error(ErrorCode::not_found, "does not exist or is not a file"));
  }
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  if (file_size == 0) {
    return fail(state->error(ErrorCode::invalid_argument, "is empty: expected an audio or video file"));
  }

  AVFormatContext* raw_format = nullptr;
  int rc = avformat_open_input(&raw_format, path.c_str(), nullptr, nullptr);
  if (rc < 0) {
    return fail(state->error(ErrorCode::invalid_argument,
                             "is not a readable audio or video file (" + av_error_text(rc) + ")"));
  }
  state->format.reset(raw_format);
  rc = avformat_find_stream_info(state->format.get(), nullptr);
  if (rc < 0) {
    return fail(state->error(ErrorCode::data_loss, "is corrupt: its streams cannot be read (" + av_error_text(rc) + ")"));
  }

  const AVCodec* decoder = nullptr;
  int index = av_find_best_stream(state->format.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
  if (index == AVERROR_STREAM_NOT_FOUND) {
    return fail(state->error(ErrorCode::invalid_argument, "has no audio stream"));
  }
  if (index == AVERROR_DECODER_NOT_FOUND || (index >= 0 && !decoder)) {
    const AVCodecDescriptor* descriptor =
        index >= 0 ? avcodec_descriptor_get(state->format->streams[index]->codecpar->codec_id) : nullptr;
    return fail(state->error(ErrorCode::unsupported, std::string("uses an audio codec this build cannot decode") +
                                                         (descriptor ? std::string(" (") + descriptor->name + ")" : "")));
  }
  if (index < 0) {
    return fail(state->error(ErrorCode::invalid_argument, "has no usable audio stream (" + av_error_text(index) + ")"));
  }
  if (std::string_view(state->format->iformat->name) == "wav") {
    if (auto missing = missing_wav_bytes(path, file_size); missing > 0) {
      return fail(state->error(ErrorCode::data_loss, "is truncated: its header announces " +
                                                         std::to_string(missing) +
                                                         " more bytes of audio than the file holds; upload the "
                                                         "complete file"));
    }
  }
  state->stream = state->format->streams[index];
  // The demuxer then skips the packets of every other stream (e.g. video).
  for (unsigned i = 0; i < state->format->nb_streams; ++i) {
    if (static_cast<int>(i) != index) state->format->streams[i]->discard = AVDISCARD_ALL;
  }

  state->codec.reset(avcodec_alloc_context3(decoder));
  if (!state->codec || !state->packet || !state->frame) {
    return fail(ErrorCode::resource_exhausted, "out of memory opening '" + state->name + "'");
  }
  rc = avcodec_parameters_to_context(state->codec.get(), state->stream->codecpar);
  if (rc >= 0) {
    state->codec->pkt_timebase = state->stream->time_base;
    rc = avcodec_open2(state->codec.get(), decoder, nullptr);
  }
  if (rc < 0) {
    return fail(state->error(ErrorCode::unsupported, "has an audio stream that cannot be decoded (" +
                                                         std::string(decoder->name) + ": " + av_error_text(rc) + ")"));
  }

  SourceInfo& info = state->info;
  info.container = state->format->iformat->name;
  info.codec = decoder->name;
  if (state->stream->duration != AV_NOPTS_VALUE && state->stream->duration > 0) {
    info.duration_s = static_cast<double>(state->stream->duration) * av_q2d(state->stream->time_base);
  } else if (state->format->duration != AV_NOPTS_VALUE && state->format->duration > 0) {
    info.duration_s = static_cast<double>(state->format->duration) / AV_TIME_BASE;
  }

  // The first frame states the real format (HE-AAC, for one, decodes at
  // twice the rate its header gives), and a file that cannot produce one
  // is rejected here rather than half-way through a job.
  auto first = state->decode_next_frame();
  if (!first) return fail(first.error());
  AVChannelLayout source_layout{};
  if (*first) {
    info.sample_rate = state->frame->sample_rate;
    source_layout = usable_layout(state->frame->ch_layout);
  } else {
    if (!state->last_decode_error.empty() || !state->read_error.empty()) {
      return fail(state->error(ErrorCode::data_loss, "is corrupt: no audio could be decoded (" +
                                                         (state->last_decode_error.empty() ? state->read_error
                                                                                           : state->last_decode_error) +
                                                         ")"));
    }
    info.sample_rate = state->codec->sample_rate;
    source_layout = usable_layout(state->codec->ch_layout);
  }
  info.channels = source_layout.nb_channels;
  if (info.sample_rate <= 0 || info.channels <= 0) {
    av_channel_layout_uninit(&source_layout);
    av_frame_unref(state->frame.get());
    return fail(state->error(ErrorCode::data_loss, "has an audio stream without a sample rate or channel count"));
  }

  state->out_rate = options.sample_rate.value_or(info.sample_rate);
  if (options.channels && *options.channels != info.channels) {
    av_channel_layout_default(&state->out_layout, *options.channels);
  } else {
    av_channel_layout_copy(&state->out_layout, &source_layout);
  }
  av_channel_layout_uninit(&source_layout);
  if (options.max_duration_s) {
    state->frame_limit = std::llround(*options.max_duration_s * state->out_rate);
  }

  if (*first) {
    state->source_samples += state->frame->nb_samples;
    Status converted = state->configure_resampler(*state->frame);
    if (converted) converted = state->convert_into_pending(state->frame.get());
    av_frame_unref(state->frame.get());
    if (!converted) return fail(converted.error());
  } else if (auto finished = state->finish(); !finished) {
    return fail(finished.error());
  }
  return AudioDecoder(std::move(state));
}

Result<std::size_t> AudioDecoder::read(float* interleaved, std::size_t max_frames) {
  State& s = *state_;
  if (s.failure) return fail(*s.failure);
  if (s.frame_limit) {
    max_frames = std::min<std::size_t>(max_frames, static_cast<std::size_t>(std::max<std::int64_t>(0, *s.frame_limit - s.frames_read)));
  }
  const std::size_t channels = static_cast<std::size_t>(s.out_channels());
  std::size_t produced = 0;
  while (produced < max_frames) {
    if (auto refilled = s.refill(); !refilled) {
      s.failure = refilled.error();
      return fail(refilled.error());
    }
    std::size_t available = s.pending_frames - s.pending_offset;
    if (available == 0) break;  // end of stream
    std::size_t take = std::min(available, max_frames - produced);
    std::memcpy(interleaved + produced * channels, s.pending.data() + s.pending_offset * channels,
                take * channels * sizeof(float));
    s.pending_offset += take;
    produced += take;
  }
  s.frames_read += static_cast<std::int64_t>(produced);
  return produced;
}

Result<DecodedAudio> decode_all(const std::filesystem::path& path, const DecodeOptions& options) {
  auto decoder = AudioDecoder::open(path, options);
  if (!decoder) return fail(decoder.error());
  DecodedAudio audio;
  audio.sample_rate = decoder->sample_rate();
  audio.channels = decoder->channels();
  audio.source = decoder->info();
  const std::size_t block_frames = 65536;
  const std::size_t channels = static_cast<std::size_t>(audio.channels);
  if (audio.source.duration_s) {
    double expected = *audio.source.duration_s * audio.sample_rate;
    if (options.max_duration_s) expected = std::min(expected, *options.max_duration_s * audio.sample_rate);
    // Reserve for the stated length (plus a little), capped so a lying header
    // cannot make us allocate gigabytes up front.
    // The last read asks for a whole block, so room for one more block keeps
    // it from doubling the buffer (and the peak memory) at the very end.
    audio.samples.reserve(std::min<std::size_t>(static_cast<std::size_t>(expected + 4096 + block_frames) * channels,
                                                std::size_t{1} << 28));
  }
  while (true) {
    std::size_t used = audio.samples.size();
    audio.samples.resize(used + block_frames * channels);
    auto got = decoder->read(audio.samples.data() + used, block_frames);
    if (!got) return fail(got.error());
    audio.samples.resize(used + *got * channels);
    if (*got == 0) break;
  }
  // Giving back a little slack would copy the whole track and double the
  // peak memory for a moment; only a buffer that grew without a stated
  // length has enough to be worth it.
  if (audio.samples.capacity() - audio.samples.size() > 2 * block_frames * channels) audio.samples.shrink_to_fit();
  return audio;
}

Result<SourceInfo> probe(const std::filesystem::path& path) {
  auto decoder = AudioDecoder::open(path);
  if (!decoder) return fail(decoder.error());
  return decoder->info();
}

}  // namespace ferry::audio
