#include "agent/models/demucs_config.hpp"

#include <cmath>

#include <fmt/format.h>

namespace ferry::models {
namespace {

// Typed reads of kwargs with defaults; the first bad type is kept as the error.
class KwargReader {
 public:
  explicit KwargReader(const std::map<std::string, ValuePtr>& kwargs) : kwargs_(kwargs) {}

  const Value* find(const std::string& name) const {
    auto it = kwargs_.find(name);
    return it == kwargs_.end() || !it->second || it->second->is_none() ? nullptr : it->second.get();
  }
  void read(const std::string& name, int& out) {
    if (const Value* v = find(name)) {
      auto i = v->as_int();
      if (i && *i >= INT32_MIN && *i <= INT32_MAX) out = static_cast<int>(*i);
      else wrong(name, "an integer", *v);
    }
  }
  void read(const std::string& name, double& out) {
    if (const Value* v = find(name)) {
      if (auto d = v->as_number()) out = *d;
      else wrong(name, "a number", *v);
    }
  }
  void read(const std::string& name, bool& out) {
    if (const Value* v = find(name)) {
      if (auto i = v->as_int()) out = *i != 0;  // Python truthiness of bools and ints
      else wrong(name, "a boolean", *v);
    }
  }
  void read(const std::string& name, std::string& out) {
    if (const Value* v = find(name)) {
      if (auto s = v->as_string()) out = *s;
      else wrong(name, "a string", *v);
    }
  }
  // Flags stored as bool or int, used by Demucs as int(value) group counts.
  void read_groups(const std::string& name, int& out) {
    if (const Value* v = find(name)) {
      if (auto i = v->as_int()) out = static_cast<int>(*i);
      else wrong(name, "a boolean or an integer", *v);
    }
  }
  void wrong(const std::string& name, const char* expected, const Value& got) {
    if (!error) {
      error = Error{ErrorCode::invalid_argument,
                    fmt::format("model argument '{}' should be {}, got a {}", name, expected, got.kind_name()), name};
    }
  }
  std::optional<Error> error;

 private:
  const std::map<std::string, ValuePtr>& kwargs_;
};

tl::unexpected<Error> unsupported(const std::string& what) {
  return fail(ErrorCode::unsupported, "this Demucs checkpoint uses " + what + ", which the engine does not implement");
}

Result<std::vector<std::string>> read_sources(const Value* value) {
  if (!value || !value->as_sequence()) return fail(ErrorCode::invalid_argument, "model argument 'sources' is missing");
  std::vector<std::string> sources;
  for (const auto& item : *value->as_sequence()) {
    if (!item->as_string()) return fail(ErrorCode::invalid_argument, "model argument 'sources' holds a non-string");
    sources.push_back(*item->as_string());
  }
  if (sources.empty()) return fail(ErrorCode::invalid_argument, "model argument 'sources' is empty");
  return sources;
}

Status read_segment(const Value* value, DemucsConfig& config) {
  if (!value) return {};
  if (const Fraction* f = value->as_fraction()) {
    config.segment = *f;
  } else if (auto i = value->as_int()) {
    config.segment = Fraction{*i, 1};
  } else if (auto d = value->as_number()) {
    // A float segment (7.8): int(7.8 * 44100) in Python gives 343980 because the
    // product rounds up; a micro-second fraction reproduces that exactly.
    config.segment = Fraction{static_cast<std::int64_t>(std::llround(*d * 1e6)), 1'000'000};
  } else {
    return fail(ErrorCode::invalid_argument, "model argument 'segment' is not a number", "segment");
  }
  config.segment_seconds = config.segment.to_double();
  if (!(config.segment_seconds > 0) || config.segment_seconds > 3600) {
    return fail(ErrorCode::invalid_argument, "model argument 'segment' is out of range", "segment");
  }
  return {};
}

}  // namespace

std::int64_t DemucsConfig::segment_samples() const {
  // 128-bit so that a large numerator cannot overflow before the division.
  const __int128 scaled = static_cast<__int128>(segment.numerator) * samplerate;
  return static_cast<std::int64_t>(scaled / segment.denominator);
}

Result<DemucsConfig> parse_demucs_config(const std::string& klass, const std::vector<ValuePtr>& args,
                                         const std::map<std::string, ValuePtr>& kwargs) {
  DemucsConfig config;
  if (klass == "demucs.htdemucs.HTDemucs") {
    config.variant = DemucsVariant::htdemucs;
  } else if (klass == "demucs.hdemucs.HDemucs") {
    config.variant = DemucsVariant::hdemucs;
    config.depth = 6;
    config.dconv_comp = 4;
  } else {
    return fail(ErrorCode::unsupported,
                "model class " + klass + " is not supported: expected demucs.htdemucs.HTDemucs or demucs.hdemucs.HDemucs");
  }
  const bool v4 = config.variant == DemucsVariant::htdemucs;
  if (v4) config.segment = Fraction{10, 1};
  else config.segment = Fraction{40, 1};

  if (args.size() > 1) return unsupported("more than one positional constructor argument");
  auto sources = read_sources(args.empty() ? (kwargs.count("sources") ? kwargs.at("sources").get() : nullptr)
                                           : args[0].get());
  if (!sources) return fail(sources.error());
  config.sources = std::move(*sources);

  KwargReader kw(kwargs);
  kw.read("audio_channels", config.audio_channels);
  kw.read("channels", config.channels);
  if (kw.find("channels_time")) {
    int channels_time = 0;
    kw.read("channels_time", channels_time);
    if (channels_time > 0) config.channels_time = channels_time;
  }
  kw.read("growth", config.growth);
  kw.read("nfft", config.nfft);
  int wiener_iters = 0;
  kw.read("wiener_iters", wiener_iters);
  kw.read("cac", config.cac);
  kw.read("depth", config.depth);
  kw.read("rewrite", config.rewrite);
  if (!v4) {
    kw.read("hybrid", config.hybrid);
    kw.read("hybrid_old", config.hybrid_old);
  }
  kw.read("freq_emb", config.freq_emb);
  kw.read("emb_scale", config.emb_scale);
  kw.read("kernel_size", config.kernel_size);
  kw.read("time_stride", config.time_stride);
  kw.read("stride", config.stride);
  kw.read("context", config.context);
  kw.read("context_enc", config.context_enc);
  kw.read("norm_starts", config.norm_starts);
  kw.read("norm_groups", config.norm_groups);
  kw.read("dconv_mode", config.dconv_mode);
  kw.read("dconv_depth", config.dconv_depth);
  kw.read("dconv_comp", config.dconv_comp);
  if (!v4) {
    kw.read("dconv_attn", config.dconv_attn);
    kw.read("dconv_lstm", config.dconv_lstm);
  }
  kw.read("samplerate", config.samplerate);
  std::string t_emb = "sin";
  int t_sin_random_shift = 0;
  bool t_sparse_self = false, t_sparse_cross = false;
  if (v4) {
    auto& t = config.transformer;
    kw.read("bottom_channels", config.bottom_channels);
    kw.read("t_layers", t.layers);
    kw.read("t_hidden_scale", t.hidden_scale);
    kw.read("t_heads", t.heads);
    kw.read("t_max_period", t.max_period);
    kw.read("t_norm_in", t.norm_in);
    kw.read_groups("t_norm_in_group", t.norm_in_group);
    kw.read_groups("t_group_norm", t.group_norm);
    kw.read("t_norm_first", t.norm_first);
    kw.read_groups("t_norm_out", t.norm_out);
    kw.read("t_layer_scale", t.layer_scale);
    kw.read("t_gelu", t.gelu);
    kw.read("t_weight_pos_embed", t.weight_pos_embed);
    kw.read("t_cross_first", t.cross_first);
    kw.read("t_emb", t_emb);
    kw.read("t_sin_random_shift", t_sin_random_shift);
    kw.read("t_sparse_self_attn", t_sparse_self);
    kw.read("t_sparse_cross_attn", t_sparse_cross);
    kw.read("use_train_segment", config.use_train_segment);
  }
  if (kw.error) return fail(*kw.error);
  if (auto ok = read_segment(kw.find("segment"), config); !ok) return fail(ok.error());

  // Refuse what is not implemented (none of it is used by official models).
  if (const Value* multi = kw.find("multi_freqs"); multi && multi->as_sequence() && !multi->as_sequence()->empty()) {
    return unsupported("multi_freqs (band-split layers)");
  }
  if (!config.cac) return unsupported("magnitude masking with Wiener filtering (cac=False)");
  if (wiener_iters != 0) return unsupported("Wiener filtering (wiener_iters != 0)");
  if (!config.hybrid) return unsupported("a frequency-only model (hybrid=False)");
  if (t_emb != "sin") return unsupported("the '" + t_emb + "' transformer position embedding");
  if (t_sin_random_shift != 0) return unsupported("random shifts of the position embedding");
  if (t_sparse_self || t_sparse_cross) return unsupported("sparse attention");

  // Shapes the code relies on.
  auto positive = [](int v) { return v > 0 && v < (1 << 20); };
  if (!positive(config.audio_channels) || !positive(config.channels) || !positive(config.nfft) ||
      !positive(config.depth) || config.depth > 16 || !positive(config.kernel_size) || !positive(config.stride) ||
      !positive(config.time_stride) || !positive(config.norm_groups) || !positive(config.samplerate) ||
      config.nfft % 4 != 0 || config.context < 0 || config.context_enc < 0 || config.dconv_depth < 0 ||
      !(config.growth > 0) || !(config.dconv_comp > 0) || config.bottom_channels < 0 ||
      config.transformer.layers < 0 || !positive(config.transformer.heads)) {
    return fail(ErrorCode::invalid_argument, "Demucs checkpoint has out-of-range constructor arguments");
  }
  return config;
}

}  // namespace ferry::models
