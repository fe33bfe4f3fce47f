// SPDX-License-Identifier: MIT
// Statistics of a univariate net's knots (Qiao et al. 2024 experiments) and MSE on an interval.
#pragma once

#include <relustab/core/types.h>
#include <relustab/data/generators.h>
#include <relustab/model/shallow_relu.h>

#include <span>
#include <vector>

namespace relustab {

/// Coefficient threshold tau of SPEC.md 3.4 (our choice; the paper's is not published).
inline constexpr double kActiveCoefficientThreshold = 1e-3;

/// The active knots of a univariate net (SPEC.md 3.4, toolkit definitions): neuron i is active when
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
