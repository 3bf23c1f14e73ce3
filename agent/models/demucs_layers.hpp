#pragma once
// Building blocks of Demucs v3/v4 as plain structs over weight tensors taken
// from a state dict, with forward passes written against ATen. Each mirrors
// one PyTorch module of the reference implementation (names in comments), so
// state-dict names map one to one.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "agent/models/checkpoint.hpp"
#include "common/error.hpp"

namespace ferry::models::demucs {

/// Hands out the tensors of a state dict by name, checking shapes, and
/// remembers the first problem and which tensors were used, so that a model
/// that does not match its checkpoint is reported instead of misbehaving.
class WeightSource {
 public:
  explicit WeightSource(const StateDict& state) : state_(state) {}
  /// The tensor `name` with exactly `shape`; an undefined tensor (and a
  /// recorded error) when it is missing or shaped differently.
  at::Tensor take(const std::string& name, const std::vector<std::int64_t>& shape);
  /// OK when every tensor was found with its shape and none was left over.
  Status finish() const;

 private:
  const StateDict& state_;
  std::set<std::string> used_;
  std::optional<Error> error_;
};

/// nn.Conv1d / nn.Conv2d / nn.ConvTranspose1d / nn.ConvTranspose2d. Two-
/// dimensional kernels here are always (k, 1) or square (k, k).
struct Conv {
  at::Tensor weight, bias;
  std::vector<std::int64_t> stride, padding, dilation;
  bool transposed = false;
  /// A 1x1 convolution (kernel 1, stride 1, no padding), run as a batched
  /// matrix product: much faster than the convolution kernels for the few
  /// input channels of Demucs' residual branches.
  bool pointwise = false;
  at::Tensor matrix;  ///< (out, in): the weight of a pointwise convolution
  /// A transposed convolution whose kernel is a multiple of its stride (all
  /// of Demucs'), run as one matrix product and an overlap-add of kernel /
  /// stride shifted copies: LibTorch's CPU kernel zero-fills a column
  /// buffer as large as the product and then folds it back.
  std::int64_t overlap_taps = 0;
  at::Tensor columns_matrix;  ///< (out * kernel, in) for overlap_taps
  /// A 2-D convolution with an odd kernel over frequencies, "same" padding:
  /// on inputs one row high only the kernel's centre row meets data.
  at::Tensor centre_row;
  /// `kernel` has one entry (1-D) or two (2-D).
  void load(WeightSource& w, const std::string& prefix, std::int64_t in, std::int64_t out,
            std::vector<std::int64_t> kernel, std::vector<std::int64_t> stride_, std::vector<std::int64_t> padding_,
            std::vector<std::int64_t> dilation_ = {}, bool transposed_ = false);
  at::Tensor forward(const at::Tensor& x) const;
};

/// nn.GroupNorm; an identity when `groups` is 0 (Demucs' norm=False).
struct GroupNorm {
  int groups = 0;
  at::Tensor weight, bias;
  void load(WeightSource& w, const std::string& prefix, int groups_, std::int64_t channels);
  at::Tensor forward(const at::Tensor& x) const;
};

/// nn.LayerNorm over the last dimension.
struct LayerNorm {
  at::Tensor weight, bias;
  void load(WeightSource& w, const std::string& prefix, std::int64_t channels);
  at::Tensor forward(const at::Tensor& x) const;
};

/// nn.Linear.
struct Linear {
  at::Tensor weight, bias;
  void load(WeightSource& w, const std::string& prefix, std::int64_t in, std::int64_t out);
  at::Tensor forward(const at::Tensor& x) const;
};

/// demucs.demucs.BLSTM: a 2-layer BiLSTM and a linear projection applied on
/// overlapping windows of 200 steps, plus a skip connection.
struct BLSTM {
  std::vector<at::Tensor> params;  ///< in at::lstm's order
  Linear linear;
  std::int64_t dim = 0;
  void load(WeightSource& w, const std::string& prefix, std::int64_t dim_);
  at::Tensor forward(const at::Tensor& x) const;  ///< (B, C, T)
};

/// demucs.demucs.LocalState: attention over time with learned decay, 4 heads.
struct LocalState {
  Conv content, query, key, query_decay, proj;
  void load(WeightSource& w, const std::string& prefix, std::int64_t channels);
  at::Tensor forward(const at::Tensor& x) const;  ///< (B, C, T)
};

/// Options of the DConv residual branch.
struct DConvOptions {
  int depth = 2;
  double compress = 4;
  bool lstm = false;
  bool attn = false;
};

/// demucs.demucs.DConv: residual branches of dilated convolutions with
/// GroupNorm, GELU, optional BiLSTM and LocalState, GLU and LayerScale.
struct DConv {
  struct Branch {
    Conv conv1, conv2;
    GroupNorm norm1, norm2;
    std::optional<BLSTM> lstm;
    std::optional<LocalState> attn;
    at::Tensor scale;
  };
  std::vector<Branch> branches;
  void load(WeightSource& w, const std::string& prefix, std::int64_t channels, const DConvOptions& options);
  at::Tensor forward(at::Tensor x) const;  ///< (B, C, T)
};

/// Shape of one encoder or decoder layer, as HDemucs/HTDemucs compute it.
struct LayerSpec {
  std::int64_t chin = 0, chout = 0;
  int kernel_size = 8, stride = 4;
  bool freq = true;       ///< acts on (B, C, F, T) along frequencies
  bool pad = true;        ///< pad by kernel_size / 4
  bool empty = false;     ///< only the first convolution (merge point of the branches)
  int norm_groups = 0;    ///< 0: no GroupNorm
  bool rewrite = true;
  int context = 0;
  std::optional<DConvOptions> dconv;
  bool last = false;      ///< decoder: no GELU on the output
};

/// demucs.hdemucs.HEncLayer.
struct EncoderLayer {
  LayerSpec spec;
  int pad = 0;
  Conv conv, rewrite;
  GroupNorm norm1, norm2;
  std::optional<DConv> dconv;
  void load(WeightSource& w, const std::string& prefix, const LayerSpec& spec_);
  /// `inject` (or an undefined tensor) is the time branch's output added at the merge.
  at::Tensor forward(at::Tensor x, const at::Tensor& inject) const;
};

/// demucs.hdemucs.HDecLayer.
struct DecoderLayer {
  LayerSpec spec;
  int pad = 0;
  Conv conv_tr, rewrite;
  GroupNorm norm1, norm2;
  std::optional<DConv> dconv;
  void load(WeightSource& w, const std::string& prefix, const LayerSpec& spec_);
  /// Returns the output and the input of the final transposed convolution.
  std::pair<at::Tensor, at::Tensor> forward(at::Tensor x, const at::Tensor& skip, std::int64_t length) const;
};

/// Applies `dconv` to a frequency layer's (B, C, F, T) by folding F into the batch.
at::Tensor apply_dconv(const DConv& dconv, const at::Tensor& y, bool freq);

}  // namespace ferry::models::demucs
