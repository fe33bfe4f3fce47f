// SPDX-License-Identifier: MIT
// Exact curvature of the loss of a two-layer ReLU net: dense matrices for small nets and sharpness.
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/curvature/eigen.h>

namespace relustab {

/// Tangent features Phi = [grad_theta f(x_1), ..., grad_theta f(x_n)], (n_params x n) (SPEC.md 1.2).
Matrix tangent_features(const ShallowReluNet& net, const Dataset& data);
/// Exact dense Hessian of L = 1/(2n) sum r_j^2 in the relu'(0) = 0 mode (SPEC.md 1.2). O(P^2 n).
Matrix dense_hessian(const ShallowReluNet& net, const Dataset& data);
/// Gauss-Newton matrix Phi Phi^T / n (P x P).
Matrix gauss_newton_matrix(const ShallowReluNet& net, const Dataset& data);
/// Its n x n Gram form K = Phi^T Phi / n: same non-zero spectrum, cheaper when n < P.
Matrix gram_matrix(const ShallowReluNet& net, const Dataset& data);

struct SharpnessOptions {
  /// Problems with at most this many parameters (or, for the Gram form, samples) use the dense solver.
  Index dense_max = 400;
  LanczosOptions lanczos;
};

/// Sharpness: largest algebraic eigenvalue of the exact loss Hessian, with residual. Dense below
/// options.dense_max parameters, otherwise Lanczos on the back end's exact Hessian-vector product.
EigenResult sharpness(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                      const SharpnessOptions& options = {});
/// Smallest algebraic eigenvalue of the exact loss Hessian, with residual.
EigenResult min_hessian_eigenvalue(const Backend& backend, const ShallowReluNet& net,
                                   const Dataset& data, const SharpnessOptions& options = {});
/// Largest eigenvalue of the Gauss-Newton matrix (1/n) sum grad f grad f^T. Uses the Gram form when
/// n <= options.dense_max (the eigenvector returned is then in parameter space: Phi u / ||Phi u||),
/// else Lanczos on the Gauss-Newton operator.
EigenResult gn_sharpness(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                         const SharpnessOptions& options = {});

}  // namespace relustab
