#include "agent/models/separation.hpp"

#include <cmath>
#include <random>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include "agent/models/chunk_plan.hpp"
#include "agent/models/torch_errors.hpp"

namespace ferry::models {
namespace {

std::int64_t segment_of(const BagMember& member) {
  const auto& config = member.network->config();
  std::int64_t segment = member.network->segment_samples();
  if (config.variant == DemucsVariant::hdemucs && member.segment_samples && *member.segment_samples > segment) {
    segment = *member.segment_samples;
  }
  return segment;
}

// One walk of a chunk grid: one model at one shift. apply_model runs a
// shifted pass on the mix padded by half a second, from `offset`; in input
// coordinates its grid starts at -origin, origin = max_shift - offset.
struct Pass {
  std::size_t member = 0;
  std::int64_t origin = 0;
  std::int64_t segment = 0, stride = 0, count = 0;
  bool fixed_length = false;  ///< v4: every chunk is padded to the segment
  std::int64_t next = 0;      ///< next chunk to run
  at::Tensor weight;          ///< transition weights over a segment
  // Weighted sums and weight sums for input positions [buffer_start, buffer_start + size).
  at::Tensor sum, weight_sum;
  std::int64_t buffer_start = 0;

  std::int64_t start(std::int64_t k) const { return k * stride - origin; }
  std::int64_t length(std::int64_t k, std::int64_t total) const {
    return std::min(total + origin - k * stride, segment);
  }
  bool done() const { return next >= count; }
};

class Streamer {
 public:
  Streamer(const std::vector<BagMember>& bag, const MixSource& source, const SeparationOptions& options,
           const SeparationSink& sink)
      : bag_(bag), source_(source), options_(options), sink_(sink), batch_(std::max(1, options.batch_size)) {}

  Status run() {
    plan();
    while (true) {
      Pass* pass = nullptr;
      for (auto& p : passes_) {
        if (!p.done() && (!pass || p.start(p.next) < pass->start(pass->next))) pass = &p;
      }
      if (!pass) break;
      if (auto ok = run_batch(*pass); !ok) return ok;
      std::int64_t final_before = source_.length;
      for (const auto& p : passes_) {
        if (!p.done()) final_before = std::min(final_before, std::max<std::int64_t>(p.start(p.next), 0));
      }
      if (final_before > emitted_) {
        if (auto ok = emit(final_before); !ok) return ok;
      }
    }
    return emitted_ < source_.length ? emit(source_.length) : Status{};
  }

 private:
  void plan() {
    std::mt19937_64 rng(options_.seed);
    for (std::size_t m = 0; m < bag_.size(); ++m) {
      const DemucsNetwork& net = *bag_[m].network;
      Pass base;
      base.member = m;
      base.segment = segment_of(bag_[m]);
      base.stride = plan_chunks(0, base.segment, options_.overlap).stride;
      base.fixed_length = net.config().variant == DemucsVariant::htdemucs;
      const auto weights = transition_weights(base.segment, options_.transition_power);
      base.weight = at::tensor(at::ArrayRef<float>(weights), at::kFloat);
      const std::int64_t max_shift = net.samplerate() / 2;
      for (int s = 0; s < std::max(1, options_.shifts); ++s) {
        Pass pass = base;
        if (options_.shifts > 0) {
          pass.origin = max_shift - std::uniform_int_distribution<std::int64_t>(0, max_shift)(rng);
        }
        pass.count = (source_.length + pass.origin + pass.stride - 1) / pass.stride;
        progress_.total += pass.count;
        passes_.push_back(std::move(pass));
      }
    }
  }

  // Normalised input samples [begin, end), zeros outside the signal.
  Result<at::Tensor> read_padded(std::int64_t begin, std::int64_t end) {
    const std::int64_t from = std::max<std::int64_t>(begin, 0), to = std::min(end, source_.length);
    at::Tensor part;
    if (from < to) {
      auto read = source_.read(from, to);
      if (!read) return read;
      if (read->dim() != 2 || read->size(1) != to - from) {
        return fail(ErrorCode::internal, "separation input reader returned the wrong number of samples");
      }
      part = (read->to(at::kFloat) - source_.statistics.mean) / source_.statistics.std;
    } else {
      part = at::zeros({bag_.front().network->audio_channels(), 0}, at::kFloat);
    }
    return at::constant_pad_nd(part, {from - begin, end - std::max(to, from)});
  }

  Status run_batch(Pass& pass) {
    const DemucsNetwork& net = *bag_[pass.member].network;
    const std::int64_t total = source_.length;
    // Chunks of one batch share their padded length (for v3 only the last differs).
    std::vector<std::int64_t> chunks;
    std::int64_t target = 0;
    for (std::int64_t k = pass.next; k < pass.count && static_cast<int>(chunks.size()) < batch_; ++k) {
      const std::int64_t t = pass.fixed_length ? pass.segment : pass.length(k, total);
      if (!chunks.empty() && t != target) break;
      target = t;
      chunks.push_back(k);
    }
    std::vector<at::Tensor> inputs;
    for (std::int64_t k : chunks) {
      const std::int64_t len = pass.length(k, total);
      const std::int64_t begin = pass.start(k) - (target - len) / 2;  // centred (TensorChunk.padded)
      auto input = read_padded(begin, begin + target);
      if (!input) return fail(input.error());
      inputs.push_back(*input);
    }
    auto result = net.forward(at::stack(inputs).to(net.device()));
    if (!result) {
      if (result.error().code != ErrorCode::resource_exhausted) return fail(result.error());
      if (chunks.size() > 1) {
        // Out of memory: the same chunks again, half as many per pass.
        batch_ = static_cast<int>(chunks.size() / 2);
        return {};
      }
      return fail(ErrorCode::resource_exhausted,
                  fmt::format("out of memory on {} even with one chunk ({:.1f} s of audio) per forward pass: free "
                              "memory on the device (other jobs), use a model with a shorter segment, or separate "
                              "on the CPU (--device cpu). {}",
                              net.device().str(), static_cast<double>(target) / net.samplerate(),
                              result.error().message));
    }
    at::Tensor outputs = result->to(at::kCPU);
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      const std::int64_t k = chunks[i];
      const std::int64_t len = pass.length(k, total);
      const std::int64_t trim = (target - len) / 2;  // center_trim
      at::Tensor w = pass.weight.slice(0, 0, len);
      at::Tensor weighted = w * outputs[static_cast<std::int64_t>(i)].slice(-1, trim, trim + len);
      // Positions before the input start belong to the shift padding: dropped.
      const std::int64_t start = pass.start(k);
      const std::int64_t skip = std::max<std::int64_t>(0, -start);
      if (skip >= len) continue;
      accumulate(pass, start + skip, weighted.slice(-1, skip, len), w.slice(0, skip, len));
    }
    pass.next += static_cast<std::int64_t>(chunks.size());
    progress_.done += static_cast<std::int64_t>(chunks.size());
    if (options_.on_progress && !options_.on_progress(progress_)) {
      return fail(ErrorCode::cancelled, "separation cancelled");
    }
    return {};
  }

  void accumulate(Pass& pass, std::int64_t position, const at::Tensor& weighted, const at::Tensor& w) {
    const std::int64_t end = position + weighted.size(-1);
    const std::int64_t have = pass.sum.defined() ? pass.sum.size(-1) : 0;
    if (!pass.sum.defined()) {
      pass.buffer_start = emitted_;
      pass.sum = at::zeros({weighted.size(0), weighted.size(1), 0}, at::kFloat);
      pass.weight_sum = at::zeros({0}, at::kFloat);
    }
    const std::int64_t needed = end - pass.buffer_start;
    if (needed > have) {
      pass.sum = at::cat({pass.sum, at::zeros({weighted.size(0), weighted.size(1), needed - have}, at::kFloat)}, -1);
      pass.weight_sum = at::cat({pass.weight_sum, at::zeros({needed - have}, at::kFloat)});
    }
    const std::int64_t from = position - pass.buffer_start;
    pass.sum.slice(-1, from, from + weighted.size(-1)).add_(weighted);
    pass.weight_sum.slice(0, from, from + w.size(0)).add_(w);
  }

  // Output for positions [emitted_, upto): per pass sum / weights, averaged
  // over shifts, blended over the bag, denormalised.
  Status emit(std::int64_t upto) {
    const auto sources = static_cast<std::int64_t>(bag_.front().network->sources().size());
    const bool single = bag_.size() == 1 && bag_.front().weights.empty();
    at::Tensor estimate;
    std::vector<double> totals(static_cast<std::size_t>(sources), 0.0);
    for (std::size_t m = 0; m < bag_.size(); ++m) {
      at::Tensor model_out;
      for (auto& pass : passes_) {
        if (pass.member != m) continue;
        if (!pass.sum.defined()) return fail(ErrorCode::internal, "separation emitted output no chunk covered");
        const std::int64_t from = emitted_ - pass.buffer_start, to = upto - pass.buffer_start;
        at::Tensor part = pass.sum.slice(-1, from, to) / pass.weight_sum.slice(0, from, to);
        model_out = model_out.defined() ? model_out + part : part;
      }
      if (options_.shifts > 0) model_out = model_out / options_.shifts;
      if (single) {
        estimate = model_out;
        break;
      }
      model_out = model_out.clone();
      for (std::int64_t k = 0; k < sources; ++k) {
        const double w = bag_[m].weights.empty() ? 1.0 : bag_[m].weights[static_cast<std::size_t>(k)];
        model_out[k].mul_(w);
        totals[static_cast<std::size_t>(k)] += w;
      }
      estimate = estimate.defined() ? estimate + model_out : model_out;
    }
    if (!single) {
      for (std::int64_t k = 0; k < sources; ++k) {
        const double t = totals[static_cast<std::size_t>(k)];
        if (t != 0) estimate[k].div_(t);
      }
    }
    at::Tensor block = estimate * source_.statistics.std + source_.statistics.mean;
    if (auto ok = sink_(block); !ok) return ok;
    // Forget what has been handed out.
    for (auto& pass : passes_) {
      const std::int64_t drop = upto - pass.buffer_start;
      pass.sum = pass.sum.slice(-1, drop);
      pass.weight_sum = pass.weight_sum.slice(0, drop);
      pass.buffer_start = upto;
    }
    emitted_ = upto;
    return {};
  }

  const std::vector<BagMember>& bag_;
  const MixSource& source_;
  const SeparationOptions& options_;
  const SeparationSink& sink_;
  int batch_;
  std::vector<Pass> passes_;
  SeparationProgress progress_;
  std::int64_t emitted_ = 0;
};

Status check_inputs(const std::vector<BagMember>& bag, const SeparationOptions& options) {
  if (bag.empty()) return fail(ErrorCode::invalid_argument, "no model to separate with");
  const DemucsNetwork& first = *bag.front().network;
  if (!(options.overlap >= 0 && options.overlap < 1) || !(options.transition_power >= 1) || options.shifts < 0) {
    return fail(ErrorCode::invalid_argument, "overlap must be in [0, 1), transition power >= 1, shifts >= 0");
  }
  for (const auto& member : bag) {
    if (member.network->sources() != first.sources() || member.network->samplerate() != first.samplerate() ||
        member.network->audio_channels() != first.audio_channels()) {
      return fail(ErrorCode::invalid_argument, "models of a bag must share sources, sample rate and channels");
    }
    if (!member.weights.empty() && member.weights.size() != first.sources().size()) {
      return fail(ErrorCode::invalid_argument, "a bag weight row must have one weight per source");
    }
  }
  return {};
}

}  // namespace

MixStatistics mix_statistics(const at::Tensor& mix) {
  at::Tensor ref = mix.to(at::kFloat).mean(0);
  MixStatistics stats{ref.mean().item<double>(), ref.std().item<double>()};
  if (!(stats.std > 0) || !std::isfinite(stats.std)) stats.std = 1.0;  // silence: nothing to scale
  return stats;
}

Status separate_stream(const std::vector<BagMember>& bag, const MixSource& source, const SeparationOptions& options,
                       const SeparationSink& sink) {
  if (auto ok = check_inputs(bag, options); !ok) return ok;
  if (source.length < 1 || !source.read) return fail(ErrorCode::invalid_argument, "separation input is empty");
  try {
    c10::InferenceMode guard;
    return Streamer(bag, source, options, sink).run();
  } catch (const c10::Error& e) {
    return tl::unexpected(from_torch_error(e, "separation failed"));
  }
}

Result<at::Tensor> separate(const std::vector<BagMember>& bag, const at::Tensor& mix, const SeparationOptions& options) {
  if (auto ok = check_inputs(bag, options); !ok) return fail(ok.error());
  const auto channels = bag.front().network->audio_channels();
  if (mix.dim() != 2 || mix.size(0) != channels || mix.size(1) < 1) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("input must have {} channels and at least one sample", channels));
  }
  try {
    c10::InferenceMode guard;
    at::Tensor wav = mix.to(at::kCPU, at::kFloat);
    MixSource source{wav.size(1), mix_statistics(wav),
                     [&](std::int64_t begin, std::int64_t end) -> Result<at::Tensor> {
                       return wav.slice(1, begin, end);
                     }};
    at::Tensor out =
        at::empty({static_cast<std::int64_t>(bag.front().network->sources().size()), channels, wav.size(1)}, at::kFloat);
    std::int64_t written = 0;
    auto status = separate_stream(bag, source, options, [&](const at::Tensor& block) -> Status {
      out.slice(-1, written, written + block.size(-1)).copy_(block);
      written += block.size(-1);
      return {};
    });
    if (!status) return fail(status.error());
    return out;
  } catch (const c10::Error& e) {
    return tl::unexpected(from_torch_error(e, "separation failed"));
  }
}

}  // namespace ferry::models
