// SPDX-License-Identifier: MIT
// Minima at kinks: the switching-system modes of Mulayoff et al. 2021 and their stability verdicts.
#pragma once

#include <relustab/analysis/report.h>
#include <relustab/curvature/curvature.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

namespace relustab {

/// A neuron whose pre-activation vanishes at a sample: its knot (hyperplane) sits on that data point.
struct KinkPoint {
  Index neuron = 0;
  Index sample = 0;
  bool operator==(const KinkPoint&) const = default;
};

/// Every (neuron i, sample j) with |W1_i . x_j + b1_i| <= relative_tolerance (|W1_i| . |x_j| +
/// |b1_i|) (so an exactly vanishing pre-activation counts even where that scale is 0), ordered by
/// neuron, then sample. All-zero neurons (W1_i = 0, b1_i = 0: the constant 0) have no kinks. O(k n d).
std::vector<KinkPoint> kink_points(const ShallowReluNet& net, const RowMatrix& X,
                                   double relative_tolerance = kKinkRelativeTolerance);

/// The activation pattern of one mode: as activation_pattern(net, data) (on iff the pre-activation
/// is > 0), except that kink point b is on exactly when mode[b]. Throws InputError if
/// mode.size() != kinks.size() or a kink point is out of range.
ActivationPattern mode_pattern(const ShallowReluNet& net, const Dataset& data,
                               std::span<const KinkPoint> kinks, const std::vector<bool>& mode);

struct KinkOptions {
  double relative_tolerance = kKinkRelativeTolerance;
  /// All 2^p modes are enumerated when p (the number of kink points) is at most this ...
  int max_enumerated_kinks = 12;
  /// ... otherwise this many distinct modes are examined: the relu'(0) = 0 mode, then modes drawn
  /// uniformly from Rng(seed), and every result is then a bound over the sampled modes only.
  Index sampled_modes = 1024;
  std::uint64_t seed = 0x6b696e6b73;
  /// Mode Hessians are dense P x P: larger nets are refused (InputError).
  Index dense_max = 2000;
  /// epsilon of Lemma 2 (the radius of strong stability): the verdict needs lambda_lower > 2/eta +
  /// delta + gamma / epsilon. gamma = 0 at minima (Mulayoff et al. 2021, App. VII), where the default
  /// (infinity: the term is dropped) is the paper's setting.
  double epsilon = std::numeric_limits<double>::infinity();
};

/// One examined mode.
struct ModeSummary {
  std::vector<bool> mode;          ///< on/off per kink point
  double top_eigenvalue = 0.0;     ///< lambda_max(H_m), largest algebraic
  double rayleigh = 0.0;           ///< lambda_m = q^T H_m q for the common vector q
  double residual = 0.0;           ///< ||H_m q - lambda_m q||
  double gradient_norm = 0.0;      ///< ||grad psi_m(theta)||: 0 at a minimum of every mode
};

/// The switching-system analysis (Mulayoff et al. 2021, Definition 2, Lemmas 2, 3,
/// 5 and Theorem 2) at the net's parameters.
struct KinkAnalysis {
  std::vector<KinkPoint> kinks;    ///< the p kink points
  Index kink_neurons = 0;          ///< distinct neurons among them
  Index p_max = 0;                 ///< most kink points at one sample
  bool exhaustive = true;          ///< all 2^p modes examined (else a sample: bounds over it only)
  std::vector<ModeSummary> modes;  ///< examined modes; modes[0] is the relu'(0) = 0 mode
  double lambda_upper = 0.0;       ///< max_m lambda_max(H_m)
  Vec q;                           ///< top unit eigenvector of the mode attaining lambda_upper
  double lambda_lower = 0.0;       ///< min_m q^T H_m q
  double delta = 0.0;              ///< max_m ||H_m q - lambda_m q||
  double gamma = 0.0;              ///< max_m |q^T grad psi_m| (full batch)
  double max_gradient_norm = 0.0;  ///< max_m ||grad psi_m||: Lemma 3 assumes it is 0
  /// Lemma 5 (d = 1; eq. (34)): 2 sqrt(3) C sqrt(lambda_upper) sqrt(p_max / n) with C the largest
  /// |entry| of any mode's tangent features (and at least 1). It bounds max_m ||H_m q - lambda_upper
  /// q|| at interpolating minima (where H_m is the Gauss-Newton matrix of mode m). NaN for d > 1.
  double lemma5_bound = std::numeric_limits<double>::quiet_NaN();

  // With a step size:
  std::optional<double> eta;
  bool lemma3_stable = false;      ///< Lemma 3 (sufficient, GD): lambda_upper <= 2/eta
  bool lemma2_unstable = false;    ///< Lemma 2 (necessary): lambda_lower > 2/eta + delta + gamma/eps
  /// Theorem 2's Delta (thm2_delta of bounds.h, d = 1; NaN otherwise): a strongly stable solution
  /// has weighted TV <= 1/eta - 1/2 + Delta.
  double thm2_delta = std::numeric_limits<double>::quiet_NaN();
};

/// Finds the kink points, builds every mode's Hessian H_m (the exact Hessian of the analytic loss
/// psi_m of that mode: dense_hessian with mode_pattern) and its top eigenpair, and derives the
/// quantities of Lemmas 2, 3 and 5 (see KinkAnalysis). With no kink point there is one mode, the
/// ordinary Hessian, delta = 0 and lambda_lower = lambda_upper. Hessians of different modes differ
/// only in the samples with kinks, so each is the shared rest plus |J| rank-one terms (J = those
/// samples): O(P^2 n) once, then O(P^2 |J| + P^3) per mode. Throws InputError if the data do not
/// match the net or P > options.dense_max.
KinkAnalysis analyze_kinks(const ShallowReluNet& net, const Dataset& data,
                           std::optional<double> eta, const KinkOptions& options = {});

}  // namespace relustab
