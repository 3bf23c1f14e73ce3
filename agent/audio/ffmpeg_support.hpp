#pragma once
// Internal to agent/audio: owning handles for FFmpeg objects and error text,
// so every FFmpeg call site releases what it allocated on every path.

#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
}

namespace ferry::audio::detail {

struct InputFormatDeleter {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct ResamplerDeleter {
  void operator()(SwrContext* context) const { swr_free(&context); }
};

using InputFormatHandle = std::unique_ptr<AVFormatContext, InputFormatDeleter>;
using CodecContextHandle = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FrameHandle = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketHandle = std::unique_ptr<AVPacket, PacketDeleter>;
using ResamplerHandle = std::unique_ptr<SwrContext, ResamplerDeleter>;

/// FFmpeg's text for an AVERROR code ("Invalid data found when processing input").
std::string av_error_text(int code);

/// Sends FFmpeg's own log lines to the process log at debug level instead of
/// stderr, once per process: failures reach callers as Result errors.
void route_ffmpeg_logs();

}  // namespace ferry::audio::detail
