// SPDX-License-Identifier: MIT
// The multivariate weight g(u, t) and the per-neuron weighted norm against brute-force loops.
#include "analysis/brute_force.h"
#include "analysis/side_weights.h"

#include <relustab/analysis/function_space.h>
#include <relustab/core/error.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace relustab {
namespace {

// The library sums with matrix products, the oracle with loops in another order: a few ulp of the
// O(n) partial sums.
constexpr double kWeightRelativeTolerance = 1e-12;
constexpr double kWeightAbsoluteFloor = 1e-14;

double tolerance(double expected) { return kWeightRelativeTolerance * std::abs(expected) + kWeightAbsoluteFloor; }

RowMatrix random_inputs(Rng& rng, Index n, Index d) {
  RowMatrix X(n, d);
  for (Index j = 0; j < n; ++j) {
    for (Index c = 0; c < d; ++c) X(j, c) = rng.normal(0.3 * static_cast<double>(c), 1.0);
  }
  return X;
}

Vec random_unit_vector(Rng& rng, Index d) {
  Vec u(d);
  for (Index c = 0; c < d; ++c) u[c] = rng.normal();
  return u / u.norm();
}

TEST(MultivariateWeight, MatchesBruteForceLoops) {
  Rng rng(505);
  for (int trial = 0; trial < 40; ++trial) {
    const Index n = 1 + static_cast<Index>(rng.below(40));
    const RowMatrix X = random_inputs(rng, n, 3);
    const Vec u = random_unit_vector(rng, 3);
    const Vec projections = X * u;
    const double lo = projections.minCoeff(), hi = projections.maxCoeff();
    for (double t :
         {lo - 1.0, lo, 0.75 * lo + 0.25 * hi, 0.5 * (lo + hi), 0.1 * lo + 0.9 * hi, hi, hi + 0.5}) {
      EXPECT_NEAR(multivariate_weight(X, u, t), test::brute_multivariate_g(X, u, t),
                  tolerance(test::brute_multivariate_g(X, u, t)))
          << "trial " << trial << " t = " << t;
      EXPECT_NEAR(multivariate_weight_one_sided(X, u, t), test::brute_one_sided(X, u, t),
                  tolerance(test::brute_one_sided(X, u, t)))
          << "trial " << trial << " t = " << t;
    }
  }
}

TEST(MultivariateWeight, PointsOnTheHyperplaneBelongToNeitherSide) {
  // u = e_1 makes u.x = x_1 exact in any summation order, so t = x_j1 puts sample j on the plane.
  Rng rng(606);
  const RowMatrix X = random_inputs(rng, 15, 2);
  const Vec u = Vec::Unit(2, 0);
  for (Index j = 0; j < X.rows(); ++j) {
    const double t = X(j, 0);
    EXPECT_NEAR(multivariate_weight(X, u, t), test::brute_multivariate_g(X, u, t),
                tolerance(test::brute_multivariate_g(X, u, t)));
    // The same value as for the data without sample j, re-weighted by the sample count: p and s
    // are fractions of n, so g~ scales by (n_without / n)^2.
    RowMatrix without(X.rows() - 1, 2);
    for (Index r = 0, w = 0; r < X.rows(); ++r) {
      if (r != j) without.row(w++) = X.row(r);
    }
    const double scale = std::pow(static_cast<double>(X.rows() - 1) / static_cast<double>(X.rows()), 2);
    EXPECT_NEAR(multivariate_weight_one_sided(X, u, t), scale * test::brute_one_sided(without, u, t),
                1e-13);
  }
}

TEST(MultivariateWeight, IsInvariantUnderTheAntipodalMap) {
  Rng rng(707);
  const RowMatrix X = random_inputs(rng, 30, 3);
  for (int trial = 0; trial < 20; ++trial) {
    const Vec u = random_unit_vector(rng, 3);
    const double t = rng.uniform(-1.0, 1.0);
    const double g = multivariate_weight(X, u, t);
    EXPECT_NEAR(multivariate_weight(X, Vec(-u), -t), g, tolerance(g));
    // g is the smaller of the two one-sided weights.
    EXPECT_NEAR(
        g,
        std::min(multivariate_weight_one_sided(X, u, t), multivariate_weight_one_sided(X, Vec(-u), -t)),
        tolerance(g));
    EXPECT_GT(g, 0.0);
  }
}

TEST(MultivariateWeight, ReducesToTheEmpiricalWeightInOneDimension) {
  Rng rng(808);
  const std::vector<double> x = test::random_inputs(rng, 25, -1.0, 2.0);
  const RowMatrix X = test::column(x);
  const EmpiricalWeight g(x);
  std::vector<double> points = x;  // data points, where both sides exclude the point
  for (double t : {-3.0, -0.5, 0.0, 0.3, 1.1, 1.9, 4.0}) points.push_back(t);
  const Vec plus = Vec::Constant(1, 1.0), minus = Vec::Constant(1, -1.0);
  for (double t : points) {
    // The [x_min, x_max] cut of the 1-D g comes out of empty sides here.
    EXPECT_NEAR(multivariate_weight(X, plus, t), g(t), tolerance(g(t))) << "t = " << t;
    EXPECT_NEAR(multivariate_weight_one_sided(X, plus, t), g.g_plus(t), tolerance(g.g_plus(t)));
    EXPECT_NEAR(multivariate_weight_one_sided(X, minus, -t), g.g_minus(t), tolerance(g.g_minus(t)));
  }
}

TEST(MultivariateWeight, RejectsBadArguments) {
  const RowMatrix X = RowMatrix::Ones(4, 2);
  EXPECT_THROW(multivariate_weight(X, Vec::Ones(3) / std::sqrt(3.0), 0.0), InputError);
  EXPECT_THROW(multivariate_weight(X, Vec::Ones(2), 0.0), InputError);  // not unit
  EXPECT_THROW(multivariate_weight(X, Vec::Unit(2, 0), std::nan("")), InputError);
  EXPECT_THROW(multivariate_weight_one_sided(RowMatrix(0, 2), Vec::Unit(2, 0), 0.0), InputError);
}

/// A net whose hyperplanes pass through the data cloud (b = -w . x_r for a random sample r, shifted).
ShallowReluNet random_net_through_data(Rng& rng, const RowMatrix& X, Index k) {
  const Index d = X.cols();
  ShallowReluNet net(d, k);
  for (Index i = 0; i < k; ++i) {
    const Vec w = random_unit_vector(rng, d) * rng.uniform(0.3, 2.0);
    net.W1().row(i) = w.transpose();
    const Index r = static_cast<Index>(rng.below(static_cast<std::uint64_t>(X.rows())));
    net.b1()[i] = -w.dot(X.row(r).transpose()) + rng.uniform(-0.3, 0.3);
    net.w2()[i] = rng.uniform(-1.5, 1.5);
  }
  net.b2() = rng.normal();
  return net;
}

/// sum_k |v_k| ||w_k|| g(u_k, t_k), u_k = w_k / ||w_k||, t_k = -b_k / ||w_k|| (Nacson et al. 2023).
double brute_weighted_norm(const ShallowReluNet& net, const RowMatrix& X) {
  double total = 0.0;
  for (Index k = 0; k < net.width(); ++k) {
    const Vec w = net.W1().row(k).transpose();
    const double norm = w.norm();
    if (norm == 0.0) continue;
    total +=
        std::abs(net.w2()[k]) * norm * test::brute_multivariate_g(X, w / norm, -net.b1()[k] / norm);
  }
  return total;
}

TEST(WeightedNorm, MatchesBruteForceSumOverNeurons) {
  Rng rng(909);
  for (int trial = 0; trial < 30; ++trial) {
    const Index n = 2 + static_cast<Index>(rng.below(40));
    const RowMatrix X = random_inputs(rng, n, 3);
    ShallowReluNet net = random_net_through_data(rng, X, 1 + static_cast<Index>(rng.below(8)));
    if (trial % 3 == 0) {
      // A constant neuron (w = 0) contributes nothing, even when it is active everywhere.
      net.W1().row(0).setZero();
      net.b1()[0] = 1.0;
    }
    const double expected = brute_weighted_norm(net, X);
    EXPECT_NEAR(weighted_norm(net, X), expected, tolerance(expected)) << "trial " << trial;
  }
}

/// A univariate net with distinct knots in [lo, hi].
ShallowReluNet weight_univariate_net(Rng& rng, Index k, double lo, double hi) {
  ShallowReluNet net(1, k);
  for (Index i = 0; i < k; ++i) {
    const double w1 = (rng.uniform() < 0.5 ? -1.0 : 1.0) * rng.uniform(0.3, 2.0);
    net.W1()(i, 0) = w1;
    net.b1()[i] = -w1 * rng.uniform(lo, hi);
    net.w2()[i] = rng.uniform(-1.5, 1.5);
  }
  return net;
}

TEST(WeightedNorm, EqualsWeightedTvInOneDimensionWithoutSharedKnots) {
  Rng rng(1010);
  for (int trial = 0; trial < 40; ++trial) {
    const std::vector<double> x =
        test::random_inputs(rng, 2 + static_cast<Index>(rng.below(30)), -1.0, 2.0);
    const ShallowReluNet net =
        weight_univariate_net(rng, 1 + static_cast<Index>(rng.below(10)), -1.5, 2.5);
    ASSERT_EQ(static_cast<Index>(knots(net).size()), net.width());  // no shared knots
    const double tv = weighted_tv(net, EmpiricalWeight(x));
    EXPECT_NEAR(weighted_norm(net, test::column(x)), tv, tolerance(tv)) << "trial " << trial;
  }
}

TEST(WeightedNorm, DoesNotDependOnTheNeuronBlocking) {
  // Large n makes the library split the neurons into blocks; force that here with small caps
  // (blocks of 1, 3 and 8 of the 8 neurons, the middle one ending with a partial block).
  Rng rng(1111);
  const RowMatrix X = random_inputs(rng, 50, 3);
  const ShallowReluNet net = random_net_through_data(rng, X, 8);
  const detail::SideWeights whole = detail::neuron_side_weights(net, X);
  for (Index cap : {Index{1}, Index{150}, Index{400}}) {
    const detail::SideWeights blocked = detail::neuron_side_weights(net, X, cap);
    // Matrix products of other widths may round the d = 3 dot products differently (an ulp).
    EXPECT_TRUE(blocked.positive.isApprox(whole.positive, kWeightRelativeTolerance)) << "cap " << cap;
    EXPECT_TRUE(blocked.negative.isApprox(whole.negative, kWeightRelativeTolerance)) << "cap " << cap;
  }
  // And the entries are ||w_k|| g~ of each side (Nacson et al. 2023), by brute force.
  for (Index k = 0; k < net.width(); ++k) {
    const Vec w = net.W1().row(k).transpose();
    const double t = -net.b1()[k] / w.norm();
    const double positive = w.norm() * test::brute_one_sided(X, w / w.norm(), t);
    const double negative = w.norm() * test::brute_one_sided(X, -w / w.norm(), -t);
    EXPECT_NEAR(whole.positive[k], positive, tolerance(positive));
    EXPECT_NEAR(whole.negative[k], negative, tolerance(negative));
  }
}

TEST(WeightedNorm, ExceedsWeightedTvWhenCoincidingNeuronsCancel) {
  // Neurons 0 and 1 share the knot 0.5 with jumps +0.8 and -0.4: the function sees |0.4| there,
  // the implementation |0.8| + |0.4|.
  const std::vector<double> x{-1.0, -0.2, 0.3, 0.9, 1.4, 2.0};
  ShallowReluNet net(1, 3);
  net.W1()(0, 0) = 2.0;
  net.b1()[0] = -1.0;
  net.w2()[0] = 0.4;
  net.W1()(1, 0) = -1.0;
  net.b1()[1] = 0.5;
  net.w2()[1] = -0.4;
  net.W1()(2, 0) = 1.0;
  net.b1()[2] = -1.2;
  net.w2()[2] = 0.3;
  const double g_knot = test::brute_g(x, 0.5);
  const double g_other = test::brute_g(x, 1.2);
  const double tv = weighted_tv(net, EmpiricalWeight(x));
  const double norm = weighted_norm(net, test::column(x));
  EXPECT_NEAR(tv, 0.4 * g_knot + 0.3 * g_other, 1e-14);
  EXPECT_NEAR(norm, 1.2 * g_knot + 0.3 * g_other, 1e-14);
  EXPECT_GT(norm, tv + 0.5 * g_knot);
}

TEST(WeightedNorm, RejectsMismatchedInputs) {
  const ShallowReluNet net(3, 2);
  EXPECT_THROW(weighted_norm(net, RowMatrix::Ones(5, 2)), InputError);
  EXPECT_THROW(weighted_norm(net, RowMatrix(0, 3)), InputError);
}

}  // namespace
}  // namespace relustab
