// SPDX-License-Identifier: MIT
// Knot locations, their distances to the inputs, quantiles, and the MSE against a clean target.
#include <relustab/analysis/knot_stats.h>

#include <relustab/analysis/function_space.h>
#include <relustab/core/error.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

namespace relustab {

KnotStatistics knot_statistics(const ShallowReluNet& net, std::span<const double> inputs,
                               double tau) {
  require(net.input_dim() == 1, "knot_statistics: expected a univariate net (input_dim 1), got " +
                                    std::to_string(net.input_dim()));
  require(!inputs.empty(), "knot_statistics: expected at least one input");
  require(std::all_of(inputs.begin(), inputs.end(), [](double x) { return std::isfinite(x); }),
          "knot_statistics: inputs must be finite");
  require(tau >= 0.0 && std::isfinite(tau),
          "knot_statistics: tau: expected a finite number >= 0, got " + std::to_string(tau));
  std::vector<double> sorted(inputs.begin(), inputs.end());
  std::sort(sorted.begin(), sorted.end());

  double largest = 0.0;
  for (Index i = 0; i < net.width(); ++i) {
    largest = std::max(largest, std::abs(net.w2()[i] * net.W1()(i, 0)));
  }
  KnotStatistics stats;
  for (Index i = 0; i < net.width(); ++i) {
    const double w1 = net.W1()(i, 0);
    const double c = std::abs(net.w2()[i] * w1);
    if (w1 == 0.0 || !(c > tau * largest)) continue;  // w1 = 0: a constant, no knot
    const double t = -net.b1()[i] / w1;
    if (t < sorted.front() || t > sorted.back()) continue;
    stats.locations.push_back(t);
    // Nearest input: the first input >= t or the one before it.
    const auto above = std::lower_bound(sorted.begin(), sorted.end(), t);
    double distance = std::numeric_limits<double>::infinity();
    if (above != sorted.end()) distance = *above - t;
    if (above != sorted.begin()) distance = std::min(distance, t - *(above - 1));
    stats.distances.push_back(distance);
  }
  std::sort(stats.locations.begin(), stats.locations.end());
  std::sort(stats.distances.begin(), stats.distances.end());
  stats.active_neurons = static_cast<Index>(stats.locations.size());
  return stats;
}

double uniform_knot_distance_quantile(std::span<const double> inputs, double p) {
  require(!inputs.empty(), "uniform_knot_distance_quantile: expected at least one input");
  require(std::all_of(inputs.begin(), inputs.end(), [](double x) { return std::isfinite(x); }),
          "uniform_knot_distance_quantile: inputs must be finite");
  require(p >= 0.0 && p <= 1.0,
          "uniform_knot_distance_quantile: expected 0 <= p <= 1, got " + std::to_string(p));
  std::vector<double> sorted(inputs.begin(), inputs.end());
  std::sort(sorted.begin(), sorted.end());
  const double range = sorted.back() - sorted.front();
  if (!(range > 0.0)) return 0.0;
  std::vector<double> gaps;
  for (std::size_t i = 1; i < sorted.size(); ++i) gaps.push_back(sorted[i] - sorted[i - 1]);
  // The largest distance is half the largest gap; P(distance <= d) grows continuously from 0 to 1.
  const auto below = [&](double d) {
    double beyond = 0.0;
    for (const double gap : gaps) beyond += std::max(gap - 2.0 * d, 0.0);
    return 1.0 - beyond / range;
  };
  double lo = 0.0;
  double hi = 0.5 * *std::max_element(gaps.begin(), gaps.end());
  for (int iteration = 0; iteration < 200 && hi - lo > 1e-15 * hi; ++iteration) {
    const double mid = 0.5 * (lo + hi);
    (below(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

Index fewest_carrying(std::span<const double> masses, double fraction) {
  require(fraction > 0.0 && fraction <= 1.0,
          "fewest_carrying: fraction: expected a number in (0, 1], got " + std::to_string(fraction));
  require(std::all_of(masses.begin(), masses.end(),
                      [](double m) { return std::isfinite(m) && m >= 0.0; }),
          "fewest_carrying: masses must be finite and >= 0");
  std::vector<double> sorted(masses.begin(), masses.end());
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  double total = 0.0;
  for (const double m : sorted) total += m;
  if (!(total > 0.0)) return 0;
  // Summed largest first, the same order as the count, so rounding cannot make a prefix of the
  // sorted masses exceed the total it is compared with.
  double carried = 0.0;
  Index count = 0;
  for (const double m : sorted) {
    if (carried >= fraction * total) break;
    carried += m;
    ++count;
  }
  return count;
}

EffectiveKnots effective_knots(const ShallowReluNet& net, std::span<const double> inputs,
                               double fraction) {
  require(net.input_dim() == 1, "effective_knots: expected a univariate net (input_dim 1), got " +
                                    std::to_string(net.input_dim()));
  const EmpiricalWeight g(inputs);
  std::vector<double> curvature;
  std::vector<double> weighted;
  for (const Knot& knot : knots(net)) {
    if (knot.location < g.x_min() || knot.location > g.x_max()) continue;
    curvature.push_back(std::abs(knot.slope_jump));
    weighted.push_back(std::abs(knot.slope_jump) * g(knot.location));
  }
  return {fewest_carrying(curvature, fraction), fewest_carrying(weighted, fraction)};
}

double quantile(std::span<const double> values, double p) {
  require(p >= 0.0 && p <= 1.0, "quantile: expected 0 <= p <= 1, got " + std::to_string(p));
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  const double position = p * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

Interval strict_interior(double x_min, double x_max, double margin) {
  require(std::isfinite(x_min) && std::isfinite(x_max) && x_min < x_max,
          "strict_interior: expected finite x_min < x_max");
  require(margin >= 0.0 && margin < 0.5,
          "strict_interior: margin: expected 0 <= margin < 0.5, got " + std::to_string(margin));
  const double width = x_max - x_min;
  return {x_min + margin * width, x_max - margin * width};
}

double mse_on_interval(const ShallowReluNet& net, const Target& target, double a, double b,
                       Index points) {
  require(net.input_dim() == 1, "mse_on_interval: expected a univariate net (input_dim 1), got " +
                                    std::to_string(net.input_dim()));
  require(std::isfinite(a) && std::isfinite(b) && a < b,
          "mse_on_interval: expected a finite interval a < b");
  require(points >= 2, "mse_on_interval: points: expected an integer >= 2, got " +
                           std::to_string(points));
  RowMatrix grid(points, 1);
  const double step = (b - a) / static_cast<double>(points - 1);
  for (Index g = 0; g < points; ++g) grid(g, 0) = a + step * static_cast<double>(g);
  grid(points - 1, 0) = b;  // exactly, whatever the rounding of a + (points - 1) step
  const Vec difference = net.predict(grid) - target.evaluate(grid);
  return difference.squaredNorm() / static_cast<double>(points);
}

}  // namespace relustab
