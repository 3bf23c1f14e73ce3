#pragma once
// Job specifications as the agent receives them, shared by both sides: the
// controller builds them from the manifest, the agent validates and runs them.
//
// Wire shape (JSON), unknown fields rejected at every level:
//   {"kind": "convert",
//    "inputs": [{"upload": "<sha256>", "name": "talk.mp4"}, {"url": "https://..."}],
//    "params": {"format": "mp3", "mono": true, "sample_rate": 44100,
//               "bitrate_kbps": 192, "segment_s": 300, "cut_points_s": [300, 600]}}
//   {"kind": "loop", "inputs": [{"upload": "<sha256>", "name": "track.mp3"}],
//    "params": {"duration_s": 7200, "format": "flac", "crossfade_s": 5,
//               "fade_in_s": 0, "fade_out_s": 10, "sample_rate": 44100}}
//   {"kind": "separate", "inputs": [{"upload": "<sha256>", "name": "song.mp3"}],
//    "params": {"model": "htdemucs_ft", "stems": ["vocals", "instrumental"],
//               "format": "mp3", "mono": false, "shifts": 1, "overlap": 0.25}}
//   {"kind": "generate", "inputs": [],
//    "params": {"caption": "warm lo-fi piano", "lyrics": "[Verse 1]\n...", "language": "en",
//               "duration_s": 180, "seed": 42, "bpm": 84, "key": "F minor",
//               "time_signature": 4, "batch": 1, "format": "mp3", "name": "piano"}}
//   The older music API's names are read too: prompt (caption),
//   audio_duration (duration_s), infer_step and guidance_scale (kept, and
//   reported as ignored: turbo always takes 8 steps without guidance).

#include <cstddef>
#include <cstdint>
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

/// `loop`: stretch one track into a seamless loop of an exact length.
struct LoopParams {
  double duration_s = 0;                  ///< length of the output; required
  AudioFormat format = AudioFormat::flac;
  std::optional<double> crossfade_s;      ///< seam crossfade; the analysis chooses when unset
  double fade_in_s = 0;                   ///< fade of the whole output from silence
  std::optional<double> fade_out_s;       ///< fade to silence; a few seconds when unset (see the engine)
  std::optional<int> sample_rate;         ///< Hz; source rate when unset
  std::optional<int> bitrate_kbps;        ///< MP3 only; encoder default when unset
  bool operator==(const LoopParams&) const = default;
};

/// `separate`: split each input into stems with a Demucs model or bag.
/// At most one of model, checkpoint and bag is set; none means the default
/// model. Checkpoint and bag are file names in the agent's models folder.
struct SeparateParams {
  std::string model;                      ///< a registry model, e.g. "htdemucs_ft"; "" for the default
  std::optional<std::string> checkpoint;  ///< one checkpoint file in the models folder
  std::optional<std::string> bag;         ///< a bag YAML in the models folder
  /// Stems to write, in order: source names, or "instrumental" (every source
  /// but vocals, summed). Empty: every source of the model.
  std::vector<std::string> stems;
  AudioFormat format = AudioFormat::wav;
  bool mono = false;
  std::optional<int> bitrate_kbps;  ///< MP3 only
  int shifts = 1;                   ///< random shifts averaged (0: none)
  double overlap = 0.25;
  std::uint64_t seed = 0;           ///< of the random shifts
  std::optional<int> batch;         ///< chunks per forward pass; the engine chooses when unset
  bool operator==(const SeparateParams&) const = default;
};

/// `generate`: text to music with ACE-Step 1.5 turbo. Takes no inputs.
struct GenerateParams {
  std::string caption;                ///< what the music sounds like; required
  std::string lyrics;                 ///< section-tagged lyrics ("[Verse 1]\n..."); "" for none
  bool instrumental = false;          ///< no vocals (the lyric "[Instrumental]"); excludes lyrics
  std::string language = "unknown";   ///< vocal language code ("en", "zh", ...) or "unknown"
  double duration_s = 0;              ///< length of each song; required
  std::optional<std::uint64_t> seed;  ///< noise seed; the agent draws and reports one when unset
  std::optional<int> bpm;
  std::string key;                    ///< "F# minor", "Bb major"; "" unset
  std::optional<int> time_signature;  ///< beats per bar: 2, 3, 4 or 6
  int batch = 1;                      ///< songs to make, from seeds seed, seed+1, ...
  int shift = 3;                      ///< turbo timestep schedule (1, 2 or 3)
  std::string sampler = "ode";        ///< "ode" (Euler) or "sde" (stochastic)
  AudioFormat format = AudioFormat::wav;
  std::optional<int> bitrate_kbps;    ///< MP3 only
  std::string name;                   ///< output file stem; "" derives one from the caption
  std::optional<int> infer_steps;     ///< older API; ignored by turbo
  std::optional<double> guidance_scale;  ///< older API; ignored by turbo
  bool operator==(const GenerateParams&) const = default;
};

/// The model a separate job uses when it names none.
inline constexpr const char* kDefaultSeparationModel = "htdemucs";

/// The parameters of each job kind; the kind name is derived from the
/// alternative held.
using JobParams = std::variant<ConvertParams, LoopParams, SeparateParams, GenerateParams>;

struct JobSpec {
  std::vector<InputRef> inputs;
  JobParams params;
  bool operator==(const JobSpec&) const = default;
};

/// "convert", "loop", ...
std::string_view job_kind(const JobParams& params);
/// True for kinds that make audio from nothing (generate): no inputs.
bool takes_no_inputs(const JobParams& params);
/// The file stem of a generate job's outputs: its `name`, or else the
/// caption's first words in lowercase ASCII joined by '-' ("warm-lo-fi-piano"),
/// or "song" when nothing of the caption is ASCII. Shared so the controller
/// knows the names the agent will give.
std::string generate_output_stem(const GenerateParams& params);

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
