// SPDX-License-Identifier: MIT
// Knot statistics and interval MSE against brute-force loops, numpy's quantile values and closed forms.
#include "test_util.h"

#include <relustab/analysis/function_space.h>
#include <relustab/analysis/knot_stats.h>
#include <relustab/core/error.h>
#include <relustab/data/generators.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace relustab {
namespace {

/// Sums of the same squares in two orders (a few hundred terms of size O(1)).
constexpr double kKnotStatsRoundingTol = 1e-13;

/// A univariate net with knots in [-1.5, 1.5] and coefficients |w1 w2| spread over six decades.
ShallowReluNet spread_net(Rng& rng, Index k) {
  ShallowReluNet net(1, k);
  for (Index i = 0; i < k; ++i) {
    const double w1 = (rng.uniform() < 0.5 ? -1.0 : 1.0) * rng.uniform(0.5, 2.0);
    net.W1()(i, 0) = w1;
    net.b1()[i] = -w1 * rng.uniform(-1.5, 1.5);
    net.w2()[i] = rng.normal() * std::pow(10.0, -rng.uniform(0.0, 6.0));
  }
  return net;
}

TEST(KnotStatistics, MatchBruteForceLoops) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rng rng(seed);
    ShallowReluNet net = spread_net(rng, 60);
    net.W1()(5, 0) = 0.0;  // a constant neuron: no knot
    std::vector<double> inputs(25);
    for (double& x : inputs) x = rng.uniform(-1.0, 1.0);
    const double tau = 1e-3;
    const KnotStatistics stats = knot_statistics(net, inputs, tau);

    // Brute force: the largest coefficient, then every neuron, then every input.
    double largest = 0.0;
    for (Index i = 0; i < net.width(); ++i) {
      largest = std::max(largest, std::abs(net.w2()[i]) * std::abs(net.W1()(i, 0)));
    }
    const double lo = *std::min_element(inputs.begin(), inputs.end());
    const double hi = *std::max_element(inputs.begin(), inputs.end());
    std::vector<double> locations, distances;
    for (Index i = 0; i < net.width(); ++i) {
      const double w1 = net.W1()(i, 0);
      if (w1 == 0.0) continue;
      const double t = -net.b1()[i] / w1;
      if (std::abs(net.w2()[i]) * std::abs(w1) <= tau * largest || t < lo || t > hi) continue;
      locations.push_back(t);
      double nearest = std::numeric_limits<double>::infinity();
      for (double x : inputs) nearest = std::min(nearest, std::abs(t - x));
      distances.push_back(nearest);
    }
    std::sort(locations.begin(), locations.end());
    std::sort(distances.begin(), distances.end());
    ASSERT_GT(locations.size(), 5u);
    ASSERT_LT(locations.size(), 55u);  // the threshold and the range both removed some
    EXPECT_EQ(stats.active_neurons, static_cast<Index>(locations.size()));
    EXPECT_EQ(stats.locations, locations);
    EXPECT_EQ(stats.distances, distances);
  }
}

TEST(KnotStatistics, ThresholdIsStrictAndRangeInclusive) {
  ShallowReluNet net(1, 3);
  net.W1() << 1.0, 1.0, 2.0;
  net.b1() << 0.0, -1.0, -4.0;  // knots 0, 1 (= max input), 2 (outside)
  net.w2() << 0.125, 1.0, 4.0;  // c = 1/8, 1, 8 (powers of two: tau * max is exact)
  const std::vector<double> inputs = {-1.0, 0.25, 1.0};
  const KnotStatistics s = knot_statistics(net, inputs, 1.0 / 128.0);  // tau * max = 1/16
  EXPECT_EQ(s.locations, (std::vector<double>{0.0, 1.0}));
  EXPECT_EQ(s.distances, (std::vector<double>{0.0, 0.25}));
  // tau * max = 1/8 = c_0 exactly: "c > tau max" drops it.
  EXPECT_EQ(knot_statistics(net, inputs, 1.0 / 64.0).locations, (std::vector<double>{1.0}));
  ShallowReluNet zero(1, 2);
  EXPECT_EQ(knot_statistics(zero, inputs).active_neurons, 0);  // no knot at all
}

TEST(Quantile, MatchesNumpyLinear) {
  // numpy.quantile([4, 1, 3, 2], q) with the default method 'linear'.
  const std::vector<double> values = {4.0, 1.0, 3.0, 2.0};
  EXPECT_DOUBLE_EQ(quantile(values, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile(values, 0.1), 1.3);
  EXPECT_DOUBLE_EQ(quantile(values, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile(values, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile(values, 0.9), 3.7);
  EXPECT_DOUBLE_EQ(quantile(values, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile(std::vector<double>{7.0}, 0.3), 7.0);
  EXPECT_TRUE(std::isnan(quantile(std::vector<double>{}, 0.5)));
  EXPECT_THROW((void)quantile(values, 1.5), InputError);
  EXPECT_THROW((void)quantile(values, -0.1), InputError);
}

TEST(MseOnInterval, MatchesABruteForceGridAndAClosedForm) {
  Rng rng(3);
  const ShallowReluNet net = test::random_net(1, 7, rng);
  Rng unused(0);
  const Target sin3 = parse_target("sin3", 1, unused);
  const double a = -0.8, b = 1.3;
  const Index points = 301;
  double sum = 0.0;
  for (Index g = 0; g < points; ++g) {
    const double x = a + (b - a) * static_cast<double>(g) / static_cast<double>(points - 1);
    Vec at(1);
    at << x;
    const double r = test::brute_force_output(net, at) - std::sin(3.0 * x);
    sum += r * r;
  }
  const double expected = sum / static_cast<double>(points);
  EXPECT_NEAR(mse_on_interval(net, sin3, a, b, points), expected, kKnotStatsRoundingTol * expected);

  // f = 0 against f0(x) = x on [0, 1] with N points: mean of (g / (N - 1))^2 = (2N - 1) / (6 (N - 1)).
  const ShallowReluNet zero(1, 3);
  const Target linear = parse_target("linear", 1, unused);
  for (Index n : {2, 3, 11, 2001}) {
    const double closed = (2.0 * static_cast<double>(n) - 1.0) / (6.0 * static_cast<double>(n - 1));
    EXPECT_NEAR(mse_on_interval(zero, linear, 0.0, 1.0, n), closed, kKnotStatsRoundingTol) << n;
  }
}

TEST(MseOnInterval, StrictInteriorAndBadInput) {
  const Interval interior = strict_interior(-1.0, 3.0, 0.1);
  EXPECT_DOUBLE_EQ(interior.lo, -0.6);
  EXPECT_DOUBLE_EQ(interior.hi, 2.6);
  const Interval whole = strict_interior(-1.0, 3.0, 0.0);
  EXPECT_EQ(whole.lo, -1.0);
  EXPECT_EQ(whole.hi, 3.0);
  EXPECT_THROW((void)strict_interior(-1.0, 3.0, 0.5), InputError);
  EXPECT_THROW((void)strict_interior(-1.0, 3.0, -0.1), InputError);
  EXPECT_THROW((void)strict_interior(1.0, 1.0, 0.1), InputError);

  Rng unused(0);
  const Target sin3 = parse_target("sin3", 1, unused);
  const ShallowReluNet net(1, 2);
  EXPECT_THROW((void)mse_on_interval(net, sin3, 0.0, 1.0, 1), InputError);
  EXPECT_THROW((void)mse_on_interval(net, sin3, 1.0, 0.0, 10), InputError);
  EXPECT_THROW((void)mse_on_interval(ShallowReluNet(2, 2), sin3, 0.0, 1.0, 10), InputError);
  const std::vector<double> inputs = {0.0, 1.0};
  EXPECT_THROW((void)knot_statistics(ShallowReluNet(2, 2), inputs), InputError);
  EXPECT_THROW((void)knot_statistics(net, std::vector<double>{}), InputError);
}

TEST(UniformKnotDistance, QuantilesMatchMonteCarlo) {
  Rng rng(41);
  std::vector<double> inputs(17);
  for (double& x : inputs) x = rng.uniform(-1.0, 1.0);
  const double lo = *std::min_element(inputs.begin(), inputs.end());
  const double hi = *std::max_element(inputs.begin(), inputs.end());
  // Oracle: 200 000 knots uniform on [lo, hi], distance to the nearest input by a brute-force loop.
  std::vector<double> distances(200000);
  Rng draws(42);
  for (double& d : distances) {
    const double t = draws.uniform(lo, hi);
    d = std::numeric_limits<double>::infinity();
    for (const double x : inputs) d = std::min(d, std::abs(t - x));
  }
  std::vector<double> sorted = inputs;
  std::sort(sorted.begin(), sorted.end());
  for (const double p : {0.1, 0.5, 0.9}) {
    SCOPED_TRACE(p);
    const double q = uniform_knot_distance_quantile(inputs, p);
    // The sampling error of an empirical quantile is sqrt(p (1 - p) / N) / density(q), and the
    // density of the distance at q is 2 #{gaps > 2q} / (hi - lo): allow five standard errors.
    int wide_gaps = 0;
    for (std::size_t i = 1; i < sorted.size(); ++i) wide_gaps += sorted[i] - sorted[i - 1] > 2 * q;
    const double density = 2.0 * wide_gaps / (hi - lo);
    const double tolerance =
        5.0 * std::sqrt(p * (1 - p) / static_cast<double>(distances.size())) / density;
    EXPECT_NEAR(q, quantile(distances, p), tolerance);
  }
  // Evenly spaced inputs with spacing h: the distance is uniform on [0, h/2], so its median is h/4.
  const std::vector<double> grid{0.0, 0.5, 1.0, 1.5, 2.0};
  EXPECT_NEAR(uniform_knot_distance_quantile(grid, 0.5), 0.125, 1e-14);
  EXPECT_NEAR(uniform_knot_distance_quantile(grid, 1.0), 0.25, 1e-14);
  EXPECT_EQ(uniform_knot_distance_quantile(std::vector<double>{3.0, 3.0}, 0.5), 0.0);
  EXPECT_THROW(uniform_knot_distance_quantile(grid, 1.5), InputError);
  EXPECT_THROW(uniform_knot_distance_quantile(std::vector<double>{}, 0.5), InputError);
}

TEST(FewestCarrying, MatchesBruteForceOverAllSubsets) {
  Rng rng(43);
  for (int trial = 0; trial < 40; ++trial) {
    const int m = 1 + trial % 9;
    std::vector<double> masses(static_cast<std::size_t>(m));
    for (double& v : masses) v = rng.uniform() < 0.2 ? 0.0 : std::pow(10.0, rng.uniform(-3.0, 1.0));
    const double fraction = rng.uniform(0.05, 1.0);
    double total = 0.0;
    for (const double v : masses) total += v;
    // Brute force: the smallest subset whose sum reaches the fraction of the total.
    int best = total > 0.0 ? m : 0;
    for (unsigned subset = 0; subset < (1u << m) && total > 0.0; ++subset) {
      double sum = 0.0;
      int size = 0;
      for (int i = 0; i < m; ++i) {
        if (subset & (1u << i)) {
          sum += masses[static_cast<std::size_t>(i)];
          ++size;
        }
      }
      if (sum >= fraction * total * (1 + 1e-15)) best = std::min(best, size);
    }
    EXPECT_EQ(fewest_carrying(masses, fraction), best) << "trial " << trial;
  }
  EXPECT_EQ(fewest_carrying(std::vector<double>{0.0, 0.0}, 0.9), 0);
  EXPECT_THROW(fewest_carrying(std::vector<double>{1.0, -1.0}, 0.9), InputError);
  EXPECT_THROW(fewest_carrying(std::vector<double>{1.0}, 0.0), InputError);
}

TEST(EffectiveKnots, CountTheKnotsThatCarryTheCurvature) {
  // Four knots inside [-1, 1] with slope jumps 1, 1, 1e-3, 1e-3 (two neurons merged at 0.5) and
  // one outside: 90% of int |f''| over the range needs the two big knots.
  ShallowReluNet net(1, 6);
  const double knots_at[] = {-0.5, 0.0, 0.5, 0.5, 0.25, 3.0};
  const double jumps[] = {1.0, -1.0, 0.4, 0.6, 1e-3, 5.0};
  for (Index i = 0; i < 6; ++i) {
    net.W1()(i, 0) = 1.0;
    net.b1()[i] = -knots_at[i];
    net.w2()[i] = jumps[i];
  }
  std::vector<double> inputs;
  for (int j = 0; j <= 20; ++j) inputs.push_back(-1.0 + 0.1 * j);
  const EffectiveKnots effective = effective_knots(net, inputs);
  // Masses inside the range: |1|, |-1|, |0.4 + 0.6| = 1 (merged), 1e-3: three knots carry 90%.
  EXPECT_EQ(effective.curvature, 3);
  // Weighted by g, which is largest in the middle: g(0) > g(+-0.5), g(0.25); the counts follow the
  // masses |s| g(t) computed here with the library's g (checked against closed forms elsewhere).
  const EmpiricalWeight g(inputs);
  const std::vector<double> weighted{g(-0.5), g(0.0), g(0.5), 1e-3 * g(0.25)};
  EXPECT_EQ(effective.weighted_curvature, fewest_carrying(weighted, kEffectiveKnotFraction));
  EXPECT_EQ(effective_knots(net, inputs, 0.3).curvature, 1);
}

}  // namespace
}  // namespace relustab
