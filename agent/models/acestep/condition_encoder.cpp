#include "agent/models/acestep/condition_encoder.hpp"

#include <algorithm>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "agent/models/acestep/transformer_blocks.hpp"

namespace ferry::acestep {
namespace {

std::string shape_text(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// AceStepLyricEncoder and AceStepTimbreEncoder share this shape: a linear
// embedding, bidirectional layers with RoPE over 0..L-1, a final RMSNorm.
struct EncoderStack {
  LinearLayer embed_tokens;
  std::vector<EncoderLayer> layers;
  RmsNorm norm;
  std::int64_t head_dim = 0;
  double rope_theta = 0;

  void load(WeightTable& w, const std::string& prefix, const DitConfig& config, std::int64_t in_dim,
            std::int64_t stored_layers, std::int64_t layers_run) {
    embed_tokens.load(w, prefix + ".embed_tokens", in_dim, config.hidden_size, true);
    // Every stored layer is a checkpoint tensor, but upstream runs only the
    // first `layers_run` of them.
    layers.resize(static_cast<std::size_t>(stored_layers));
    for (std::int64_t i = 0; i < stored_layers; ++i) {
      layers[static_cast<std::size_t>(i)].load(w, fmt::format("{}.layers.{}", prefix, i), config, i);
    }
    layers.resize(static_cast<std::size_t>(layers_run));
    norm.load(w, prefix + ".norm", config.hidden_size, config.rms_norm_eps);
    head_dim = config.head_dim;
    rope_theta = config.rope_theta;
  }

  at::Tensor forward(const at::Tensor& x, const at::Tensor& key_valid) const {
    at::Tensor hidden = embed_tokens.forward(x);
    const RotaryTable rope = RotaryTable::build(hidden.size(1), head_dim, rope_theta, hidden.options());
    for (const auto& layer : layers) hidden = layer.forward(hidden, rope, key_valid);
    return norm.forward(hidden);
  }
};

Status check_sequence(const at::Tensor& states, const at::Tensor& mask, std::string_view name,
                      std::string_view mask_name, std::int64_t batch, std::int64_t width) {
  if (!states.defined() || states.dim() != 3 || states.size(0) != batch || states.size(1) < 1 ||
      states.size(2) != width) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{} must be [batch {}, length >= 1, {}], not {}", name, batch, width,
                            states.defined() ? shape_text(states.sizes()) : "missing"),
                std::string(name));
  }
  if (mask.defined() && (mask.dim() != 2 || mask.size(0) != batch || mask.size(1) != states.size(1))) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{} must be [{}, {}] like its sequence, not {}", mask_name, batch, states.size(1),
                            shape_text(mask.sizes())),
                std::string(mask_name));
  }
  return {};
}

// A padding mask as bool on `device`; all-true when the caller gave none.
at::Tensor valid_tokens(const at::Tensor& mask, const at::Tensor& like) {
  if (!mask.defined()) return at::ones({like.size(0), like.size(1)}, like.options().dtype(at::kBool));
  return mask.to(like.device()) != 0;
}

// One timbre token per reference -> [B, most references of an item, hidden]
// with a mask; items with fewer references are padded with zero rows.
std::pair<at::Tensor, at::Tensor> unpack_timbre(const at::Tensor& tokens, const std::vector<std::int64_t>& order,
                                                std::int64_t batch) {
  const auto references = static_cast<std::int64_t>(order.size());
  std::vector<std::vector<std::int64_t>> per_item(static_cast<std::size_t>(batch));
  for (std::int64_t i = 0; i < references; ++i) per_item[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])].push_back(i);
  std::size_t widest = 1;
  for (const auto& item : per_item) widest = std::max(widest, item.size());
  // Index `references` points at an appended zero row: the padding.
  std::vector<std::int64_t> rows(static_cast<std::size_t>(batch) * widest, references);
  for (std::size_t b = 0; b < per_item.size(); ++b) {
    for (std::size_t j = 0; j < per_item[b].size(); ++j) rows[b * widest + j] = per_item[b][j];
  }
  const at::Tensor index = at::tensor(rows, at::TensorOptions().dtype(at::kLong)).to(tokens.device());
  const at::Tensor padded = at::cat({tokens, at::zeros({1, tokens.size(1)}, tokens.options())}, 0);
  const auto width = static_cast<std::int64_t>(widest);
  return {padded.index_select(0, index).view({batch, width, tokens.size(1)}), (index < references).view({batch, width})};
}

}  // namespace

std::pair<at::Tensor, at::Tensor> pack_sequences(const at::Tensor& first, const at::Tensor& second,
                                                 const at::Tensor& first_mask, const at::Tensor& second_mask) {
  const at::Tensor states = at::cat({first, second}, 1);
  const at::Tensor mask = at::cat({first_mask, second_mask}, 1).to(at::kLong);
  const std::int64_t batch = states.size(0), length = states.size(1), width = states.size(2);
  const at::Tensor order = std::get<1>(at::sort(mask, /*stable=*/true, /*dim=*/1, /*descending=*/true));
  const at::Tensor packed = at::gather(states, 1, order.unsqueeze(-1).expand({batch, length, width}));
  const at::Tensor lengths = mask.sum(1);
  const at::Tensor positions = at::arange(length, mask.options()).unsqueeze(0);
  return {packed, positions < lengths.unsqueeze(1)};
}

struct ConditionEncoder::Weights {
  LinearLayer text_projector;
  EncoderStack lyric_encoder;
  EncoderStack timbre_encoder;
};

ConditionEncoder::ConditionEncoder(DitConfig config, std::unique_ptr<Weights> weights)
    : config_(std::move(config)), weights_(std::move(weights)) {}

ConditionEncoder::~ConditionEncoder() = default;

Result<std::unique_ptr<ConditionEncoder>> ConditionEncoder::create(const DitConfig& config, WeightTable& weights) {
  auto loaded = std::make_unique<Weights>();
  loaded->text_projector.load(weights, "encoder.text_projector", config.text_hidden_dim, config.hidden_size, false);
  loaded->lyric_encoder.load(weights, "encoder.lyric_encoder", config, config.text_hidden_dim,
                             config.num_lyric_encoder_hidden_layers, config.lyric_layers_run());
  loaded->timbre_encoder.load(weights, "encoder.timbre_encoder", config, config.timbre_hidden_dim,
                              config.num_timbre_encoder_hidden_layers, config.timbre_layers_run());
  // Upstream no longer prepends this token (the line is commented out); the
  // first reference frame's output is the timbre token instead.
  weights.ignore_prefix("encoder.timbre_encoder.special_token");
  return std::unique_ptr<ConditionEncoder>(new ConditionEncoder(config, std::move(loaded)));
}

Status ConditionEncoder::check(const ConditionInputs& in) const {
  if (!in.text_states.defined() || in.text_states.dim() != 3) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("text_states must be [batch, length, {}]", config_.text_hidden_dim), "text_states");
  }
  const std::int64_t batch = in.text_states.size(0);
  if (auto ok = check_sequence(in.text_states, in.text_mask, "text_states", "text_mask", batch, config_.text_hidden_dim); !ok) {
    return ok;
  }
  if (auto ok = check_sequence(in.lyric_embeddings, in.lyric_mask, "lyric_embeddings", "lyric_mask", batch,
                               config_.text_hidden_dim);
      !ok) {
    return ok;
  }
  const at::Tensor& refs = in.timbre_references;
  if (!refs.defined() || refs.dim() != 3 || refs.size(0) < 1 || refs.size(1) < 1 ||
      refs.size(2) != config_.timbre_hidden_dim) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("timbre_references must be [references >= 1, frames >= 1, {}], not {} (without a "
                            "reference clip pass the silence latent's first frames)",
                            config_.timbre_hidden_dim, refs.defined() ? shape_text(refs.sizes()) : "missing"),
                "timbre_references");
  }
  if (in.timbre_order.empty()) {
    if (refs.size(0) != batch) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("{} timbre references for {} items: give timbre_order to say which item each belongs to",
                              refs.size(0), batch),
                  "timbre_order");
    }
    return {};
  }
  if (static_cast<std::int64_t>(in.timbre_order.size()) != refs.size(0)) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("timbre_order has {} entries for {} references", in.timbre_order.size(), refs.size(0)),
                "timbre_order");
  }
  for (const std::int64_t item : in.timbre_order) {
    if (item < 0 || item >= batch) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("timbre_order names item {}, outside the batch of {}", item, batch), "timbre_order");
    }
  }
  return {};
}

Result<EncodedConditions> ConditionEncoder::encode(const ConditionInputs& in) const {
  if (auto ok = check(in); !ok) return fail(ok.error());
  const Weights& w = *weights_;
  const auto options = w.text_projector.weight.options();
  const std::int64_t batch = in.text_states.size(0);
  std::vector<std::int64_t> order = in.timbre_order;
  if (order.empty()) {
    for (std::int64_t i = 0; i < batch; ++i) order.push_back(i);
  }
  at::Tensor mask;
  auto states = run_inference("condition encoder", [&] {
    const at::Tensor text_states = in.text_states.to(options);
    const at::Tensor lyric_embeddings = in.lyric_embeddings.to(options);
    const at::Tensor text_valid = valid_tokens(in.text_mask, text_states);
    const at::Tensor lyric_valid = valid_tokens(in.lyric_mask, lyric_embeddings);

    const at::Tensor text = w.text_projector.forward(text_states);
    const at::Tensor lyrics = w.lyric_encoder.forward(lyric_embeddings, lyric_valid);
    // The timbre encoder sees whole references (no padding mask), and the
    // output at frame 0 stands for the reference.
    const at::Tensor timbre_tokens = w.timbre_encoder.forward(in.timbre_references.to(options), at::Tensor()).select(1, 0);
    const auto [timbre, timbre_valid] = unpack_timbre(timbre_tokens, order, batch);

    const auto [lyric_timbre, lyric_timbre_valid] = pack_sequences(lyrics, timbre, lyric_valid, timbre_valid);
    auto [packed, packed_valid] = pack_sequences(lyric_timbre, text, lyric_timbre_valid, text_valid);
    mask = packed_valid;
    return packed;
  });
  if (!states) return fail(states.error());
  return EncodedConditions{std::move(*states), std::move(mask)};
}

}  // namespace ferry::acestep
