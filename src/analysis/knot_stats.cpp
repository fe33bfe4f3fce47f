// SPDX-License-Identifier: MIT
// Knot locations, their distances to the inputs, quantiles, and the MSE against a clean target.
#include <relustab/analysis/knot_stats.h>

#include <relustab/core/error.h>

#include <algorithm>
#include <cmath>
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
