#include "agent/models/acestep/dit_config.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ferry::acestep {
namespace {

Error config_error(const std::string& source, std::string_view key, const std::string& what) {
  return Error{ErrorCode::invalid_argument, fmt::format("model config {}: {}", source, what), std::string(key)};
}

// Absent (or null), upstream alternates sliding (even layers) and full (odd
// layers).
Result<std::vector<AttentionSpan>> read_layer_spans(const ModelConfig& config, std::int64_t layers) {
  std::vector<AttentionSpan> spans;
  if (!config.has_value("layer_types")) {
    for (std::int64_t i = 0; i < layers; ++i) spans.push_back(i % 2 == 0 ? AttentionSpan::sliding : AttentionSpan::full);
    return spans;
  }
  auto types = config.texts("layer_types");
  if (!types) return fail(types.error());
  for (const auto& type : *types) {
    if (type == "sliding_attention") {
      spans.push_back(AttentionSpan::sliding);
    } else if (type == "full_attention") {
      spans.push_back(AttentionSpan::full);
    } else {
      return fail(config_error(config.source(), "layer_types",
                               fmt::format("unknown layer type \"{}\" (expected \"sliding_attention\" or "
                                           "\"full_attention\")",
                                           type)));
    }
  }
  return spans;
}

}  // namespace

bool DitConfig::is_sliding(std::int64_t index) const {
  return sliding_window > 0 && index >= 0 && index < static_cast<std::int64_t>(layer_spans.size()) &&
         layer_spans[static_cast<std::size_t>(index)] == AttentionSpan::sliding;
}

std::int64_t DitConfig::lyric_layers_run() const { return std::min(num_lyric_encoder_hidden_layers, num_hidden_layers); }

std::int64_t DitConfig::timbre_layers_run() const {
  return std::min(num_timbre_encoder_hidden_layers, num_hidden_layers);
}

Result<DitConfig> read_dit_config(const ModelConfig& c) {
  const std::string& source = c.source();
  DitConfig config;
  if (auto ok = c.read_positive({
          {"hidden_size", &config.hidden_size},
          {"num_hidden_layers", &config.num_hidden_layers},
          {"num_attention_heads", &config.num_attention_heads},
          {"num_key_value_heads", &config.num_key_value_heads},
          {"head_dim", &config.head_dim},
          {"text_hidden_dim", &config.text_hidden_dim},
          {"num_lyric_encoder_hidden_layers", &config.num_lyric_encoder_hidden_layers},
          {"timbre_hidden_dim", &config.timbre_hidden_dim},
          {"num_timbre_encoder_hidden_layers", &config.num_timbre_encoder_hidden_layers},
          {"patch_size", &config.patch_size},
          {"in_channels", &config.in_channels},
          {"audio_acoustic_hidden_dim", &config.audio_acoustic_hidden_dim},
      });
      !ok) {
    return fail(ok.error());
  }
  // transformers' Qwen3MLP reads `intermediate_size`; some copies of the
  // config only carry ACE-Step's own name for it.
  const std::string_view mlp_key = c.has("intermediate_size") ? "intermediate_size" : "inner_mlp_width";
  if (auto ok = c.read_positive({{mlp_key, &config.intermediate_size}}); !ok) return fail(ok.error());
  auto timbre_frames = c.integer_or("timbre_fix_frame", config.timbre_fix_frame);
  auto eps = c.number_or("rms_norm_eps", config.rms_norm_eps);
  auto theta = c.number_or("rope_theta", config.rope_theta);
  auto bias = c.flag_or("attention_bias", false);
  auto sliding = c.flag_or("use_sliding_window", true);
  auto window = c.integer_or("sliding_window", config.sliding_window);
  auto version = c.text_or("model_version", config.model_version);
  if (!timbre_frames) return fail(timbre_frames.error());
  if (!eps) return fail(eps.error());
  if (!theta) return fail(theta.error());
  if (!bias) return fail(bias.error());
  if (!sliding) return fail(sliding.error());
  if (!window) return fail(window.error());
  if (!version) return fail(version.error());
  config.timbre_fix_frame = *timbre_frames;
  config.rms_norm_eps = *eps;
  config.rope_theta = *theta;
  config.attention_bias = *bias;
  config.sliding_window = *sliding ? *window : 0;
  config.model_version = *version;
  if (c.has_value("rope_scaling")) {
    // Only plain RoPE is implemented; a scaled variant would silently change
    // every attention score.
    return fail(config_error(source, "rope_scaling", "RoPE scaling is not supported (expected null)"));
  }

  if (*sliding && config.sliding_window <= 0) {
    return fail(config_error(source, "sliding_window", "'sliding_window' must be positive when use_sliding_window is true"));
  }
  if (config.rms_norm_eps <= 0 || config.rope_theta <= 0) {
    return fail(config_error(source, "rms_norm_eps", "'rms_norm_eps' and 'rope_theta' must be positive"));
  }
  if (config.num_attention_heads % config.num_key_value_heads != 0) {
    return fail(config_error(source, "num_key_value_heads",
                             fmt::format("num_attention_heads ({}) is not a multiple of num_key_value_heads ({})",
                                         config.num_attention_heads, config.num_key_value_heads)));
  }
  if (config.head_dim % 2 != 0) {
    return fail(config_error(source, "head_dim", fmt::format("head_dim must be even for RoPE, not {}", config.head_dim)));
  }
  if (config.in_channels != 3 * config.audio_acoustic_hidden_dim) {
    return fail(config_error(source, "in_channels",
                             fmt::format("in_channels ({}) must be 3 × audio_acoustic_hidden_dim ({}): the DiT reads "
                                         "[source latents | chunk mask | x_t]",
                                         config.in_channels, config.audio_acoustic_hidden_dim)));
  }
  const std::int64_t deepest = std::max({config.num_hidden_layers, config.lyric_layers_run(), config.timbre_layers_run()});
  auto spans = read_layer_spans(c, deepest);
  if (!spans) return fail(spans.error());
  if (static_cast<std::int64_t>(spans->size()) < deepest) {
    return fail(config_error(source, "layer_types",
                             fmt::format("'layer_types' lists {} layers, the model has {}", spans->size(), deepest)));
  }
  config.layer_spans = std::move(*spans);
  return config;
}

Result<DitConfig> parse_dit_config(std::string_view json_text, const std::string& source) {
  auto parsed = ModelConfig::parse(json_text, source);
  if (!parsed) return fail(parsed.error());
  return read_dit_config(*parsed);
}

Result<DitConfig> load_dit_config(const std::filesystem::path& file) {
  auto parsed = ModelConfig::load(file);
  if (!parsed) return fail(parsed.error());
  return read_dit_config(*parsed);
}

}  // namespace ferry::acestep
