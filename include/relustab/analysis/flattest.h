// SPDX-License-Identifier: MIT
// The flattest implementation of a net's function over per-neuron rescalings (SPEC.md 2.5).
#pragma once

#include <relustab/core/types.h>
#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

#include <vector>

namespace relustab {

struct FlattestOptions {
  /// Converged when the duality gap F(beta) - D(Z) <= tol * F(beta) (see flattest_implementation).
  double tol = 1e-9;
  /// Limit on quasi-Newton iterations, over all smoothing levels together.
  int max_iter = 2000;
  /// The eigenproblems are dense, of size min(n, P): larger problems are refused (InputError).
  Index dense_max = 2000;
};

struct FlattestResult {
  /// min over rescalings of the Gauss-Newton sharpness lambda_max((1/n) sum grad f grad f^T): the
  /// value at the returned scales (an upper bound on the minimum, within tol of it when converged).
  double sharpness = 0.0;
  /// A certified lower bound on that minimum (the dual value D(Z)); never below the
  /// per-implementation bound of SPEC.md 1.6, which is D at Z = 1 1^T / n.
  double lower_bound = 0.0;
  /// Gauss-Newton sharpness of the parameters as given (beta = 0) and at the balancing warm start.
  double initial_sharpness = 0.0;
  double warm_start_sharpness = 0.0;
  /// alpha_i = exp(beta_i) per neuron: neuron i becomes (alpha_i W1_i, alpha_i b1_i, w2_i / alpha_i).
  /// 1 for neurons dead on every sample (they contribute nothing and are left alone); 0 for a
  /// neuron with w2_i = 0 that is active somewhere (the infimum is approached as alpha_i -> 0: such a
  /// neuron's W1_i and b1_i are set to 0 in `net`, which leaves f unchanged).
  Vec scales;
  int iterations = 0;
  bool converged = false;
  Index optimised_neurons = 0;  ///< neurons that are active on some sample and have w2_i != 0
  ShallowReluNet net;           ///< the rescaled net: the same function, Gauss-Newton sharpness `sharpness`
};

/// Minimises F(beta) = lambda_max(K(beta)) over per-neuron log-scales beta (Mulayoff et al. 2021,
/// Appendix XI, whose method we could not read: this is our method, SPEC.md 2.5). For any input
/// dimension d the rescaling (W1_i, b1_i, w2_i) -> (a W1_i, a b1_i, w2_i / a), a > 0, leaves f and
/// the activation pattern unchanged and gives
///   K(beta) = (1/n) [ 1 1^T + sum_i ( e^{-2 beta_i} A_i + e^{2 beta_i} B_i ) ],
///   A_i = w2_i^2 D_i (X X^T + 1 1^T) D_i,  B_i = s_i s_i^T,  s_i = (relu(W1_i . x_j + b1_i))_j,
/// D_i = diag of neuron i's activations (relu'(0) = 0), whose non-zero spectrum is that of the
/// Gauss-Newton matrix. F is convex (K is PSD-convex in beta, lambda_max convex and monotone).
///
/// Method: log-sum-exp smoothing F_mu = mu log sum_l exp(lambda_l / mu) (smooth even where the top
/// eigenvalue is multiple, which is typical at the optimum), minimised by L-BFGS with Armijo
/// backtracking, with mu decreased geometrically. Each step yields Z = sum_l p_l u_l u_l^T (the
/// softmax weights of the eigenpairs) and the dual bound D(Z) = min_beta <K(beta), Z>
///   = (1/n) [ 1^T Z 1 + 2 sum_i sqrt(<A_i, Z> <B_i, Z>) ] <= min F,
/// so the duality gap certifies convergence. Warm start: the balancing formula of SPEC.md 2.5,
/// e^{4 beta_i} = <A_i, Z0> / <B_i, Z0> with Z0 = 1 1^T / n (for d = 1: alpha_i^2 = |w2_i|
/// sqrt(1 + mu_i^2) / (|w1_i| Delta_i)). Neurons dead on all data (A_i = B_i = 0) are dropped.
///
/// Valid as the flattest *Hessian* sharpness over rescalings only at interpolating minima, where
/// the Hessian equals the Gauss-Newton matrix; elsewhere it is the flattest Gauss-Newton sharpness.
/// Only rescalings are searched (not permutations, which change nothing, nor splitting or merging
/// of neurons). Works in the n x n Gram form when n <= P, else in parameter space (P x P); each
/// iteration costs one dense symmetric eigendecomposition of that size. Throws InputError if the
/// data do not match the net or min(n, P) > options.dense_max.
FlattestResult flattest_implementation(const ShallowReluNet& net, const Dataset& data,
                                       const FlattestOptions& options = {});

/// The net with neuron i rescaled by alpha_i = scales[i] > 0: (alpha W1_i, alpha b1_i, w2_i / alpha).
/// scales[i] = 0 is allowed only where w2_i = 0 and zeroes W1_i and b1_i. Throws InputError if
/// scales has the wrong length or an entry is negative, not finite, or 0 where w2_i != 0.
ShallowReluNet rescale_neurons(const ShallowReluNet& net, const Vec& scales);

}  // namespace relustab
