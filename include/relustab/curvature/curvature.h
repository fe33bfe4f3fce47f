// SPDX-License-Identifier: MIT
// Exact curvature of the loss of a two-layer net: the dense matrices of a ReLU net by explicit
// formulas, and the sharpness drivers, which take every matrix from the back end (any activation,
// one or two hidden layers).
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/curvature/eigen.h>

namespace relustab {

/// Which neuron counts as active at which sample: n x k, entry (j, i) for neuron i at x_j.
///
/// Where no pre-activation is 0 the pattern is fixed by the signs and the loss is smooth. Where some
/// W1_i . x_j + b1_i = 0 (a knot on a data point) the loss is not twice differentiable, and each
/// choice of on/off for such (neuron, sample) pairs is one mode of the switching system of
/// Mulayoff et al. 2021, Theorem 2: the analytic loss in which neuron i is the linear map z = W1_i . x_j + b1_i (on) or 0 (off)
/// at x_j. The curvature functions below without a pattern use activation_pattern(net, data).
using ActivationPattern = Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The pattern of the relu'(0) = 0 convention: neuron i is on at x_j iff W1_i . x_j + b1_i > 0.
ActivationPattern activation_pattern(const ShallowReluNet& net, const Dataset& data);

/// Tangent features Phi = [grad_theta f(x_1), ..., grad_theta f(x_n)], (n_params x n) (Mulayoff et al. 2021, eqs. 26-28).
Matrix tangent_features(const ShallowReluNet& net, const Dataset& data);
/// Exact dense Hessian of L = 1/(2n) sum r_j^2 in the relu'(0) = 0 mode (Mulayoff et al. 2021, eqs. 26-28). O(P^2 n).
Matrix dense_hessian(const ShallowReluNet& net, const Dataset& data);
/// Gauss-Newton matrix Phi Phi^T / n (P x P).
Matrix gauss_newton_matrix(const ShallowReluNet& net, const Dataset& data);

/// The same three in the mode `pattern` (n x k; see ActivationPattern): gradients, outputs and
/// residuals of the analytic loss in which neuron i at x_j is z_ij = W1_i . x_j + b1_i when
/// pattern(j, i) and 0 otherwise. A pattern that disagrees with a pre-activation's sign away from 0
/// is allowed (it is simply that analytic loss) but is no mode of the net at theta. Throws
/// InputError if the pattern is not n x k.
Matrix tangent_features(const ShallowReluNet& net, const Dataset& data,
                        const ActivationPattern& pattern);
Matrix dense_hessian(const ShallowReluNet& net, const Dataset& data,
                     const ActivationPattern& pattern);
Matrix gauss_newton_matrix(const ShallowReluNet& net, const Dataset& data,
                           const ActivationPattern& pattern);
/// Its n x n Gram form K = Phi^T Phi / n: same non-zero spectrum, cheaper when n < P.
Matrix gram_matrix(const ShallowReluNet& net, const Dataset& data);

// The functions above are closed forms of the ReLU activation: they ignore any back end. The
// drivers below never use them for a back end of another activation (Backend::activation()).

struct SharpnessOptions {
  /// Problems with at most this many parameters (or, for the Gram form, samples) use the dense solver.
  Index dense_max = 400;
  LanczosOptions lanczos;
};

/// Sharpness: largest algebraic eigenvalue of the exact loss Hessian of the back end's net (its own
/// activation), with residual. Up to options.dense_max parameters the dense solver on
/// backend.dense_curvature() (back ends with cheap products try Lanczos first), otherwise Lanczos on
/// the back end's exact Hessian-vector product. The residual is always ||H v - lambda v|| with the
/// back end's operator H.
EigenResult sharpness(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                      const SharpnessOptions& options = {});
/// Smallest algebraic eigenvalue of the exact loss Hessian, with residual.
EigenResult min_hessian_eigenvalue(const Backend& backend, const ShallowReluNet& net,
                                   const Dataset& data, const SharpnessOptions& options = {});
/// Largest eigenvalue of the Gauss-Newton matrix (1/n) sum grad f grad f^T, residual from the back
/// end's operator. ReLU back ends use the Gram form when n <= options.dense_max (the eigenvector
/// returned is then in parameter space: Phi u / ||Phi u||), else Lanczos on the Gauss-Newton
/// operator. Other activations: as sharpness(), on the Gauss-Newton matrix.
EigenResult gn_sharpness(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                         const SharpnessOptions& options = {});

/// The same three for a two-hidden-layer net, by the same code: up to options.dense_max parameters
/// the dense solver on backend.dense_curvature(), otherwise Lanczos on the back end's operator (the
/// Gauss-Newton sharpness too: there is no Gram form). Throws InputError when the back end does not
/// compute two-hidden-layer nets.
EigenResult sharpness(const Backend& backend, const DeepReluNet& net, const Dataset& data,
                      const SharpnessOptions& options = {});
EigenResult min_hessian_eigenvalue(const Backend& backend, const DeepReluNet& net,
                                   const Dataset& data, const SharpnessOptions& options = {});
EigenResult gn_sharpness(const Backend& backend, const DeepReluNet& net, const Dataset& data,
                         const SharpnessOptions& options = {});

}  // namespace relustab
