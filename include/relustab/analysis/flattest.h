// SPDX-License-Identifier: MIT
// The flattest implementation of a net's function: over per-neuron rescalings (any input dimension)
// and over all implementations of the same function (d = 1).
#pragma once

#include <relustab/core/types.h>
#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

#include <limits>
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
  /// per-implementation bound of Mulayoff et al. 2021, Lemma 4, which is D at Z = 1 1^T / n.
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
/// Appendix XI, whose method we could not read: this is our method). For any input
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
/// so the duality gap certifies convergence. Warm start: the balancing formula
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

struct FlattestAllOptions {
  /// Settings of the rescaling step (flattest_implementation), run on every candidate implementation.
  FlattestOptions rescaling;
  /// Certified when the value found is within tol (relative) of the certified lower bound.
  double tol = 1e-3;
  /// Limit on quasi-Newton iterations of the joint search over slope shares and scales, all rounds
  /// together (ours: the L1-like kinks at zero slopes make the search slow in its last digits).
  int max_iter = 20000;
};

/// How one knot t of f (slope jump s) is implemented: s (x - t)_+ split into a right-facing neuron
/// right (x - t)_+ and a left-facing one left (t - x)_+, right + left = s (the left-facing part adds
/// the linear term left (x - t), balanced elsewhere). A share of 0 means no neuron on that side.
struct KnotShare {
  double knot = 0.0;
  double jump = 0.0;
  double right = 0.0;
  double left = 0.0;
};

struct FlattestAllResult {
  /// Gauss-Newton sharpness of `net`, the flattest implementation found (after its own rescaling
  /// step); never above `rescaling_sharpness` (the given net, rescaled, is one of the candidates).
  double sharpness = 0.0;
  /// Certified lower bound on the Gauss-Newton sharpness of every implementation of f, of any width
  /// (the dual bound below); never below Lemma 4's bound 1 + 2 int |f''| g.
  double lower_bound = 0.0;
  /// The flattest over per-neuron rescalings of the given net (flattest_implementation) and its
  /// certified lower bound.
  double rescaling_sharpness = 0.0;
  double rescaling_lower_bound = 0.0;
  /// The rescaling step's certified lower bound for `net` (its own duality gap).
  double net_lower_bound = 0.0;
  /// sharpness - lower_bound <= tol * sharpness: the value is the flattest over all implementations
  /// to within tol.
  bool certified = false;
  /// Neurons of `net` (dead ones included: they shape f outside the data) and how many more than
  /// the given net's width that is (0 when fewer). The paper's Omega(f) keeps the width fixed.
  Index neurons = 0;
  Index extra_neurons = 0;
  /// Knots implemented by a neuron on each side.
  Index split_knots = 0;
  /// Knot and slope of a compensating pair c (x - t0)_+ - c (t0 - x)_+ = c (x - t0) in the
  /// implementation (the last one when there are several; NaN and 0 when it has none).
  double compensation_knot = std::numeric_limits<double>::quiet_NaN();
  double compensation_slope = 0.0;
  /// Per knot of f, in increasing order, how `net` implements it (compensating pairs not included).
  std::vector<KnotShare> knots;
  int iterations = 0;  ///< quasi-Newton iterations of the joint search, all rounds together
  ShallowReluNet net;  ///< the implementation found: the same function as the given net
};

/// The flattest implementation over all implementations of the net's function f (Mulayoff et al.
/// 2021, eq. (29): min lambda_max over every theta implementing f), for input dimension 1: our
/// method. Throws InputError for d != 1 (moving a neuron to its other side leaves a linear term that
/// a ReLU net without a skip connection must rebuild; in d > 1 that takes d-dimensional
/// compensation, not implemented), for data that do not match the net, or with fewer than two
/// distinct inputs.
///
/// Canonical form: f(x) = a + b x + sum_t s_t (x - t)_+ over the distinct knots t of f on the whole
/// line (neurons with the same knot merged; w1 = 0 neurons are constants). Every implementation is
/// a set of neurons c (x - tau)_+ (right-facing) and c (tau - x)_+ (left-facing) plus b2 whose
/// slopes c add up to s_t at each knot and to 0 elsewhere, and whose left-facing slopes add up to
/// -b (the slope of f at -infinity). Its Gauss-Newton matrix (= Hessian at an interpolating
/// minimum) in the n x n Gram form is K = (1/n)[1 1^T + sum_i (c_i^2/b_i A_i + b_i B_i)], b_i > 0
/// the neuron's scale, A_i = (a_i a_i^T) o (x x^T + 1 1^T), B_i = r_i r_i^T, with a_i, r_i the
/// activations and ReLU values of the unit-slope neuron at the data; neurons dead on every sample
/// contribute nothing. Same-knot same-side neurons are best merged (Cauchy-Schwarz), so what is
/// searched per knot is the split of s_t between the two sides, per compensating pair its slope,
/// and per neuron its scale.
///
/// Convexity: K is jointly PSD-convex in (c, b) (c^2/b is), so lambda_max(K) is a convex function
/// of the slopes on the affine set of valid splits, minimised over the scales. We minimise it over
/// candidates = two neurons per knot of f (one per side; for a knot outside the data the side
/// facing away is dead and free) and two compensating pairs at x_min - 1e-9 L and x_max + 1e-9 L
/// (L = x_max - x_min; ours), in variables (slopes on the constraint set, log-scales), by the
/// smoothed lambda_max + L-BFGS method of flattest_implementation. Column generation (ours): after
/// each round the pair at the tau attaining Lambda(Z) (below) at the last dual matrix joins the
/// candidates, up to 5 more rounds, until the gap closes or that tau is already a candidate. So
/// splitting a knot between both sides is searched (it is what the optimum uses to balance the
/// linear term), but the primal only uses cancelling pairs at those taus. The optimum is almost a side
/// assignment (each knot on one side, a few knots split to balance the linear term); the slopes
/// found are rounded (a share below rho |s_t| moved to the other side, rho in {0.2, 0.05, 0.01,
/// 1e-3, 0}, the linear term rebalanced on the most split knot or a compensating pair; ours), each
/// rounded implementation is built as a net and rescaled by flattest_implementation, and the best
/// of these and of the rescaled given net is returned (among values within 1e-6 relative, the one
/// with fewest neurons).
///
/// Certificate: for any PSD Z with trace 1, lambda_max(K) >= <K, Z>, and minimising <K, Z> over the
/// scales gives (1/n)[1^T Z 1 + 2 sum_i |c_i| w_i(Z)], w_i = sqrt(<A_i, Z><B_i, Z>). The minimum of
/// sum |c_i| w_i over every valid set of neurons (any knots, any width) is, by weak LP duality, at
/// least max over |lambda| <= Lambda(Z) of -lambda b + sum_t min(|s_t| w_R(t), |s_t| w_L(t) -
/// lambda s_t), Lambda(Z) = inf over all tau of w_R(tau) + w_L(tau) (a convex 1-d minimum per gap
/// between data points). That bound, at the Z of every smoothing level and candidate, is
/// lower_bound: valid for all implementations, not only the candidates searched. At Z = 1 1^T / n
/// it is at least Lemma 4's bound.
///
/// Valid as the flattest Hessian sharpness only at interpolating minima (elsewhere it is the
/// flattest Gauss-Newton sharpness). Knots are the float64 values -b1_i / w1_i; the net returned
/// reproduces f up to rounding (~1e-15 relative to sum_t |s_t| |x - t|) on the whole line.
FlattestAllResult flattest_over_implementations(const ShallowReluNet& net, const Dataset& data,
                                                const FlattestAllOptions& options = {});

/// The net with neuron i rescaled by alpha_i = scales[i] > 0: (alpha W1_i, alpha b1_i, w2_i / alpha).
/// scales[i] = 0 is allowed only where w2_i = 0 and zeroes W1_i and b1_i. Throws InputError if
/// scales has the wrong length or an entry is negative, not finite, or 0 where w2_i != 0.
ShallowReluNet rescale_neurons(const ShallowReluNet& net, const Vec& scales);

}  // namespace relustab
