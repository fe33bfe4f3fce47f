// SPDX-License-Identifier: MIT
// Knots and slope jumps of a univariate net, and the function-space quantities built on them.
#include <relustab/analysis/function_space.h>

#include <relustab/core/error.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace relustab {

std::vector<Knot> knots(const ShallowReluNet& net) {
  require_relu(net, "knots");
  require(net.input_dim() == 1, "knots: expected a univariate net (input_dim 1), got input_dim " +
                                    std::to_string(net.input_dim()));
  require(net.theta().allFinite(), "knots: the net's parameters must be finite");
  const auto w1 = net.W1().col(0);
  const auto b1 = net.b1();
  const auto w2 = net.w2();
  std::vector<Knot> per_neuron;
  per_neuron.reserve(static_cast<size_t>(net.width()));
  for (Index i = 0; i < net.width(); ++i) {
    if (w1[i] == 0.0) continue;  // a constant neuron: f' does not jump anywhere
    per_neuron.push_back({-b1[i] / w1[i], w2[i] * std::abs(w1[i])});
  }
  // Stable, so the jumps at a shared knot are summed in neuron order: the result does not depend on
  // the sort implementation.
  std::stable_sort(per_neuron.begin(), per_neuron.end(),
                   [](const Knot& a, const Knot& b) { return a.location < b.location; });
  std::vector<Knot> merged;
  for (const Knot& knot : per_neuron) {
    if (!merged.empty() && merged.back().location == knot.location) {
      merged.back().slope_jump += knot.slope_jump;
    } else {
      merged.push_back(knot);
    }
  }
  return merged;
}

Index count_knots_in_range(const std::vector<Knot>& knots, double x_min, double x_max) {
  // knots() has already merged coinciding knots, so each entry is one distinct location.
  return std::count_if(knots.begin(), knots.end(), [&](const Knot& knot) {
    return knot.location >= x_min && knot.location <= x_max && knot.slope_jump != 0.0;
  });
}

double weighted_tv(const ShallowReluNet& net, const EmpiricalWeight& g) {
  double total = 0.0;
  // g is 0 outside [x_min, x_max], which drops the knots outside the data range.
  for (const Knot& knot : knots(net)) total += std::abs(knot.slope_jump) * g(knot.location);
  return total;
}

Vec smoothed_abs_second_derivative(const ShallowReluNet& net, std::span<const double> grid,
                                   double bandwidth) {
  require(std::isfinite(bandwidth) && bandwidth > 0.0,
          "bandwidth: expected a finite number > 0, got " + std::to_string(bandwidth));
  const std::vector<Knot> merged = knots(net);
  const double normalisation = 1.0 / (bandwidth * std::sqrt(2.0 * std::numbers::pi));
  Vec out(static_cast<Index>(grid.size()));
  for (size_t m = 0; m < grid.size(); ++m) {
    double value = 0.0;
    for (const Knot& knot : merged) {
      const double z = (grid[m] - knot.location) / bandwidth;
      value += std::abs(knot.slope_jump) * std::exp(-0.5 * z * z);
    }
    out[static_cast<Index>(m)] = normalisation * value;
  }
  return out;
}

}  // namespace relustab
