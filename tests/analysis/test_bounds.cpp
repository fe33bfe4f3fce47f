// SPDX-License-Identifier: MIT
// The bounds: formulas typed independently, and Lemma 4's chain against a dense Gauss-Newton oracle.
#include "analysis/brute_force.h"

#include <relustab/analysis/bounds.h>
#include <relustab/analysis/function_space.h>
#include <relustab/core/error.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace relustab {
namespace {

// Each link of the chain compares sums that are equal or ordered in exact arithmetic but computed in
// different orders (and lambda_max by an iterative dense solver): 1e-12 relative absorbs that.
constexpr double kChainSlack = 1e-12;

Dataset dataset_from(RowMatrix X) {
  Dataset data;
  data.y = Vec::Zero(X.rows());
  data.X = std::move(X);
  return data;
}

/// A univariate net with knots in [lo, hi]; odd `variant`s add a shared knot (exact copies scaled
/// by powers of two), a cancelling pair and a constant neuron.
ShallowReluNet bounds_univariate_net(Rng& rng, Index k, double lo, double hi, int variant) {
  ShallowReluNet net(1, k);
  for (Index i = 0; i < k; ++i) {
    const double w1 = (rng.uniform() < 0.5 ? -1.0 : 1.0) * rng.uniform(0.2, 2.5);
    net.W1()(i, 0) = w1;
    net.b1()[i] = -w1 * rng.uniform(lo, hi);
    net.w2()[i] = rng.uniform(-2.0, 2.0);
  }
  net.b2() = rng.normal();
  if (variant % 2 == 1 && k >= 5) {
    net.W1()(1, 0) = -2.0 * net.W1()(0, 0);  // shares neuron 0's knot
    net.b1()[1] = -2.0 * net.b1()[0];
    net.W1()(2, 0) = 0.5 * net.W1()(3, 0);  // cancels neuron 3's jump
    net.b1()[2] = 0.5 * net.b1()[3];
    net.w2()[2] = -2.0 * net.w2()[3];
    net.W1()(4, 0) = 0.0;  // constant neuron
    net.b1()[4] = 0.7;
  }
  return net;
}

ShallowReluNet bounds_net_through_data(Rng& rng, const RowMatrix& X, Index k) {
  const Index d = X.cols();
  ShallowReluNet net(d, k);
  for (Index i = 0; i < k; ++i) {
    Vec w(d);
    for (Index c = 0; c < d; ++c) w[c] = rng.normal();
    w *= rng.uniform(0.2, 2.0) / w.norm();
    net.W1().row(i) = w.transpose();
    const Index r = static_cast<Index>(rng.below(static_cast<std::uint64_t>(X.rows())));
    net.b1()[i] = -w.dot(X.row(r).transpose()) + rng.uniform(-0.5, 0.5);
    net.w2()[i] = rng.uniform(-2.0, 2.0);
  }
  net.b2() = rng.normal();
  return net;
}

RowMatrix random_gaussian_inputs(Rng& rng, Index n, Index d) {
  RowMatrix X(n, d);
  for (Index j = 0; j < n; ++j) {
    for (Index c = 0; c < d; ++c) X(j, c) = rng.normal(0.5 - 0.4 * static_cast<double>(c), 1.2);
  }
  return X;
}

TEST(Lemma4Chain, HoldsOnRandomUnivariateNets) {
  // lambda_max(GN) >= 1 + 2 sum |w1 w2| g_side(t) >= 1 + 2 weighted_norm >= 1 + 2 weighted_tv.
  Rng rng(1111);
  for (int trial = 0; trial < 150; ++trial) {
    const Index n = 3 + static_cast<Index>(rng.below(40));
    const std::vector<double> x = test::random_inputs(rng, n, -2.0, 3.0);
    const Dataset data = dataset_from(test::column(x));
    const ShallowReluNet net =
        bounds_univariate_net(rng, 1 + static_cast<Index>(rng.below(10)), -2.5, 3.5, trial);
    const double lambda_max =
        test::gauss_newton_lambda_max(test::explicit_tangent_features(net, data.X));
    const double implementation = per_implementation_bound(net, data);
    const double norm_bound = lemma4_bound(weighted_norm(net, data.X));
    const double tv_bound = lemma4_bound(weighted_tv(net, EmpiricalWeight(x)));
    EXPECT_TRUE(test::at_least(lambda_max, implementation, kChainSlack))
        << "trial " << trial << ": " << lambda_max << " < " << implementation;
    EXPECT_TRUE(test::at_least(implementation, norm_bound, kChainSlack)) << "trial " << trial;
    EXPECT_TRUE(test::at_least(norm_bound, tv_bound, kChainSlack)) << "trial " << trial;
  }
}

TEST(Lemma4Chain, HoldsOnRandomNetsInThreeDimensions) {
  Rng rng(1212);
  for (int trial = 0; trial < 100; ++trial) {
    const Index n = 3 + static_cast<Index>(rng.below(40));
    const Dataset data = dataset_from(random_gaussian_inputs(rng, n, 3));
    ShallowReluNet net = bounds_net_through_data(rng, data.X, 1 + static_cast<Index>(rng.below(8)));
    if (trial % 4 == 0) {
      net.W1().row(0).setZero();  // a constant neuron
      net.b1()[0] = 0.4;
    }
    const double lambda_max =
        test::gauss_newton_lambda_max(test::explicit_tangent_features(net, data.X));
    const double implementation = per_implementation_bound(net, data);
    const double norm_bound = lemma4_bound(weighted_norm(net, data.X));
    EXPECT_TRUE(test::at_least(lambda_max, implementation, kChainSlack))
        << "trial " << trial << ": " << lambda_max << " < " << implementation;
    EXPECT_TRUE(test::at_least(implementation, norm_bound, kChainSlack)) << "trial " << trial;
  }
}

TEST(PerImplementationBound, UsesTheOneSidedWeightOfEachNeuronsActiveSide) {
  // d = 1: 1 + 2 sum_i |w1_i w2_i| g_side(i)(t_i), side x > t_i when w1_i > 0, else x < t_i.
  Rng rng(1414);
  for (int trial = 0; trial < 40; ++trial) {
    const std::vector<double> x =
        test::random_inputs(rng, 2 + static_cast<Index>(rng.below(30)), -1.0, 2.5);
    const ShallowReluNet net =
        bounds_univariate_net(rng, 1 + static_cast<Index>(rng.below(8)), -1.5, 3.0, 0);
    double expected = 1.0;
    for (Index i = 0; i < net.width(); ++i) {
      const double w1 = net.W1()(i, 0), w2 = net.w2()[i], t = -net.b1()[i] / w1;
      const double side = w1 > 0.0 ? test::brute_g_plus(x, t) : test::brute_g_minus(x, t);
      expected += 2.0 * std::abs(w1 * w2) * side;
    }
    EXPECT_NEAR(per_implementation_bound(net, dataset_from(test::column(x))), expected,
                kChainSlack * expected)
        << "trial " << trial;
  }
}

/// Scales each neuron (w, b, v) -> (a w, a b, v / a), which keeps f, so that
/// |v| sqrt(1 + ||E[X | active]||^2) = ||w|| E[dist | active] (the AM-GM equality case of
/// Lemma 4's proof, Mulayoff et al. 2021); statistics by explicit loops. Neurons with an empty active side are left alone.
void balance(ShallowReluNet& net, const RowMatrix& X) {
  const Index n = X.rows(), d = X.cols();
  for (Index i = 0; i < net.width(); ++i) {
    double count = 0.0, pre_sum = 0.0;
    Vec sum = Vec::Zero(d);
    for (Index j = 0; j < n; ++j) {
      const double z = net.W1().row(i).dot(X.row(j)) + net.b1()[i];
      if (z > 0.0) {
        count += 1.0;
        pre_sum += z;
        sum += X.row(j).transpose();
      }
    }
    if (count == 0.0) continue;
    const double w_norm = net.W1().row(i).norm();
    const double mean_distance = pre_sum / count / w_norm;
    const double a = std::sqrt(std::abs(net.w2()[i]) * std::sqrt(1.0 + (sum / count).squaredNorm()) /
                               (w_norm * mean_distance));
    net.W1().row(i) *= a;
    net.b1()[i] *= a;
    net.w2()[i] /= a;
  }
}

TEST(PerImplementationBound, EqualsTheMeanGradientNormAtBalancedNets) {
  // (1/n) ||Phi u||^2 at u = 1/sqrt(n) is ||mean_j grad f(x_j)||^2 = 1 + sum over neurons of
  // v^2 P^2 (1 + ||mu||^2) + ||w||^2 P^2 Delta^2, and AM-GM is an equality at balanced neurons, so
  // the bound equals this Rayleigh quotient there: it is tight for the direction it uses.
  Rng rng(1515);
  for (Index d : {1, 3}) {
    for (int trial = 0; trial < 30; ++trial) {
      const Index n = 2 + static_cast<Index>(rng.below(30));
      const Dataset data = dataset_from(random_gaussian_inputs(rng, n, d));
      ShallowReluNet net = bounds_net_through_data(rng, data.X, 1 + static_cast<Index>(rng.below(8)));
      balance(net, data.X);
      const Matrix phi = test::explicit_tangent_features(net, data.X);
      const double rayleigh = (phi.rowwise().sum() / static_cast<double>(n)).squaredNorm();
      const double bound = per_implementation_bound(net, data);
      EXPECT_NEAR(bound, rayleigh, kChainSlack * rayleigh) << "d " << d << " trial " << trial;
      EXPECT_TRUE(test::at_least(test::gauss_newton_lambda_max(phi), bound, kChainSlack));
    }
  }
}

TEST(PerImplementationBound, ReadsSidesLikeTheCurvatureWhenKnotsSitOnDataPoints) {
  // b1 = -(w1 x_j) makes the pre-activation exactly 0 at x_j, as GD leaves it up to rounding
  // (Mulayoff et al. 2021, Thm 2): relu'(0) = 0 puts x_j on neither side. -b1/w1 may differ from x_j by an ulp, so
  // a bound that compared x with t could count x_j on a side that the Gauss-Newton matrix does not;
  // at balanced nets the bound must still equal the Rayleigh quotient at u = 1/sqrt(n) exactly.
  Rng rng(1313);
  for (int trial = 0; trial < 50; ++trial) {
    const Index n = 3 + static_cast<Index>(rng.below(20));
    const std::vector<double> x = test::random_inputs(rng, n, -1.0, 2.0);
    const Dataset data = dataset_from(test::column(x));
    ShallowReluNet net = bounds_univariate_net(rng, 6, -1.0, 2.0, 0);
    std::vector<double> pinned(3);
    for (double& xj : pinned) xj = x[rng.below(static_cast<std::uint64_t>(n))];
    const auto pin = [&] {
      for (Index i = 0; i < 3; ++i) {
        net.b1()[i] = -(net.W1()(i, 0) * pinned[static_cast<size_t>(i)]);
        ASSERT_EQ(net.W1()(i, 0) * pinned[static_cast<size_t>(i)] + net.b1()[i], 0.0);
      }
    };
    pin();
    balance(net, data.X);
    pin();  // rescaling moved b1 by rounding; the balance changes by O(ulp), its effect by O(ulp^2)
    const Matrix phi = test::explicit_tangent_features(net, data.X);
    const double rayleigh = (phi.rowwise().sum() / static_cast<double>(n)).squaredNorm();
    const double bound = per_implementation_bound(net, data);
    EXPECT_NEAR(bound, rayleigh, kChainSlack * rayleigh) << "trial " << trial;
    EXPECT_TRUE(test::at_least(test::gauss_newton_lambda_max(phi), bound, kChainSlack));
    EXPECT_TRUE(test::at_least(bound, lemma4_bound(weighted_norm(net, data.X)), kChainSlack));
  }
}

TEST(PerImplementationBound, RejectsMismatchedData) {
  EXPECT_THROW(per_implementation_bound(ShallowReluNet(2, 3), dataset_from(RowMatrix::Ones(4, 1))),
               InputError);
}

TEST(StepSizeBounds, TwoOverEtaAndTheorem1) {
  EXPECT_DOUBLE_EQ(two_over_eta(0.4), 5.0);
  EXPECT_DOUBLE_EQ(thm1_rhs(0.4), 2.0);
  EXPECT_DOUBLE_EQ(thm1_rhs(0.01), 99.5);
  for (double bad : {0.0, -0.1, std::nan(""), double{INFINITY}}) {
    EXPECT_THROW(two_over_eta(bad), InputError);
    EXPECT_THROW(thm1_rhs(bad), InputError);
    EXPECT_THROW(thm2_delta(bad, 10, 3, 100, 1.0, 1.0), InputError);
    EXPECT_THROW(noninterpolating_bound(bad, 1.0, 0.0), InputError);
  }
  try {
    thm1_rhs(-1.0);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("eta"), std::string::npos) << error.what();
  }
}

/// Mulayoff et al. 2021, Thm 2 and Lemmas 2-3, typed from the printed formula.
double printed_delta(double eta, double k, double big_l, double n, double rho, double m) {
  const double c = std::max(1.0, rho * (1.0 + m));
  return 1.5 * c * c * (1.0 + k - big_l) / n +
         c * std::sqrt(0.75 * ((1.0 + k - big_l) / n) *
                       (3.0 * c * c * (1.0 + k - big_l) / n + 2.0 / eta));
}

TEST(Theorem2, DeltaMatchesThePrintedFormula) {
  // Hand value: eta = 0.5, k = 10, L = 4, n = 100, rho = 0.5, M = 1: C = 1, q = 0.07,
  // Delta = 0.105 + sqrt(0.0525 * 4.21) = 0.575132...
  EXPECT_NEAR(thm2_delta(0.5, 10, 4, 100, 0.5, 1.0), 0.105 + std::sqrt(0.0525 * 4.21), 1e-15);
  // rho (1 + M) > 1 sets C: rho = 2, M = 1.5 gives C = 5.
  EXPECT_NEAR(thm2_delta(0.1, 20, 20, 1000, 2.0, 1.5), printed_delta(0.1, 20, 20, 1000, 2.0, 1.5),
              1e-14);
  EXPECT_GT(thm2_delta(0.1, 20, 20, 1000, 2.0, 1.5), thm2_delta(0.1, 20, 20, 1000, 0.1, 1.5));
  for (double eta : {0.01, 0.4, 2.0}) {
    for (Index k : {1, 7, 100}) {
      for (Index big_l : {Index{0}, k / 2, k}) {
        const double expected =
            printed_delta(eta, static_cast<double>(k), static_cast<double>(big_l), 30.0, 0.8, 2.0);
        EXPECT_NEAR(thm2_delta(eta, k, big_l, 30, 0.8, 2.0), expected, 1e-13 * expected);
      }
    }
  }
}

TEST(Theorem2, DeltaVanishesAsSamplesGrowWithCFixed) {
  double previous = INFINITY;
  for (Index n = 10; n <= 100000000; n *= 10) {
    const double delta = thm2_delta(0.2, 50, 10, n, 1.5, 2.0);
    EXPECT_LT(delta, previous);
    previous = delta;
  }
  EXPECT_LT(previous, 1e-2);
  EXPECT_GT(previous, 0.0);
}

TEST(Theorem2, RejectsImpossibleArguments) {
  EXPECT_THROW(thm2_delta(0.1, 0, 0, 10, 1.0, 1.0), InputError);   // width
  EXPECT_THROW(thm2_delta(0.1, 5, 6, 10, 1.0, 1.0), InputError);   // L > k
  EXPECT_THROW(thm2_delta(0.1, 5, -1, 10, 1.0, 1.0), InputError);  // L < 0
  EXPECT_THROW(thm2_delta(0.1, 5, 2, 0, 1.0, 1.0), InputError);    // n
  EXPECT_THROW(thm2_delta(0.1, 5, 2, 10, -1.0, 1.0), InputError);  // rho
  EXPECT_THROW(thm2_delta(0.1, 5, 2, 10, 1.0, std::nan("")), InputError);
}

TEST(NonInterpolatingBound, AddsTheResidualTerm) {
  // 1/eta - 1/2 + (R + 1) sqrt(2 L): eta = 0.25, R = 2, L = 0.02 gives 3.5 + 3 * 0.2 = 4.1.
  EXPECT_NEAR(noninterpolating_bound(0.25, 2.0, 0.02), 4.1, 1e-14);
  EXPECT_DOUBLE_EQ(noninterpolating_bound(0.25, 2.0, 0.0), thm1_rhs(0.25));
  EXPECT_THROW(noninterpolating_bound(0.25, 2.0, -1e-3), InputError);
  EXPECT_THROW(noninterpolating_bound(0.25, -1.0, 0.0), InputError);
}

TEST(Lemma4Bound, IsOnePlusTwiceTheWeightedValue) {
  EXPECT_DOUBLE_EQ(lemma4_bound(0.0), 1.0);
  EXPECT_DOUBLE_EQ(lemma4_bound(0.3), 1.6);
  EXPECT_THROW(lemma4_bound(-0.1), InputError);
  EXPECT_THROW(lemma4_bound(std::nan("")), InputError);
}

}  // namespace
}  // namespace relustab
