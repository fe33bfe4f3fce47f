// SPDX-License-Identifier: MIT
// The empirical weight function g against brute-force loops over eqs (21)-(23).
#include "analysis/brute_force.h"

#include <relustab/analysis/function_space.h>
#include <relustab/core/error.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace relustab {
namespace {

// Both sides sum the same O(n) terms in different orders (sorted prefix sums vs. loops in input
// order): differences are a few ulp of the largest partial sum, far below 1e-12 of g's scale.
constexpr double kRelativeTolerance = 1e-12;
// Absolute floor: g's scale is O(1) for O(1) data; values that are 0 in exact arithmetic stay
// exactly 0 in both computations (empty sides), so this only absorbs rounding near 0.
constexpr double kAbsoluteFloor = 1e-14;

void expect_close(double actual, double expected, const char* what, double t) {
  EXPECT_NEAR(actual, expected, kRelativeTolerance * std::abs(expected) + kAbsoluteFloor)
      << what << " at t = " << t;
}

/// Points to probe: every data point, midpoints of gaps, points just inside gaps, outside the range.
std::vector<double> probe_points(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  std::vector<double> points(x.begin(), x.end());
  for (size_t j = 0; j + 1 < x.size(); ++j) {
    const double gap = x[j + 1] - x[j];
    points.push_back(x[j] + 0.5 * gap);
    points.push_back(x[j] + 0.01 * gap);
    points.push_back(x[j + 1] - 0.01 * gap);
  }
  const double span = x.back() - x.front() + 1.0;
  for (double offset : {1e-9, 0.1, 1.0, 10.0}) {
    points.push_back(x.front() - offset * span);
    points.push_back(x.back() + offset * span);
  }
  return points;
}

void check_against_brute_force(const std::vector<double>& x) {
  const EmpiricalWeight g(x);
  const std::vector<double> points = probe_points(x);
  const Vec batch = g.evaluate(points);
  for (size_t m = 0; m < points.size(); ++m) {
    const double t = points[m];
    expect_close(g(t), test::brute_g(x, t), "g", t);
    expect_close(batch[static_cast<Index>(m)], test::brute_g(x, t), "evaluate", t);
    expect_close(g.g_minus(t), test::brute_g_minus(x, t), "g_minus", t);
    expect_close(g.g_plus(t), test::brute_g_plus(x, t), "g_plus", t);
  }
}

TEST(EmpiricalWeight, MatchesBruteForceForOnePoint) {
  check_against_brute_force({0.7});
  // With one input every t is either outside the range or on the point, where both sides are empty.
  const EmpiricalWeight g(std::vector<double>{0.7});
  EXPECT_EQ(g(0.7), 0.0);
  EXPECT_EQ(g(0.0), 0.0);
  // One-sided weights have no range cut: g_-(t) = (t - 0.7) sqrt(1 + 0.49) for t > 0.7.
  EXPECT_NEAR(g.g_minus(1.7), std::sqrt(1.49), 1e-15);
}

TEST(EmpiricalWeight, MatchesBruteForceForTwoPoints) {
  check_against_brute_force({1.5, -0.5});
  // Hand value at the midpoint t = 0.5: each side holds one point at distance 1, so
  // g_- = (1/2)^2 * 1 * sqrt(1 + 0.25) and g_+ = (1/2)^2 * 1 * sqrt(1 + 2.25).
  const EmpiricalWeight g(std::vector<double>{1.5, -0.5});
  EXPECT_NEAR(g(0.5), 0.25 * std::sqrt(1.25), 1e-15);
}

TEST(EmpiricalWeight, MatchesBruteForceForFiftyRandomPoints) {
  Rng rng(20210601);
  check_against_brute_force(test::random_inputs(rng, 50, -1.3, 2.9));
}

TEST(EmpiricalWeight, MatchesBruteForceWithDuplicatedInputs) {
  check_against_brute_force({0.0, 1.0, 1.0, 2.0, 2.0, 2.0, -1.0, 1.0});
  // At a repeated point all of its copies leave both sides: at t = 1 the sides are {-1, 0} and
  // {2, 2, 2}.
  const std::vector<double> x{0.0, 1.0, 1.0, 2.0, 2.0, 2.0, -1.0, 1.0};
  const EmpiricalWeight g(x);
  const double g_minus = (2.0 / 8) * (2.0 / 8) * 1.5 * std::sqrt(1.0 + 0.25);
  const double g_plus = (3.0 / 8) * (3.0 / 8) * 1.0 * std::sqrt(1.0 + 4.0);
  EXPECT_NEAR(g.g_minus(1.0), g_minus, 1e-15);
  EXPECT_NEAR(g.g_plus(1.0), g_plus, 1e-15);
  EXPECT_NEAR(g(1.0), std::min(g_minus, g_plus), 1e-15);
}

TEST(EmpiricalWeight, IsZeroOutsideTheRangeAndAtItsEnds) {
  Rng rng(7);
  const std::vector<double> x = test::random_inputs(rng, 20, -2.0, 1.0);
  const EmpiricalWeight g(x);
  EXPECT_EQ(g.x_min(), *std::min_element(x.begin(), x.end()));
  EXPECT_EQ(g.x_max(), *std::max_element(x.begin(), x.end()));
  EXPECT_EQ(g(g.x_min()), 0.0);
  EXPECT_EQ(g(g.x_max()), 0.0);
  EXPECT_EQ(g(g.x_min() - 1e-3), 0.0);
  EXPECT_EQ(g(g.x_max() + 1e-3), 0.0);
  EXPECT_EQ(g(-std::numeric_limits<double>::infinity()), 0.0);
  EXPECT_GT(g(0.5 * (g.x_min() + g.x_max())), 0.0);
  EXPECT_TRUE(std::isnan(g(std::numeric_limits<double>::quiet_NaN())));
}

TEST(EmpiricalWeight, OneSidedWeightsAreAffineInsideEachGap) {
  // Mulayoff et al. 2021, eqs. 21-23: between consecutive inputs the sides do not change, so g_-(t) is affine in t.
  Rng rng(11);
  std::vector<double> x = test::random_inputs(rng, 12, 0.0, 4.0);
  const EmpiricalWeight g(x);
  std::sort(x.begin(), x.end());
  for (size_t j = 0; j + 1 < x.size(); ++j) {
    const double a = x[j] + 0.2 * (x[j + 1] - x[j]);
    const double b = x[j] + 0.8 * (x[j + 1] - x[j]);
    const double mid = 0.5 * (a + b);
    EXPECT_NEAR(g.g_minus(mid), 0.5 * (g.g_minus(a) + g.g_minus(b)), 1e-13);
    EXPECT_NEAR(g.g_plus(mid), 0.5 * (g.g_plus(a) + g.g_plus(b)), 1e-13);
  }
}

TEST(EmpiricalWeight, IsNotTranslationInvariant) {
  // The "1 +" under the root comes from the bias derivatives (Mulayoff et al. 2021, eqs. 21-23): shifting the data and t
  // together changes g.
  const std::vector<double> x{-1.0, 0.0, 1.0, 2.0};
  std::vector<double> shifted = x;
  for (double& value : shifted) value += 5.0;
  EXPECT_GT(std::abs(EmpiricalWeight(shifted)(5.5) - EmpiricalWeight(x)(0.5)), 0.1);
}

TEST(EmpiricalWeight, RejectsEmptyAndNonFiniteInputs) {
  EXPECT_THROW(EmpiricalWeight(std::vector<double>{}), InputError);
  EXPECT_THROW(EmpiricalWeight(std::vector<double>{0.0, std::numeric_limits<double>::quiet_NaN()}),
               InputError);
  EXPECT_THROW(EmpiricalWeight(std::vector<double>{std::numeric_limits<double>::infinity()}),
               InputError);
}

}  // namespace
}  // namespace relustab
