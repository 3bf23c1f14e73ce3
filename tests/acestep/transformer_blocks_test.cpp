// The attention kernel shared by the text encoder, the condition encoder and
// the DiT against a plain dense formulation, and the masking properties of
// sliding and causal layers.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "agent/models/acestep/transformer_blocks.hpp"

namespace ferry::acestep {
namespace {

// softmax(q kᵀ scale + mask) v with the key heads repeated for their query
// heads, the whole score matrix at once.
at::Tensor dense_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const KeyMask& mask,
                           double scale) {
  const std::int64_t groups = q.size(1) / k.size(1);
  const at::Tensor keys = k.repeat_interleave(groups, 1);
  const at::Tensor values = v.repeat_interleave(groups, 1);
  at::Tensor scores = at::matmul(q, keys.transpose(-1, -2)) * scale;
  const at::Tensor rows = at::arange(q.size(2)).unsqueeze(1);
  const at::Tensor cols = at::arange(k.size(2)).unsqueeze(0);
  at::Tensor visible = at::ones({q.size(2), k.size(2)}, at::kBool);
  if (mask.band > 0) visible = (rows - cols).abs() <= mask.band;
  if (mask.causal) visible = at::logical_and(visible, cols <= rows);
  at::Tensor full = visible.view({1, 1, q.size(2), k.size(2)});
  if (mask.key_valid.defined()) full = at::logical_and(full, mask.key_valid.view({-1, 1, 1, k.size(2)}));
  scores = scores.masked_fill(at::logical_not(full), -INFINITY);
  return at::matmul(at::softmax(scores, -1), values);
}

struct Case {
  std::int64_t batch, heads, kv_heads, queries, keys, band;
  bool padding;
  std::int64_t budget;
  bool causal = false;
};

TEST(GroupedAttention, EqualsDenseAttentionInEveryBlocking) {
  at::manual_seed(0);
  const std::vector<Case> cases = {
      {1, 4, 2, 25, 25, 0, false, kAttentionScoreBudget},  // one block, full
      {2, 4, 2, 25, 25, 4, false, kAttentionScoreBudget},  // band
      {2, 4, 1, 37, 37, 3, true, 64},                      // band + padding, many small blocks
      {2, 6, 3, 30, 11, 0, true, 50},                      // cross-attention shape, blocks of queries
      {1, 2, 2, 9, 9, 20, false, 7},                       // band wider than the sequence
      {2, 4, 2, 25, 25, 0, false, kAttentionScoreBudget, true},  // causal, one block
      {2, 4, 1, 37, 37, 0, true, 64, true},                      // causal + padding, many blocks
      {1, 4, 2, 30, 30, 4, false, 50, true},                     // causal band
  };
  for (const Case& c : cases) {
    const auto f64 = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor q = at::randn({c.batch, c.heads, c.queries, 8}, f64);
    const at::Tensor k = at::randn({c.batch, c.kv_heads, c.keys, 8}, f64);
    const at::Tensor v = at::randn({c.batch, c.kv_heads, c.keys, 8}, f64);
    KeyMask mask{c.band, {}, c.causal};
    if (c.padding) {
      mask.key_valid = at::ones({c.batch, c.keys}, at::kBool);
      mask.key_valid[c.batch - 1].narrow(0, c.keys - 3, 3).fill_(false);
    }
    const at::Tensor got = grouped_attention(q, k, v, mask, 0.35, c.budget);
    const at::Tensor want = dense_attention(q, k, v, mask, 0.35);
    EXPECT_TRUE(at::allclose(got.to(at::kDouble), want, 1e-6, 1e-6))
        << "heads " << c.heads << "/" << c.kv_heads << ", band " << c.band << ", budget " << c.budget
        << (c.causal ? ", causal" : "");
  }
}

// Attention outputs before and after the keys and values from position
// `redrawn` on are replaced by fresh random ones.
std::pair<at::Tensor, at::Tensor> redraw_keys_from(std::int64_t redrawn, const at::Tensor& q, const at::Tensor& k,
                                                   const at::Tensor& v, const KeyMask& mask, std::int64_t budget) {
  const at::Tensor before = grouped_attention(q, k, v, mask, 0.3, budget);
  const at::Tensor k2 = k.clone(), v2 = v.clone();
  k2.narrow(2, redrawn, k.size(2) - redrawn).normal_();
  v2.narrow(2, redrawn, v.size(2) - redrawn).normal_();
  return {before, grouped_attention(q, k2, v2, mask, 0.3, budget)};
}

TEST(GroupedAttention, KeysOutsideTheBandChangeNothing) {
  at::manual_seed(1);
  const at::Tensor q = at::randn({1, 2, 40, 8});
  const at::Tensor k = at::randn({1, 2, 40, 8});
  const at::Tensor v = at::randn({1, 2, 40, 8});
  // Positions 0..9 see keys up to 14 at most.
  const auto [before, after] = redraw_keys_from(15, q, k, v, KeyMask{5, {}}, 100);
  EXPECT_TRUE(at::equal(before.narrow(2, 0, 10), after.narrow(2, 0, 10)));
  EXPECT_FALSE(at::allclose(before.narrow(2, 10, 30), after.narrow(2, 10, 30)));
}

TEST(GroupedAttention, LaterKeysChangeNothingWhenCausal) {
  at::manual_seed(2);
  const at::Tensor q = at::randn({1, 4, 30, 8});
  const at::Tensor k = at::randn({1, 2, 30, 8});
  const at::Tensor v = at::randn({1, 2, 30, 8});
  const auto [before, after] = redraw_keys_from(12, q, k, v, KeyMask{0, {}, true}, 64);
  EXPECT_TRUE(at::equal(before.narrow(2, 0, 12), after.narrow(2, 0, 12)));
  EXPECT_FALSE(at::allclose(before.narrow(2, 12, 18), after.narrow(2, 12, 18)));
  // The first position sees only itself.
  EXPECT_TRUE(at::allclose(before.narrow(2, 0, 1), v.repeat_interleave(2, 1).narrow(2, 0, 1), 1e-6, 1e-6));
}

TEST(GroupedAttention, QueriesWithNothingVisibleAverageEveryKey) {
  // Upstream's additive mask uses the lowest float, not -inf: a row with
  // every key masked becomes a plain average instead of NaN.
  const at::Tensor q = at::randn({1, 1, 3, 4});
  const at::Tensor k = at::randn({1, 1, 3, 4});
  const at::Tensor v = at::randn({1, 1, 3, 4});
  const at::Tensor out = grouped_attention(q, k, v, KeyMask{0, at::zeros({1, 3}, at::kBool)}, 0.5);
  EXPECT_TRUE(at::allclose(out[0][0][1], v.mean(2)[0][0], 1e-5, 1e-6));
}

TEST(RotaryTableTest, RotatesPairsWithoutChangingTheirLength) {
  const RotaryTable rope = RotaryTable::build(6, 8, 1e6, at::TensorOptions().dtype(at::kFloat));
  const at::Tensor x = at::randn({1, 2, 6, 8});
  const at::Tensor y = rope.apply(x);
  // Position 0 is not rotated.
  EXPECT_TRUE(at::allclose(y.narrow(2, 0, 1), x.narrow(2, 0, 1)));
  // Dimension i pairs with i + 4; each pair keeps its length.
  const auto pair_norm = [](const at::Tensor& t) { return t.narrow(-1, 0, 4).pow(2) + t.narrow(-1, 4, 4).pow(2); };
  EXPECT_TRUE(at::allclose(pair_norm(y), pair_norm(x), 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(y.narrow(2, 1, 5), x.narrow(2, 1, 5)));
}

}  // namespace
}  // namespace ferry::acestep
