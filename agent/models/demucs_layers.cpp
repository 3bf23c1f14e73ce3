#include "agent/models/demucs_layers.hpp"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace ferry::models::demucs {
namespace {

std::string shape_text(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// Demucs' BLSTM splits sequences longer than this into overlapping windows.
constexpr std::int64_t kLstmMaxSteps = 200;
constexpr int kLocalStateHeads = 4;
constexpr int kLocalStateDecays = 4;

}  // namespace

at::Tensor WeightSource::take(const std::string& name, const std::vector<std::int64_t>& shape) {
  auto it = state_.find(name);
  if (it == state_.end()) {
    if (!error_) {
      error_ = Error{ErrorCode::invalid_argument,
                     "checkpoint lacks the tensor '" + name + "' that its model arguments call for", name};
    }
    return {};
  }
  if (it->second.sizes() != at::IntArrayRef(shape)) {
    if (!error_) {
      error_ = Error{ErrorCode::invalid_argument,
                     fmt::format("checkpoint tensor '{}' has shape {}, its model arguments call for {}", name,
                                 shape_text(it->second.sizes()), shape_text(shape)),
                     name};
    }
    return {};
  }
  used_.insert(name);
  return it->second;
}

Status WeightSource::finish() const {
  if (error_) return fail(*error_);
  for (const auto& [name, tensor] : state_) {
    if (!used_.count(name)) {
      return fail(ErrorCode::invalid_argument,
                  "checkpoint has a tensor '" + name + "' that its model arguments do not explain", name);
    }
  }
  return {};
}

void Conv::load(WeightSource& w, const std::string& prefix, std::int64_t in, std::int64_t out,
                std::vector<std::int64_t> kernel, std::vector<std::int64_t> stride_,
                std::vector<std::int64_t> padding_, std::vector<std::int64_t> dilation_, bool transposed_) {
  std::vector<std::int64_t> shape = transposed_ ? std::vector<std::int64_t>{in, out} : std::vector<std::int64_t>{out, in};
  shape.insert(shape.end(), kernel.begin(), kernel.end());
  weight = w.take(prefix + ".weight", shape);
  bias = w.take(prefix + ".bias", {out});
  stride = std::move(stride_);
  padding = std::move(padding_);
  dilation = dilation_.empty() ? std::vector<std::int64_t>(kernel.size(), 1) : std::move(dilation_);
  transposed = transposed_;
  pointwise = !transposed && weight.defined() && bias.defined();
  for (std::size_t d = 0; d < kernel.size(); ++d) {
    pointwise = pointwise && kernel[d] == 1 && stride[d] == 1 && padding[d] == 0;
  }
  if (pointwise) matrix = weight.reshape({out, in}).contiguous();
  const std::int64_t k0 = kernel.front(), s0 = stride.front();
  const bool only_first_axis = kernel.size() == 1 || (kernel[1] == 1 && stride[1] == 1);
  const bool unpadded = padding == std::vector<std::int64_t>(kernel.size(), 0);
  if (transposed && weight.defined() && only_first_axis && unpadded && k0 % s0 == 0) {
    overlap_taps = k0 / s0;
    columns_matrix = weight.reshape({in, out * k0}).t().contiguous();
  }
  if (!transposed && weight.defined() && kernel.size() == 2 && k0 % 2 == 1 && k0 > 1 && s0 == 1 &&
      padding.front() == k0 / 2 && dilation.front() == 1) {
    centre_row = weight.narrow(2, k0 / 2, 1).contiguous();
  }
}

namespace {

// conv_transpose over the first spatial axis of x (B, in, L[, T]) with a
// kernel of taps * stride: output row t * stride + r sums, over q < taps,
// W[:, :, r + q * stride]^T x[t - q].
at::Tensor transposed_by_overlap_add(const at::Tensor& x, const at::Tensor& columns_matrix, const at::Tensor& bias,
                                     std::int64_t taps, std::int64_t stride) {
  const bool two_d = x.dim() == 4;
  const std::int64_t B = x.size(0), in = x.size(1), L = x.size(2), T = two_d ? x.size(3) : 1;
  const std::int64_t out = columns_matrix.size(0) / (taps * stride);
  at::Tensor columns = at::matmul(columns_matrix, x.reshape({B, in, L * T})).view({B, out, taps, stride, L, T});
  at::Tensor y = at::empty({B, out, L + taps - 1, stride, T}, x.options());
  // The first tap covers rows [0, L); the rows after it start from the bias.
  y.slice(2, 0, L).copy_(columns.select(2, 0).transpose(2, 3));
  y.slice(2, L).copy_(bias.view({1, out, 1, 1, 1}).expand({B, out, taps - 1, stride, T}));
  y.slice(2, 0, L).add_(bias.view({1, out, 1, 1, 1}));
  for (std::int64_t q = 1; q < taps; ++q) y.slice(2, q, q + L).add_(columns.select(2, q).transpose(2, 3));
  return two_d ? y.view({B, out, (L + taps - 1) * stride, T}) : y.view({B, out, (L + taps - 1) * stride});
}

}  // namespace

at::Tensor Conv::forward(const at::Tensor& x) const {
  if (pointwise) {
    // (B, in, ...) -> (B, out, ...) as bias + W @ x over the flattened positions.
    const std::int64_t B = x.size(0), in = x.size(1), out = matrix.size(0);
    at::Tensor flat = x.reshape({B, in, -1});
    at::Tensor y = at::baddbmm(bias.view({1, out, 1}), matrix.expand({B, out, in}), flat);
    std::vector<std::int64_t> shape = x.sizes().vec();
    shape[1] = out;
    return y.view(shape);
  }
  if (overlap_taps > 0) return transposed_by_overlap_add(x, columns_matrix, bias, overlap_taps, stride.front());
  if (centre_row.defined() && x.size(2) == 1) {
    return at::conv2d(x, centre_row, bias, stride, std::vector<std::int64_t>{0, padding[1]}, dilation);
  }
  const bool two_d = weight.dim() == 4;
  if (transposed) {
    return two_d ? at::conv_transpose2d(x, weight, bias, stride, padding)
                 : at::conv_transpose1d(x, weight, bias, stride, padding);
  }
  return two_d ? at::conv2d(x, weight, bias, stride, padding, dilation)
               : at::conv1d(x, weight, bias, stride, padding, dilation);
}

void GroupNorm::load(WeightSource& w, const std::string& prefix, int groups_, std::int64_t channels) {
  groups = groups_;
  if (groups == 0) return;
  weight = w.take(prefix + ".weight", {channels});
  bias = w.take(prefix + ".bias", {channels});
}

at::Tensor GroupNorm::forward(const at::Tensor& x) const {
  if (groups == 0) return x;
  return at::group_norm(x, groups, weight, bias, 1e-5);
}

void LayerNorm::load(WeightSource& w, const std::string& prefix, std::int64_t channels) {
  weight = w.take(prefix + ".weight", {channels});
  bias = w.take(prefix + ".bias", {channels});
}

at::Tensor LayerNorm::forward(const at::Tensor& x) const {
  return at::layer_norm(x, {x.size(-1)}, weight, bias, 1e-5);
}

void Linear::load(WeightSource& w, const std::string& prefix, std::int64_t in, std::int64_t out) {
  weight = w.take(prefix + ".weight", {out, in});
  bias = w.take(prefix + ".bias", {out});
}

at::Tensor Linear::forward(const at::Tensor& x) const { return at::linear(x, weight, bias); }

void BLSTM::load(WeightSource& w, const std::string& prefix, std::int64_t dim_) {
  dim = dim_;
  for (int layer = 0; layer < 2; ++layer) {
    const std::int64_t input = layer == 0 ? dim : 2 * dim;
    for (const char* suffix : {"", "_reverse"}) {
      params.push_back(w.take(fmt::format("{}.lstm.weight_ih_l{}{}", prefix, layer, suffix), {4 * dim, input}));
      params.push_back(w.take(fmt::format("{}.lstm.weight_hh_l{}{}", prefix, layer, suffix), {4 * dim, dim}));
      params.push_back(w.take(fmt::format("{}.lstm.bias_ih_l{}{}", prefix, layer, suffix), {4 * dim}));
      params.push_back(w.take(fmt::format("{}.lstm.bias_hh_l{}{}", prefix, layer, suffix), {4 * dim}));
    }
  }
  linear.load(w, prefix + ".linear", 2 * dim, dim);
}

at::Tensor BLSTM::forward(const at::Tensor& input) const {
  const std::int64_t B = input.size(0), C = input.size(1), T = input.size(2);
  at::Tensor x = input;
  const bool framed = T > kLstmMaxSteps;
  const std::int64_t width = kLstmMaxSteps, stride = width / 2;
  std::int64_t frames = 1;
  if (framed) {
    // Overlapping windows of `width` with hop `stride`, zero-padded at the end.
    frames = (T + stride - 1) / stride;
    const std::int64_t target = (frames - 1) * stride + width;
    x = at::constant_pad_nd(x, {0, target - T}).contiguous();
    x = x.as_strided({B, C, frames, width}, {x.stride(0), x.stride(1), stride, 1});
    x = x.permute({0, 2, 1, 3}).reshape({-1, C, width});
  }
  x = x.permute({2, 0, 1});
  const std::int64_t batch = x.size(1);
  at::Tensor h0 = at::zeros({4, batch, dim}, x.options());
  auto out = std::get<0>(at::lstm(x, {h0, h0}, params, /*has_biases=*/true, /*num_layers=*/2, /*dropout=*/0.0,
                                   /*train=*/false, /*bidirectional=*/true, /*batch_first=*/false));
  x = linear.forward(out).permute({1, 2, 0});
  if (framed) {
    // Keep the centre of each window; the first and last keep their outer edge.
    at::Tensor windows = x.reshape({B, -1, C, width});
    const std::int64_t limit = stride / 2;
    std::vector<at::Tensor> parts;
    for (std::int64_t k = 0; k < frames; ++k) {
      at::Tensor w = windows.select(1, k);
      const std::int64_t begin = k == 0 ? 0 : limit;
      const std::int64_t end = k == frames - 1 ? width : width - limit;
      parts.push_back(w.slice(-1, begin, end));
    }
    x = at::cat(parts, -1).slice(-1, 0, T);
  }
  return x + input;
}

void LocalState::load(WeightSource& w, const std::string& prefix, std::int64_t channels) {
  for (auto [conv, name, out] : {std::tuple{&content, "content", channels}, std::tuple{&query, "query", channels},
                                 std::tuple{&key, "key", channels},
                                 std::tuple{&query_decay, "query_decay", std::int64_t{kLocalStateHeads * kLocalStateDecays}},
                                 std::tuple{&proj, "proj", channels}}) {
    conv->load(w, prefix + "." + name, channels, out, {1}, {1}, {0});
  }
}

at::Tensor LocalState::forward(const at::Tensor& x) const {
  const std::int64_t B = x.size(0), T = x.size(2);
  const int heads = kLocalStateHeads;
  at::Tensor indexes = at::arange(T, x.options());
  at::Tensor delta = indexes.unsqueeze(1) - indexes.unsqueeze(0);  // [key t, query s]
  at::Tensor queries = query.forward(x).view({B, heads, -1, T});
  at::Tensor keys = key.forward(x).view({B, heads, -1, T});
  at::Tensor dots = at::einsum("bhct,bhcs->bhts", {keys, queries});
  dots = dots / std::sqrt(static_cast<double>(keys.size(2)));
  at::Tensor decays = at::arange(1, kLocalStateDecays + 1, x.options());
  at::Tensor decay_q = at::sigmoid(query_decay.forward(x).view({B, heads, -1, T})) / 2;
  at::Tensor decay_kernel = -decays.view({-1, 1, 1}) * delta.abs() / std::sqrt(static_cast<double>(kLocalStateDecays));
  dots = dots + at::einsum("fts,bhfs->bhts", {decay_kernel, decay_q});
  // A position never attends to itself.
  dots.masked_fill_(at::eye(T, x.options().dtype(at::kBool)), -100);
  at::Tensor weights = at::softmax(dots, 2);
  at::Tensor values = content.forward(x).view({B, heads, -1, T});
  at::Tensor result = at::einsum("bhts,bhct->bhcs", {weights, values}).reshape({B, -1, T});
  return x + proj.forward(result);
}

void DConv::load(WeightSource& w, const std::string& prefix, std::int64_t channels, const DConvOptions& options) {
  const auto hidden = static_cast<std::int64_t>(static_cast<double>(channels) / options.compress);
  const int depth = std::abs(options.depth);
  const bool dilate = options.depth > 0;
  for (int d = 0; d < depth; ++d) {
    // Module indices inside the nn.Sequential: conv, norm, act, [lstm], [attn], conv, norm, glu, scale.
    Branch branch;
    const std::string base = fmt::format("{}.layers.{}.", prefix, d);
    const std::int64_t dilation = dilate ? (std::int64_t{1} << d) : 1;
    branch.conv1.load(w, base + "0", channels, hidden, {3}, {1}, {dilation}, {dilation});
    branch.norm1.load(w, base + "1", 1, hidden);
    int index = 3;
    if (options.lstm) {
      branch.lstm.emplace();
      branch.lstm->load(w, base + std::to_string(index++), hidden);
    }
    if (options.attn) {
      branch.attn.emplace();
      branch.attn->load(w, base + std::to_string(index++), hidden);
    }
    branch.conv2.load(w, base + std::to_string(index++), hidden, 2 * channels, {1}, {1}, {0});
    branch.norm2.load(w, base + std::to_string(index++), 1, 2 * channels);
    ++index;  // GLU
    branch.scale = w.take(base + std::to_string(index) + ".scale", {channels});
    branches.push_back(std::move(branch));
  }
}

at::Tensor DConv::forward(at::Tensor x) const {
  for (const auto& b : branches) {
    at::Tensor y = at::gelu(b.norm1.forward(b.conv1.forward(x)));
    if (b.lstm) y = b.lstm->forward(y);
    if (b.attn) y = b.attn->forward(y);
    y = at::glu(b.norm2.forward(b.conv2.forward(y)), 1);
    x = x + b.scale.unsqueeze(1) * y;
  }
  return x;
}

at::Tensor apply_dconv(const DConv& dconv, const at::Tensor& y, bool freq) {
  if (!freq) return dconv.forward(y);
  const std::int64_t B = y.size(0), C = y.size(1), Fr = y.size(2), T = y.size(3);
  at::Tensor folded = y.permute({0, 2, 1, 3}).reshape({-1, C, T});
  return dconv.forward(folded).view({B, Fr, C, T}).permute({0, 2, 1, 3});
}

namespace {

// Kernel, stride and padding of a layer's main convolution: (k, 1) over
// frequencies, or k over time.
struct ConvGeometry {
  std::vector<std::int64_t> kernel, stride, padding;
};
ConvGeometry main_geometry(const LayerSpec& spec, int pad) {
  if (spec.freq) return {{spec.kernel_size, 1}, {spec.stride, 1}, {pad, 0}};
  return {{spec.kernel_size}, {spec.stride}, {pad}};
}
// The 1x1 (or (1+2c)-wide, context c) "rewrite" convolution.
ConvGeometry rewrite_geometry(const LayerSpec& spec) {
  const std::int64_t k = 1 + 2 * spec.context;
  if (spec.freq) return {{k, k}, {1, 1}, {spec.context, spec.context}};
  return {{k}, {1}, {spec.context}};
}

}  // namespace

void EncoderLayer::load(WeightSource& w, const std::string& prefix, const LayerSpec& spec_) {
  spec = spec_;
  pad = spec.pad ? spec.kernel_size / 4 : 0;
  const auto g = main_geometry(spec, pad);
  conv.load(w, prefix + ".conv", spec.chin, spec.chout, g.kernel, g.stride, g.padding);
  if (spec.empty) return;
  norm1.load(w, prefix + ".norm1", spec.norm_groups, spec.chout);
  if (spec.rewrite) {
    const auto r = rewrite_geometry(spec);
    rewrite.load(w, prefix + ".rewrite", spec.chout, 2 * spec.chout, r.kernel, r.stride, r.padding);
    norm2.load(w, prefix + ".norm2", spec.norm_groups, 2 * spec.chout);
  }
  if (spec.dconv) {
    dconv.emplace();
    dconv->load(w, prefix + ".dconv", spec.chout, *spec.dconv);
  }
}

at::Tensor EncoderLayer::forward(at::Tensor x, const at::Tensor& inject) const {
  if (!spec.freq && x.dim() == 4) x = x.reshape({x.size(0), -1, x.size(3)});
  if (!spec.freq) {
    const std::int64_t le = x.size(-1);
    if (le % spec.stride != 0) x = at::constant_pad_nd(x, {0, spec.stride - le % spec.stride});
  }
  at::Tensor y = conv.forward(x);
  if (spec.empty) return y;
  if (inject.defined()) y = y + (inject.dim() == 3 && y.dim() == 4 ? inject.unsqueeze(2) : inject);
  y = at::gelu(norm1.forward(y));
  if (dconv) y = apply_dconv(*dconv, y, spec.freq);
  if (spec.rewrite) return at::glu(norm2.forward(rewrite.forward(y)), 1);
  return y;
}

void DecoderLayer::load(WeightSource& w, const std::string& prefix, const LayerSpec& spec_) {
  spec = spec_;
  pad = spec.pad ? spec.kernel_size / 4 : 0;
  const auto g = main_geometry(spec, 0);
  conv_tr.load(w, prefix + ".conv_tr", spec.chin, spec.chout, g.kernel, g.stride,
               std::vector<std::int64_t>(g.kernel.size(), 0), {}, /*transposed=*/true);
  norm2.load(w, prefix + ".norm2", spec.norm_groups, spec.chout);
  if (spec.empty) return;
  if (spec.rewrite) {
    const auto r = rewrite_geometry(spec);
    rewrite.load(w, prefix + ".rewrite", spec.chin, 2 * spec.chin, r.kernel, r.stride, r.padding);
    norm1.load(w, prefix + ".norm1", spec.norm_groups, 2 * spec.chin);
  }
  if (spec.dconv) {
    dconv.emplace();
    dconv->load(w, prefix + ".dconv", spec.chin, *spec.dconv);
  }
}

std::pair<at::Tensor, at::Tensor> DecoderLayer::forward(at::Tensor x, const at::Tensor& skip,
                                                        std::int64_t length) const {
  if (spec.freq && x.dim() == 3) x = x.view({x.size(0), spec.chin, -1, x.size(2)});
  at::Tensor y = x;
  if (!spec.empty) {
    x = x + skip;
    y = spec.rewrite ? at::glu(norm1.forward(rewrite.forward(x)), 1) : x;
    if (dconv) y = apply_dconv(*dconv, y, spec.freq);
  }
  at::Tensor z = norm2.forward(conv_tr.forward(y));
  if (spec.freq) {
    if (pad) z = z.slice(-2, pad, z.size(-2) - pad);
  } else {
    z = z.slice(-1, pad, pad + length);
  }
  if (!spec.last) z = at::gelu(z);
  return {z, y};
}

}  // namespace ferry::models::demucs
