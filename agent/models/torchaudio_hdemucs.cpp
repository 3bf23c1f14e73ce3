#include "agent/models/torchaudio_hdemucs.hpp"

#include <array>
#include <cstdio>
#include <set>

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace ferry::models {
namespace {

struct Rename {
  std::string_view from, to;
};
constexpr std::array<Rename, 4> kRenames{{{"freq_encoder.", "encoder."},
                                          {"time_encoder.", "tencoder."},
                                          {"freq_decoder.", "decoder."},
                                          {"time_decoder.", "tdecoder."}}};

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

ValuePtr value(Value::Data data) { return std::make_shared<Value>(std::move(data)); }

}  // namespace

bool is_torchaudio_hdemucs(const StateDict& state) {
  return state.count("freq_encoder.0.conv.weight") && state.count("time_encoder.0.conv.weight");
}

Result<DemucsCheckpoint> from_torchaudio_hdemucs(StateDict state, std::vector<std::string> sources,
                                                 std::int64_t segment_seconds) {
  if (!is_torchaudio_hdemucs(state)) {
    return fail(ErrorCode::invalid_argument, "not a torchaudio HDemucs state dict (no freq_encoder/time_encoder)");
  }
  // Layers of the time encoder that only hold a convolution (the merge point)
  // still carry an unused norm1 in torchaudio; Demucs has none.
  std::set<std::string> empty_time_layers;
  int depth = 0;
  for (const auto& [name, tensor] : state) {
    int index = -1;
    if (std::sscanf(name.c_str(), "freq_encoder.%d.", &index) == 1) depth = std::max(depth, index + 1);
    if (std::sscanf(name.c_str(), "time_encoder.%d.", &index) == 1) {
      const std::string layer = fmt::format("time_encoder.{}.", index);
      if (!state.count(layer + "rewrite.weight")) empty_time_layers.insert(layer);
    }
  }
  StateDict renamed;
  for (auto& [name, tensor] : state) {
    bool unused = false;
    for (const auto& layer : empty_time_layers) unused |= starts_with(name, layer + "norm1.");
    if (unused) continue;
    std::string target = name;
    for (const auto& r : kRenames) {
      if (starts_with(name, r.from)) target = std::string(r.to) + name.substr(r.from.size());
    }
    renamed.emplace(std::move(target), std::move(tensor));
  }

  const at::Tensor& first = renamed.at("encoder.0.conv.weight");
  const std::int64_t channels = first.size(0);
  const std::int64_t audio_channels = renamed.at("tencoder.0.conv.weight").size(1);
  constexpr std::int64_t kStride = 4;
  std::int64_t nfft = 4096;
  if (auto emb = renamed.find("freq_emb.embedding.weight"); emb != renamed.end()) {
    nfft = emb->second.size(0) * kStride * 2;
  }
  if (nfft == 2048) {
    return fail(ErrorCode::unsupported,
                "torchaudio's hdemucs_medium (nfft 2048) differs from Demucs and is not supported");
  }
  const auto last = renamed.find(fmt::format("decoder.{}.conv_tr.weight", depth - 1));
  if (last == renamed.end() || last->second.size(1) != 2 * audio_channels * static_cast<std::int64_t>(sources.size())) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("torchaudio HDemucs state dict does not have {} sources", sources.size()));
  }

  DemucsCheckpoint checkpoint;
  checkpoint.klass = "demucs.hdemucs.HDemucs";
  Sequence names;
  for (const auto& s : sources) names.items.push_back(value(s));
  checkpoint.kwargs["sources"] =
      value(Value::Data(std::in_place_index<static_cast<std::size_t>(Value::Kind::list)>, std::move(names)));
  checkpoint.kwargs["audio_channels"] = value(audio_channels);
  checkpoint.kwargs["channels"] = value(channels);
  checkpoint.kwargs["nfft"] = value(nfft);
  checkpoint.kwargs["depth"] = value(std::int64_t{depth});
  checkpoint.kwargs["segment"] = value(Fraction{segment_seconds, 1});
  checkpoint.state = std::move(renamed);
  return checkpoint;
}

}  // namespace ferry::models
