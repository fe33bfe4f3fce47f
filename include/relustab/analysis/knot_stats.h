// SPDX-License-Identifier: MIT
// Statistics of a univariate net's knots (Qiao et al. 2024 experiments) and MSE on an interval.
#pragma once

#include <relustab/core/types.h>
#include <relustab/data/generators.h>
#include <relustab/model/shallow_relu.h>

#include <span>
#include <vector>

namespace relustab {

/// Coefficient threshold tau of Qiao et al. 2024 (our choice; the paper's is not published).
inline constexpr double kActiveCoefficientThreshold = 1e-3;

/// The active knots of a univariate net (Qiao et al. 2024, toolkit definitions): neuron i is active when
/// its coefficient c_i = |w2_i w1_i| (the slope jump) exceeds tau * max_l c_l and its knot
/// t_i = -b1_i / w1_i lies in [x_min, x_max] of the inputs. Per neuron, not merged.
struct KnotStatistics {
  Index active_neurons = 0;
  std::vector<double> locations;  ///< active knots t_i, ascending
  /// For each active knot, min_j |t_i - x_j| over the inputs; ascending (not aligned with
  /// `locations`).
  std::vector<double> distances;
};

/// Throws InputError if the net is not univariate, inputs is empty or not finite, or tau < 0.
/// O((n + k) log n).
KnotStatistics knot_statistics(const ShallowReluNet& net, std::span<const double> inputs,
                               double tau = kActiveCoefficientThreshold);

/// The p-quantile of the distance from a knot placed uniformly at random in [x_min, x_max] to the
/// nearest input: the reference for KnotStatistics::distances ("are the knots on the data points
/// more than chance would put them?"). With gaps L_i between consecutive sorted inputs,
/// P(distance > d) = sum_i max(L_i - 2 d, 0) / (x_max - x_min); solved for d by bisection to
/// rounding. 0 when all inputs coincide. Throws InputError if inputs is empty or not finite, or p is
/// outside [0, 1].
double uniform_knot_distance_quantile(std::span<const double> inputs, double p);

/// Fraction of the curvature that the effective knot counts keep (ours: the papers count knots
/// without a threshold, which counts tiny ones).
inline constexpr double kEffectiveKnotFraction = 0.9;

/// The fewest of `masses` (non-negative) whose sum reaches `fraction` of their total: the largest
/// ones first. 0 when the total is 0. Throws InputError for a negative or non-finite mass or a
/// fraction outside (0, 1].
Index fewest_carrying(std::span<const double> masses, double fraction);

/// Effective knot counts of a univariate net on the data range [x_min, x_max] of its inputs: the
/// fewest merged knots inside the range that carry `fraction` of int |f''| over the range (masses
/// |slope jump|), and of the weighted curvature int |f''| g (masses |slope jump| g(t)).
struct EffectiveKnots {
  Index curvature = 0;
  Index weighted_curvature = 0;
};
EffectiveKnots effective_knots(const ShallowReluNet& net, std::span<const double> inputs,
                               double fraction = kEffectiveKnotFraction);

/// The p-quantile (0 <= p <= 1) of `values` by linear interpolation between order statistics
/// (numpy's default "linear" method: position p (m - 1) in the sorted values). NaN if `values` is
/// empty. Throws InputError if p is outside [0, 1].
double quantile(std::span<const double> values, double p);

/// An interval [lo, hi].
struct Interval {
  double lo = 0.0;
  double hi = 0.0;
};

/// The strict interior [x_min + m (x_max - x_min), x_max - m (x_max - x_min)] (Qiao et al. 2024
/// measure the error "strictly inside" the data range). Throws InputError unless x_min < x_max and
/// 0 <= margin < 1/2.
Interval strict_interior(double x_min, double x_max, double margin);

/// Mean of (f(x) - f0(x))^2 over `points` evenly spaced points of [a, b], both ends included (a
/// plain average over the grid, not a trapezoid rule: the end points weigh as much as the others).
/// Throws InputError if the net or target is not univariate, unless a < b are finite and points >= 2.
double mse_on_interval(const ShallowReluNet& net, const Target& target, double a, double b,
                       Index points);

}  // namespace relustab
