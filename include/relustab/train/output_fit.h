// SPDX-License-Identifier: MIT
// The output layer fitted by least squares with the first layer held fixed: the minimum-norm solution.
#pragma once

#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

namespace relustab {

/// What fit_output_min_norm found.
struct OutputFit {
  Index rank = 0;              ///< numerical rank of the design [relu(X W1^T + b1), 1] (n x (k + 1))
  double residual_norm = 0.0;  ///< ||f(X) - y||_2 after the fit, as the design predicts it
  double norm = 0.0;           ///< ||(w2, b2)||_2 of the solution
};

/// Replaces the output layer (w2, b2) of `net` by the minimum-norm least-squares solution of
///   A (w2, b2) = y,   A = [relu(X W1^T + b1), 1]   (n x (k + 1); relu(0) = 0),
/// the first layer (W1, b1) unchanged. When A has rank n (possible only for k + 1 >= n) the equations
/// hold exactly and the solution is the interpolating output layer of smallest Euclidean norm; it is
/// also where gradient descent on (w2, b2) alone converges from w2 = 0, b2 = 0 (the iterates stay in
/// the row space of A). Otherwise it is the least-squares fit of smallest norm (A^+ y).
///
/// Computed in float64 by a complete orthogonal decomposition of A (Eigen's, rank-revealing QR with
/// its default threshold: a pivot below min(n, k + 1) * machine epsilon times the largest counts
/// as zero), in
/// O(n (k + 1) min(n, k + 1)) time and n (k + 1) memory. Throws InputError if the data and the net
/// disagree in the input dimension, the data are empty, or an input, label or parameter is not finite.
OutputFit fit_output_min_norm(ShallowReluNet& net, const Dataset& data);

}  // namespace relustab
