#pragma once
// Constructor arguments of Demucs' HDemucs (v3) and HTDemucs (v4), read from
// the kwargs stored in a checkpoint, with Demucs' own defaults for anything
// absent. Options the engine does not implement are refused here, by name,
// before any tensor is touched.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/models/pickle_value.hpp"
#include "common/error.hpp"

namespace ferry::models {

/// Which network a checkpoint describes.
enum class DemucsVariant { hdemucs, htdemucs };

/// The cross-domain transformer of HTDemucs (the `t_*` arguments).
struct TransformerConfig {
  int layers = 5;
  double hidden_scale = 4.0;
  int heads = 8;
  double max_period = 10000.0;
  bool norm_in = true;          ///< LayerNorm before the layers
  int norm_in_group = 0;        ///< GroupNorm(groups) before the layers when norm_in is false
  int group_norm = 0;           ///< GroupNorm(groups) instead of LayerNorm inside the layers
  bool norm_first = true;       ///< pre-norm layers
  int norm_out = 1;             ///< GroupNorm(groups) at the end of each pre-norm layer (0: none)
  bool layer_scale = true;
  bool gelu = true;             ///< GELU, else ReLU
  double weight_pos_embed = 1.0;
  bool cross_first = false;     ///< layer 0 is a cross-attention layer
};

/// Everything that shapes the network, for both variants.
struct DemucsConfig {
  DemucsVariant variant = DemucsVariant::htdemucs;
  std::vector<std::string> sources;
  int audio_channels = 2;
  int channels = 48;
  std::optional<int> channels_time;
  double growth = 2.0;
  int nfft = 4096;
  bool cac = true;
  int depth = 4;
  bool rewrite = true;
  bool hybrid = true;        ///< v3 only; v4 is always hybrid
  bool hybrid_old = false;   ///< v3 only: zero padding instead of reflection
  double freq_emb = 0.2;     ///< weight of the frequency embedding (0: none)
  double emb_scale = 10;     ///< the embedding's output scale
  int kernel_size = 8;
  int time_stride = 2;
  int stride = 4;
  int context = 1;
  int context_enc = 0;
  int norm_starts = 4;
  int norm_groups = 4;
  int dconv_mode = 1;        ///< bit 1: encoder, bit 2: decoder
  int dconv_depth = 2;
  double dconv_comp = 8;
  int dconv_attn = 4;        ///< v3: layers from this index get local attention
  int dconv_lstm = 4;        ///< v3: layers from this index get a BiLSTM
  int bottom_channels = 0;   ///< v4: 1x1 convs around the transformer when > 0
  TransformerConfig transformer;
  bool use_train_segment = true;  ///< v4: always run at the training length
  int samplerate = 44100;
  /// `segment` in seconds, exactly when the checkpoint stores a Fraction or an int.
  Fraction segment{10, 1};
  double segment_seconds = 10.0;

  /// int(segment * samplerate), as Demucs computes it.
  std::int64_t segment_samples() const;
};

/// Builds the configuration from a checkpoint's class name ("demucs.hdemucs.HDemucs"
/// or "demucs.htdemucs.HTDemucs"), positional and keyword arguments.
Result<DemucsConfig> parse_demucs_config(const std::string& klass, const std::vector<ValuePtr>& args,
                                         const std::map<std::string, ValuePtr>& kwargs);

}  // namespace ferry::models
