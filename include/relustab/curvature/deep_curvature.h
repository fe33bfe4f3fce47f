// SPDX-License-Identifier: MIT
// Loss, gradient and exact curvature (Hessian- and Gauss-Newton-vector products, sharpness) of a
// two-hidden-layer ReLU net: shorthands for the CPU back end ("cpu"), which computes DeepReluNet
// through Backend's interface (Backend::loss_and_grad, curvature, dense_curvature and the sharpness
// drivers of curvature.h take either net type).
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/eigen.h>
#include <relustab/data/dataset.h>
#include <relustab/model/deep_relu.h>

#include <memory>
#include <span>

namespace relustab {

/// Loss L = (1/(2|S|)) sum_{j in S} (f(x_j) - y_j)^2 over the sample indices `rows` (all samples
/// when `rows` is empty); when `grad` is not null it receives dL/dtheta (resized; layout of
/// DeepReluNet) by back-propagation. Samples are summed in blocks whose boundaries depend only on
/// |S| and the blocks' sums added in block order, so the result is bit-identical for any
/// context.threads. Throws InputError if the data do not match the net (dimension, one target per
/// sample, n >= 1) or a row index is out of range.
double deep_loss_and_grad(const DeepReluNet& net, const Dataset& data, std::span<const Index> rows,
                          Vec* grad, const RunContext& context = {});

/// The full-batch curvature operator of L at the current parameters, as a LinearOperator of size
/// net.n_params():
///  - CurvatureKind::Hessian: the exact Hessian-vector product, computed analytically by
///  Pearlmutter's
///    R-operator (forward-mode derivative of the back-propagation pass): H v = (1/n) sum_j
///    [grad f_j (grad f_j . v) + r_j Hess f_j v]. No finite differences.
///  - CurvatureKind::GaussNewton: (1/n) sum_j grad f_j (grad f_j . v) = J^T J v / n.
/// relu'(0) = 0 and relu'' = 0: the products are those of the mode in which every neuron with a
/// zero pre-activation at a sample is off (at a kink the loss is not twice differentiable; away
/// from kinks this is the Hessian). Activations and residuals are computed once here; each apply()
/// is one forward-and-backward pass over the data, deterministic for any context.threads. The
/// operator keeps references to `net` and `data`, which must outlive it.
std::unique_ptr<LinearOperator> deep_curvature(const DeepReluNet& net, const Dataset& data,
                                               CurvatureKind kind, const RunContext& context = {});

/// The dense curvature matrix (P x P), built column by column from deep_curvature's products and
/// then symmetrised as (A + A^T)/2 (the columns agree with the rows to rounding). O(P) operator
/// applications: meant for small nets.
Matrix deep_curvature_matrix(const DeepReluNet& net, const Dataset& data, CurvatureKind kind,
                             const RunContext& context = {});

/// Sharpness: the largest algebraic eigenvalue of the exact loss Hessian, with its residual
/// ||H v - lambda v|| (always measured with the Hessian-vector product) and converged flag. Dense
/// (deep_curvature_matrix + dense_extreme_eigenpair) when net.n_params() <= options.dense_max,
/// otherwise Lanczos with full re-orthogonalisation (options.lanczos, warm start allowed).
EigenResult deep_sharpness(const DeepReluNet& net, const Dataset& data,
                           const SharpnessOptions& options = {}, const RunContext& context = {});
/// Smallest algebraic eigenvalue of the exact loss Hessian, with residual; same solver choice.
EigenResult deep_min_hessian_eigenvalue(const DeepReluNet& net, const Dataset& data,
                                        const SharpnessOptions& options = {},
                                        const RunContext& context = {});
/// Largest eigenvalue of the Gauss-Newton matrix (1/n) sum grad f grad f^T; same solver choice.
EigenResult deep_gn_sharpness(const DeepReluNet& net, const Dataset& data,
                              const SharpnessOptions& options = {}, const RunContext& context = {});

}  // namespace relustab
