#include "agent/models/acestep/qwen3_encoder.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "agent/models/acestep/transformer_blocks.hpp"

namespace ferry::acestep {

struct Qwen3Encoder::Weights {
  at::Tensor embed_tokens;  ///< [vocab, hidden]
  /// Qwen3DecoderLayer is the condition encoder's layer made causal.
  std::vector<EncoderLayer> layers;
  RmsNorm norm;
};

Result<Qwen3Config> parse_qwen3_config(const ModelConfig& json) {
  Qwen3Config c;
  if (auto ok = json.read_positive({{"vocab_size", &c.vocab_size},
                                    {"hidden_size", &c.hidden_size},
                                    {"intermediate_size", &c.intermediate_size},
                                    {"num_hidden_layers", &c.num_hidden_layers},
                                    {"num_attention_heads", &c.num_attention_heads}});
      !ok) {
    return fail(ok.error());
  }
  // transformers' defaults: as many key/value heads as query heads, and
  // head_dim = hidden_size / heads.
  auto kv_heads = json.integer_or("num_key_value_heads", c.num_attention_heads);
  if (!kv_heads) return fail(kv_heads.error());
  c.num_key_value_heads = *kv_heads;
  auto head_dim = json.integer_or("head_dim", c.hidden_size / c.num_attention_heads);
  if (!head_dim) return fail(head_dim.error());
  c.head_dim = *head_dim;
  auto theta = json.number_or("rope_theta", 10000.0);
  if (!theta) return fail(theta.error());
  c.rope_theta = *theta;
  auto eps = json.number_or("rms_norm_eps", 1e-6);
  if (!eps) return fail(eps.error());
  c.rms_norm_eps = *eps;

  const auto invalid = [&](const std::string& what, const char* field) {
    return fail(ErrorCode::invalid_argument, fmt::format("Qwen3 config {}: {}", json.source(), what), field);
  };
  for (auto [key, value] : {std::pair{"num_key_value_heads", c.num_key_value_heads}, std::pair{"head_dim", c.head_dim}}) {
    if (auto ok = json.check_positive(key, value); !ok) return fail(ok.error());
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return invalid(fmt::format("num_attention_heads {} is not a multiple of num_key_value_heads {}",
                               c.num_attention_heads, c.num_key_value_heads),
                   "num_key_value_heads");
  }
  if (c.head_dim % 2 != 0) {
    return invalid(fmt::format("head_dim {} must be even for rotary embeddings", c.head_dim), "head_dim");
  }
  if (!(c.rope_theta > 0) || !(c.rms_norm_eps > 0)) {
    return invalid("rope_theta and rms_norm_eps must be positive", "rope_theta");
  }
  // Variants of the Qwen3 family this encoder does not implement (all off in
  // Qwen3-Embedding-0.6B): refuse them rather than compute something else.
  const auto unsupported = [&](const std::string& what, const char* field) {
    return fail(ErrorCode::unsupported, fmt::format("Qwen3 config {}: {} is not supported", json.source(), what),
                field);
  };
  auto activation = json.text_or("hidden_act", "silu");
  if (!activation) return fail(activation.error());
  if (*activation != "silu") return unsupported(fmt::format("hidden_act '{}' (only silu)", *activation), "hidden_act");
  auto bias = json.flag_or("attention_bias", false);
  if (!bias) return fail(bias.error());
  if (*bias) return unsupported("attention_bias", "attention_bias");
  auto sliding = json.flag_or("use_sliding_window", false);
  if (!sliding) return fail(sliding.error());
  if (*sliding) return unsupported("sliding-window attention", "use_sliding_window");
  if (json.has_value("rope_scaling")) return unsupported("RoPE scaling", "rope_scaling");
  return c;
}

Qwen3Encoder::Qwen3Encoder(Qwen3Config config, std::unique_ptr<Weights> weights)
    : config_(std::move(config)), weights_(std::move(weights)) {
  device_ = weights_->embed_tokens.device();
  dtype_ = weights_->embed_tokens.scalar_type();
}

Qwen3Encoder::~Qwen3Encoder() = default;

Result<std::unique_ptr<Qwen3Encoder>> Qwen3Encoder::load(const std::filesystem::path& folder,
                                                         const models::LoadOptions& options) {
  if (auto ok = check_network_dtype(options.dtype, "Qwen3 text encoder"); !ok) return fail(ok.error());
  auto loaded = load_model_folder(folder, kQwen3WeightsFile, options);
  if (!loaded) return fail(loaded.error());
  auto config = parse_qwen3_config(loaded->config);
  if (!config) return fail(config.error());
  return create(*config, loaded->weights, loaded->weights_file.string());
}

Result<std::unique_ptr<Qwen3Encoder>> Qwen3Encoder::create(const Qwen3Config& config, const models::StateDict& weights,
                                                           const std::string& source) {
  WeightTable table(weights, source);
  return create(config, table);
}

Result<std::unique_ptr<Qwen3Encoder>> Qwen3Encoder::create(const Qwen3Config& c, WeightTable& table) {
  // Some exports keep the Qwen3ForCausalLM layout with everything under "model.".
  const std::string prefix =
      !table.contains("embed_tokens.weight") && table.contains("model.embed_tokens.weight") ? "model." : "";
  const LayerShape shape{.hidden = c.hidden_size,
                         .intermediate = c.intermediate_size,
                         .heads = c.num_attention_heads,
                         .kv_heads = c.num_key_value_heads,
                         .head_dim = c.head_dim,
                         .attention_bias = false,
                         .rms_norm_eps = c.rms_norm_eps};
  auto weights = std::make_unique<Weights>();
  weights->embed_tokens = table.take(prefix + "embed_tokens.weight", {c.vocab_size, c.hidden_size});
  weights->layers.resize(static_cast<std::size_t>(c.num_hidden_layers));
  for (std::int64_t index = 0; index < c.num_hidden_layers; ++index) {
    EncoderLayer& layer = weights->layers[static_cast<std::size_t>(index)];
    layer.load(table, fmt::format("{}layers.{}", prefix, index), shape);
    layer.causal = true;
  }
  weights->norm.load(table, prefix + "norm", c.hidden_size, c.rms_norm_eps);
  // A causal LM export may carry an output head; an encoder has no use for it.
  table.ignore_prefix("lm_head.");
  if (auto ok = table.finish(); !ok) return fail(ok.error());
  if (auto ok = check_network_dtype(weights->embed_tokens.scalar_type(), "Qwen3 text encoder"); !ok) {
    return fail(ok.error());
  }
  return std::unique_ptr<Qwen3Encoder>(new Qwen3Encoder(c, std::move(weights)));
}

Status Qwen3Encoder::check_tokens(const at::Tensor& token_ids) const {
  if (!token_ids.defined() || token_ids.dim() != 2 || token_ids.size(0) < 1 || token_ids.size(1) < 1) {
    return fail(ErrorCode::invalid_argument, "token ids must be a non-empty [batch, length] tensor");
  }
  if (at::isFloatingType(token_ids.scalar_type()) || at::isComplexType(token_ids.scalar_type()) ||
      token_ids.scalar_type() == at::kBool) {
    return fail(ErrorCode::invalid_argument, "token ids must be integers");
  }
  const auto low = token_ids.min().item<std::int64_t>();
  const auto high = token_ids.max().item<std::int64_t>();
  if (low < 0 || high >= config_.vocab_size) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("token id {} is outside the vocabulary of {} entries; the tokenizer does not match "
                            "this text encoder",
                            low < 0 ? low : high, config_.vocab_size));
  }
  return {};
}

Result<at::Tensor> Qwen3Encoder::embed(const at::Tensor& token_ids) const {
  if (auto ok = check_tokens(token_ids); !ok) return fail(ok.error());
  return run_inference("text encoder embedding", [&] {
    return at::embedding(weights_->embed_tokens, token_ids.to(device_, at::kLong));
  });
}

Result<at::Tensor> Qwen3Encoder::forward(const at::Tensor& token_ids) const {
  if (auto ok = check_tokens(token_ids); !ok) return fail(ok.error());
  return run_inference("text encoder forward pass", [&] { return run(token_ids.to(device_, at::kLong)); });
}

at::Tensor Qwen3Encoder::run(const at::Tensor& ids) const {
  at::Tensor x = at::embedding(weights_->embed_tokens, ids);
  const RotaryTable rope = RotaryTable::build(ids.size(1), config_.head_dim, config_.rope_theta, x.options());
  // No padding mask: causal attention keeps right padding away from the real
  // tokens, as upstream relies on.
  for (const EncoderLayer& layer : weights_->layers) x = layer.forward(x, rope, at::Tensor());
  return weights_->norm.forward(x);
}

}  // namespace ferry::acestep
