// SPDX-License-Identifier: MIT
// Knots, slope jumps, weighted TV and smoothed |f''| against explicit formulas and brute force.
#include "analysis/brute_force.h"

#include <relustab/analysis/function_space.h>
#include <relustab/core/error.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace relustab {
namespace {

// Sums of a handful of O(1) terms in different orders.
constexpr double kRoundingTolerance = 1e-13;

/// A univariate net with k neurons: knots uniform in [lo, hi], random orientations and output
/// weights, plus (when asked) neurons that share a knot exactly (copies scaled by powers of 2, which
/// is exact, so -b1/w1 is bitwise the same) and a constant neuron (w1 = 0).
ShallowReluNet random_univariate_net(Rng& rng, Index k, double lo, double hi, bool with_specials) {
  ShallowReluNet net(1, k);
  for (Index i = 0; i < k; ++i) {
    const double w1 = (rng.uniform() < 0.5 ? -1.0 : 1.0) * rng.uniform(0.3, 2.0);
    net.W1()(i, 0) = w1;
    net.b1()[i] = -w1 * rng.uniform(lo, hi);
    net.w2()[i] = rng.uniform(-1.5, 1.5);
  }
  net.b2() = rng.uniform(-1.0, 1.0);
  if (with_specials && k >= 4) {
    net.W1()(1, 0) = -2.0 * net.W1()(0, 0);  // same knot as neuron 0, other orientation
    net.b1()[1] = -2.0 * net.b1()[0];
    net.W1()(2, 0) = 0.5 * net.W1()(0, 0);  // and a third neuron on it
    net.b1()[2] = 0.5 * net.b1()[0];
    net.W1()(3, 0) = 0.0;  // constant neuron
  }
  return net;
}

/// Knots by the explicit formulas of Mulayoff et al. 2021, Sec. 4 (t = -b1/w1, s = w2 |w1|) and an O(k^2) merge.
std::vector<Knot> brute_force_knots(const ShallowReluNet& net) {
  const Index k = net.width();
  std::vector<bool> used(static_cast<size_t>(k), false);
  std::vector<Knot> out;
  for (Index i = 0; i < k; ++i) {
    const double w1 = net.theta()[i], b1 = net.theta()[k + i];
    if (w1 == 0.0 || used[static_cast<size_t>(i)]) continue;
    Knot knot{-b1 / w1, 0.0};
    for (Index j = i; j < k; ++j) {
      const double w1j = net.theta()[j], b1j = net.theta()[k + j], w2j = net.theta()[2 * k + j];
      if (w1j != 0.0 && -b1j / w1j == knot.location) {
        knot.slope_jump += w2j * std::abs(w1j);
        used[static_cast<size_t>(j)] = true;
      }
    }
    out.push_back(knot);
  }
  std::sort(out.begin(), out.end(),
            [](const Knot& a, const Knot& b) { return a.location < b.location; });
  return out;
}

TEST(Knots, MatchExplicitFormulasAndBruteForceMerge) {
  Rng rng(101);
  int trials_with_shared_knots = 0;
  for (int trial = 0; trial < 50; ++trial) {
    const Index k = 1 + static_cast<Index>(rng.below(12));
    const ShallowReluNet net = random_univariate_net(rng, k, -2.0, 2.0, trial % 2 == 0);
    const std::vector<Knot> expected = brute_force_knots(net);
    const std::vector<Knot> actual = knots(net);
    ASSERT_EQ(actual.size(), expected.size()) << "trial " << trial;
    for (size_t m = 0; m < actual.size(); ++m) {
      EXPECT_EQ(actual[m].location, expected[m].location);
      EXPECT_NEAR(actual[m].slope_jump, expected[m].slope_jump, kRoundingTolerance);
      if (m > 0) {
        EXPECT_LT(actual[m - 1].location, actual[m].location);
      }
    }
    const auto non_constant = (net.W1().col(0).array() != 0.0).count();
    if (static_cast<Index>(actual.size()) < non_constant) ++trials_with_shared_knots;
  }
  EXPECT_GT(trials_with_shared_knots, 0);  // the merge was exercised
}

TEST(Knots, SlopeJumpsMatchDifferenceQuotientsOfTheNet) {
  // f is linear between knots, so one-sided difference quotients with a step below the knot spacing
  // are exact up to rounding: error ~ 1e-16 |f| / step, step >= 1e-4 here.
  constexpr double kDifferenceQuotientTolerance = 1e-9;
  Rng rng(202);
  for (int trial = 0; trial < 30; ++trial) {
    const ShallowReluNet net = random_univariate_net(rng, 8, -2.0, 2.0, trial % 2 == 1);
    const std::vector<Knot> list = knots(net);
    for (size_t m = 0; m < list.size(); ++m) {
      double spacing = 1.0;
      if (m > 0) spacing = std::min(spacing, list[m].location - list[m - 1].location);
      if (m + 1 < list.size()) spacing = std::min(spacing, list[m + 1].location - list[m].location);
      if (spacing < 4e-4) continue;  // too close to resolve with a safe step
      const double step = 0.25 * spacing;
      const double t = list[m].location;
      const auto f = [&](double x) { return net(Vec::Constant(1, x)); };
      const double right = (f(t + step) - f(t)) / step;
      const double left = (f(t) - f(t - step)) / step;
      EXPECT_NEAR(right - left, list[m].slope_jump, kDifferenceQuotientTolerance)
          << "trial " << trial << " knot " << t;
    }
  }
}

TEST(Knots, CancellingPairMergesToZeroJump) {
  // w2 relu(w1 x + b1) - w2 relu(-w1 x - b1) = w2 (w1 x + b1): an affine function with no knot.
  ShallowReluNet net(1, 3);
  net.W1()(0, 0) = 1.5;
  net.b1()[0] = -0.75;  // knot at 0.5
  net.w2()[0] = 2.0;
  net.W1()(1, 0) = -1.5;
  net.b1()[1] = 0.75;
  net.w2()[1] = -2.0;
  net.W1()(2, 0) = 1.0;  // an ordinary knot at -1
  net.b1()[2] = 1.0;
  net.w2()[2] = 0.5;
  const std::vector<Knot> list = knots(net);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].location, -1.0);
  EXPECT_EQ(list[0].slope_jump, 0.5);
  EXPECT_EQ(list[1].location, 0.5);
  EXPECT_EQ(list[1].slope_jump, 0.0);
  EXPECT_EQ(count_knots_in_range(list, -2.0, 2.0), 1);

  const std::vector<double> x{-2.0, -1.3, 0.0, 0.4, 0.9, 2.0};
  const EmpiricalWeight g(x);
  // Only the knot at -1 counts: |0.5| g(-1).
  EXPECT_NEAR(weighted_tv(net, g), 0.5 * test::brute_g(x, -1.0), kRoundingTolerance);
}

TEST(Knots, ConstantNeuronsHaveNoKnot) {
  ShallowReluNet net(1, 2);
  net.W1()(0, 0) = 0.0;
  net.b1()[0] = 3.0;
  net.w2()[0] = 1.0;
  net.W1()(1, 0) = -2.0;
  net.b1()[1] = 1.0;  // knot at 0.5, jump 0.25 * 2
  net.w2()[1] = 0.25;
  const std::vector<Knot> list = knots(net);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].location, 0.5);
  EXPECT_EQ(list[0].slope_jump, 0.5);
}

TEST(Knots, CountInRangeIncludesTheEndsAndSkipsZeroJumps) {
  const std::vector<Knot> list{{-3.0, 1.0}, {-1.0, 0.5}, {0.0, 0.0}, {1.0, -2.0}, {4.0, 1.0}};
  EXPECT_EQ(count_knots_in_range(list, -1.0, 1.0), 2);  // -1 and 1; 0 has no jump
  EXPECT_EQ(count_knots_in_range(list, -0.5, 0.5), 0);
  EXPECT_EQ(count_knots_in_range(list, -10.0, 10.0), 4);
  EXPECT_EQ(count_knots_in_range({}, -1.0, 1.0), 0);
}

TEST(Knots, RejectsMultivariateNets) {
  EXPECT_THROW(knots(ShallowReluNet(2, 3)), InputError);
  EXPECT_THROW(smoothed_abs_second_derivative(ShallowReluNet(2, 3), std::vector<double>{0.0}, 1.0),
               InputError);
}

TEST(WeightedTv, MatchesBruteForceKnotsAndWeight) {
  Rng rng(303);
  for (int trial = 0; trial < 40; ++trial) {
    const Index n = 2 + static_cast<Index>(rng.below(30));
    const std::vector<double> x = test::random_inputs(rng, n, -1.0, 1.5);
    // Knots partly outside the data range, where they must not count.
    const ShallowReluNet net = random_univariate_net(rng, 10, -1.5, 2.0, trial % 3 == 0);
    double expected = 0.0;
    for (const Knot& knot : brute_force_knots(net)) {
      expected += std::abs(knot.slope_jump) * test::brute_g(x, knot.location);
    }
    EXPECT_NEAR(weighted_tv(net, EmpiricalWeight(x)), expected, kRoundingTolerance * (1.0 + expected))
        << "trial " << trial;
  }
}

TEST(SmoothedSecondDerivative, IntegratesToTheTotalJump) {
  // Trapezoid rule on a Gaussian sampled at h/20 over +-12 h beyond the knots: the error is
  // exponentially small (far below 1e-12); the tolerance covers summation rounding.
  constexpr double kIntegralTolerance = 1e-10;
  Rng rng(404);
  for (double bandwidth : {0.05, 0.3}) {
    const ShallowReluNet net = random_univariate_net(rng, 9, -1.0, 1.0, true);
    double total_jump = 0.0;
    for (const Knot& knot : brute_force_knots(net)) total_jump += std::abs(knot.slope_jump);
    const double lo = -1.0 - 12.0 * bandwidth, hi = 1.0 + 12.0 * bandwidth;
    const double step = bandwidth / 20.0;
    const auto m = static_cast<size_t>(std::ceil((hi - lo) / step)) + 1;
    std::vector<double> grid(m);
    for (size_t i = 0; i < m; ++i) grid[i] = lo + static_cast<double>(i) * step;
    const Vec values = smoothed_abs_second_derivative(net, grid, bandwidth);
    double integral = 0.0;
    for (size_t i = 0; i + 1 < m; ++i) {
      integral += 0.5 * step * (values[static_cast<Index>(i)] + values[static_cast<Index>(i + 1)]);
    }
    EXPECT_NEAR(integral, total_jump, kIntegralTolerance * total_jump) << "h = " << bandwidth;
    // At a lone knot far from the others the peak is |s| / (h sqrt(2 pi)).
    ShallowReluNet single(1, 1);
    single.W1()(0, 0) = -2.0;
    single.b1()[0] = 1.0;
    single.w2()[0] = 0.75;
    const Vec peak = smoothed_abs_second_derivative(single, std::vector<double>{0.5}, bandwidth);
    EXPECT_NEAR(peak[0], 1.5 / (bandwidth * std::sqrt(2.0 * std::numbers::pi)), 1e-13 / bandwidth);
  }
}

TEST(SmoothedSecondDerivative, CancellingNeuronsLeaveNothing) {
  ShallowReluNet net(1, 2);
  net.W1()(0, 0) = 1.0;
  net.b1()[0] = -0.25;
  net.w2()[0] = 1.0;
  net.W1()(1, 0) = 1.0;
  net.b1()[1] = -0.25;
  net.w2()[1] = -1.0;
  const Vec values = smoothed_abs_second_derivative(net, std::vector<double>{0.0, 0.25, 0.5}, 0.1);
  EXPECT_EQ(values.cwiseAbs().maxCoeff(), 0.0);
}

TEST(SmoothedSecondDerivative, RejectsNonPositiveBandwidth) {
  const ShallowReluNet net(1, 2);
  const std::vector<double> grid{0.0};
  EXPECT_THROW(smoothed_abs_second_derivative(net, grid, 0.0), InputError);
  EXPECT_THROW(smoothed_abs_second_derivative(net, grid, -0.1), InputError);
  EXPECT_THROW(smoothed_abs_second_derivative(net, grid, std::nan("")), InputError);
}

}  // namespace
}  // namespace relustab
