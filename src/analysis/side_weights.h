// SPDX-License-Identifier: MIT
// Internal: the one-sided weights g~ of many hyperplanes (neurons) over one data set, in blocks.
#pragma once

#include <relustab/core/types.h>
#include <relustab/model/shallow_relu.h>

namespace relustab::detail {

/// One-sided weights of a set of hyperplanes, one entry per hyperplane.
struct SideWeights {
  Vec positive;  ///< over {z > 0}
  Vec negative;  ///< over {z < 0}
};

/// For each column c of `pre` (values z_jc = a (u.x_j - t) of one hyperplane at the rows of X, with a
/// scale a > 0): positive_c = p * (1/n) sum_j (z_jc)_+ * sqrt(1 + ||mean of x_j over z_jc > 0||^2) with
/// p = #{z_jc > 0} / n, i.e. a * g~(u, t) (Nacson et al. 2023, Thm 1); negative_c the same over z_jc < 0 with
/// (-z_jc)_+, i.e. a * g~(-u, -t). An empty side gives 0. Rows with z_jc = 0 are on neither side.
SideWeights side_weights(const RowMatrix& X, const Matrix& pre);

/// Cap on n x (neurons per block) entries of the per-block pre-activation and mask matrices (32 MB
/// each): bounded memory for large n, blocks wide enough (~70 neurons at n = 60000) for the matrix
/// products to run near full speed.
inline constexpr Index kMaxBlockEntries = Index{1} << 22;

/// side_weights of every neuron of `net` with z_jk = W1_k . x_j + b1_k (so a = ||w_k||): entry k is
/// ||w_k|| g~ of neuron k's active side (positive) and of the opposite side (negative). Neurons with
/// w_k = 0 get 0 on both sides (no hyperplane). Requires X.cols() == net.input_dim(). O(K n d),
/// working memory about 4 max_block_entries doubles (at least one neuron per block).
SideWeights neuron_side_weights(const ShallowReluNet& net, const RowMatrix& X,
                                Index max_block_entries = kMaxBlockEntries);

}  // namespace relustab::detail
