#pragma once
// Job specifications as the agent receives them, shared by both sides: the
// controller builds them from the manifest, the agent validates and runs them.
//
// Wire shape (JSON), unknown fields rejected at every level:
//   {"kind": "convert",
//    "inputs": [{"upload": "<sha256>", "name": "talk.mp4"}, {"url": "https://..."}],
//    "params": {"format": "mp3", "mono": true, "sample_rate": 44100,
//               "bitrate_kbps": 192, "segment_s": 300, "cut_points_s": [300, 600]}}

#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.hpp"

namespace ferry::config {

/// Output encodings every engine can write.
enum class AudioFormat { wav, wav_f32, flac, mp3 };
std::string_view to_string(AudioFormat format);
/// "wav", "wav-f32", "flac", "mp3"; anything else is invalid_argument.
Result<AudioFormat> audio_format_from_string(std::string_view text);
/// File extension without the dot ("wav" for both WAV variants).
std::string_view file_extension(AudioFormat format);

/// One input of a job: a file uploaded to the agent (by its sha256) or a URL
/// the agent fetches itself. `name` is the original file name, used to name
/// outputs; for URLs it defaults to the last path segment.
struct InputRef {
  std::string upload_sha256;  ///< set for uploads
  std::string url;            ///< set for URLs
  std::string name;
  bool operator==(const InputRef&) const = default;
};

/// `convert`: decode anything, optionally resample / downmix / cut, encode.
struct ConvertParams {
  AudioFormat format = AudioFormat::wav;
  bool mono = false;
  std::optional<int> sample_rate;       ///< Hz; source rate when unset
  std::optional<int> bitrate_kbps;      ///< MP3 only; encoder default when unset
  std::optional<double> segment_s;      ///< cut every N seconds
  std::vector<double> cut_points_s;     ///< cut at these times (ascending)
  bool operator==(const ConvertParams&) const = default;
};

/// The parameters of each job kind; the kind name is derived from the
/// alternative held. Later kinds (separate, loop, generate) are added here.
using JobParams = std::variant<ConvertParams>;

struct JobSpec {
  std::vector<InputRef> inputs;
  JobParams params;
  bool operator==(const JobSpec&) const = default;
};

/// "convert", ...
std::string_view job_kind(const JobParams& params);

/// Validates and converts the agent's JSON; errors are invalid_argument (an
/// unbuilt job kind: unsupported), their message starts with the offending
/// field's path ("params.format: ...") and `field` holds that path.
Result<JobSpec> job_spec_from_json(const nlohmann::json& json);
/// The wire form of a valid spec: job_spec_from_json(job_spec_to_json(s)) == s.
nlohmann::json job_spec_to_json(const JobSpec& spec);

/// Limits of the wire format.
inline constexpr std::size_t kMaxJobInputs = 1000;
inline constexpr std::size_t kMaxInputNameBytes = 255;

}  // namespace ferry::config
