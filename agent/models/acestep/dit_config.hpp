#pragma once
// The shape of ACE-Step 1.5's generation model (condition encoder + DiT), read
// from the `config.json` of the `acestep-v15-turbo/` checkpoint folder. Only
// what the DiT-only path needs is kept; the 5 Hz tokenizer/detokenizer
// settings (FSQ levels, pooling window) are ignored.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "agent/models/acestep/acestep_weights.hpp"
#include "common/error.hpp"

namespace ferry::acestep {

/// What a transformer layer's self-attention may see: a band of
/// |i - j| <= sliding_window around each position, or every position.
enum class AttentionSpan { sliding, full };

/// Every value that shapes the condition encoder and the DiT.
struct DitConfig {
  std::int64_t hidden_size = 2048;
  std::int64_t intermediate_size = 6144;  ///< SwiGLU width of every layer
  std::int64_t num_hidden_layers = 24;    ///< DiT layers
  std::int64_t num_attention_heads = 16;
  std::int64_t num_key_value_heads = 8;
  std::int64_t head_dim = 128;
  double rms_norm_eps = 1e-6;
  double rope_theta = 1e6;
  bool attention_bias = false;
  /// Band half-width of sliding layers; 0 when `use_sliding_window` is false
  /// (then every layer attends to everything).
  std::int64_t sliding_window = 128;
  /// One entry per layer index, shared by the DiT and both encoders.
  std::vector<AttentionSpan> layer_spans;

  std::int64_t text_hidden_dim = 1024;  ///< width of the text encoder's states
  std::int64_t num_lyric_encoder_hidden_layers = 8;
  std::int64_t timbre_hidden_dim = 64;  ///< channels of the reference latents
  std::int64_t num_timbre_encoder_hidden_layers = 4;
  /// Frames of silence latent upstream feeds as the timbre reference when no
  /// clip is given.
  std::int64_t timbre_fix_frame = 750;

  std::int64_t patch_size = 2;
  std::int64_t in_channels = 192;               ///< [source | chunk mask | x_t]
  std::int64_t audio_acoustic_hidden_dim = 64;  ///< latent channels
  std::string model_version = "turbo";

  /// Whether layer `index` uses the sliding band (and the band is enabled).
  bool is_sliding(std::int64_t index) const;
  /// Encoder layers actually run: upstream slices them to num_hidden_layers.
  std::int64_t lyric_layers_run() const;
  std::int64_t timbre_layers_run() const;
};

/// Reads and validates a parsed config (positive sizes, heads divisible by
/// the key/value heads, an even head_dim for RoPE, in_channels = 3 × latent
/// channels, a known type for every layer); errors name the config's source
/// and the offending key.
Result<DitConfig> read_dit_config(const ModelConfig& config);

/// Parses the config text and reads it as read_dit_config does; `source`
/// (a path) is named in errors.
Result<DitConfig> parse_dit_config(std::string_view json_text, const std::string& source);

/// Reads `file` (a checkpoint folder's config.json) and parses it.
Result<DitConfig> load_dit_config(const std::filesystem::path& file);

}  // namespace ferry::acestep
