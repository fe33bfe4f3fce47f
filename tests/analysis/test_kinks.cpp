// SPDX-License-Identifier: MIT
// Minima at kinks: mode Hessians against one-sided finite differences, the mode enumeration, and
// the quantities of Lemmas 2, 3 and 5 against dense eigensolvers and the lemmas' inequalities.
#include "dense_oracles.h"
#include "test_util.h"

#include <relustab/analysis/bounds.h>
#include <relustab/analysis/kinks.h>
#include <relustab/analysis/report.h>
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/eigen.h>

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace relustab {
namespace {

/// Step of the one-sided differences; no other kink is crossed within 3 h (test_util.h margin).
constexpr double kFdStep = 1e-5;
/// Along a path inside one mode the gradient is a cubic polynomial in t: the three-point formula is
/// exact for quadratics, so it errs by ~h^2 |g'''| ~ 1e-9, plus rounding eps |g| / h ~ 1e-11.
constexpr double kFdTol = 1e-7;
/// The same matrix or eigenvalue assembled in two orders of float64 operations.
constexpr double kKinksRoundingTol = 1e-11;

/// Derivative at t = 0+ of a path known at t = h, 2h, 3h only (the value at 0 belongs to the other
/// mode when the path leaves a kink): the quadratic through the three points, differentiated at 0.
template <class T>
T derivative_from_right(const T& at1, const T& at2, const T& at3, double h) {
  return (-5.0 * at1 + 8.0 * at2 - 3.0 * at3) / (2.0 * h);
}

/// A univariate net with neuron 0's knot exactly on sample 0 (2 * 0.5 - 1 = 0), the other neurons
/// and samples generic, residuals non-zero.
struct OneKink {
  ShallowReluNet net;
  Dataset data;
};

OneKink one_kink(std::uint64_t seed) {
  Rng rng(seed);
  OneKink c{test::random_net(1, 4, rng), {}};
  c.net.W1()(0, 0) = 2.0;
  c.net.b1()[0] = -1.0;
  c.data = test::random_dataset(c.net, 10, rng);
  c.data.X(0, 0) = 0.5;
  return c;
}

double largest_eigenvalue(const Matrix& A) {
  return test::largest_eigenvalue(A);
}

TEST(Kinks, ModeHessiansAreTheOneSidedHessians) {
  const OneKink c = one_kink(31);
  ASSERT_EQ(c.net.W1()(0, 0) * c.data.X(0, 0) + c.net.b1()[0], 0.0);
  for (Index i = 1; i < c.net.width(); ++i) {
    ASSERT_GE(std::abs(c.net.W1()(i, 0) * 0.5 + c.net.b1()[i]), test::kKinkMargin);
  }
  const std::vector<KinkPoint> kinks = kink_points(c.net, c.data.X);
  ASSERT_EQ(kinks.size(), 1u);
  EXPECT_EQ(kinks[0], (KinkPoint{0, 0}));
  const Matrix H_off = dense_hessian(c.net, c.data, mode_pattern(c.net, c.data, kinks, {false}));
  const Matrix H_on = dense_hessian(c.net, c.data, mode_pattern(c.net, c.data, kinks, {true}));
  // relu'(0) = 0: the ordinary Hessian is the "off" mode's.
  EXPECT_LE((dense_hessian(c.net, c.data) - H_off).lpNorm<Eigen::Infinity>(), kKinksRoundingTol);

  const auto backend = make_backend("cpu");
  Rng rng(32);
  for (int trial = 0; trial < 3; ++trial) {
    Vec v(c.net.n_params());
    for (Index p = 0; p < v.size(); ++p) v[p] = rng.normal();
    // Slope of neuron 0's pre-activation at sample 0 along v: its sign picks the mode t > 0 enters.
    const double slope = v[0] * c.data.X(0, 0) + v[c.net.offset_b1()];
    ASSERT_GT(std::abs(slope), 1e-2);
    const auto gradient_at = [&](double t) {
      ShallowReluNet moved = c.net;
      moved.theta() += t * v;
      Vec g;
      backend->loss_and_grad(moved, c.data, {}, &g);
      return g;
    };
    for (const double sign : {1.0, -1.0}) {
      // Along sign * v the pre-activation has slope sign * slope: on when positive.
      const Vec u = sign * v;
      const bool on = sign * slope > 0.0;
      const auto g = [&](double t) { return gradient_at(sign * t); };
      const Vec fd = derivative_from_right(g(kFdStep), g(2.0 * kFdStep), g(3.0 * kFdStep), kFdStep);
      const Vec hv = (on ? H_on : H_off) * u;
      EXPECT_LE((hv - fd).lpNorm<Eigen::Infinity>(), kFdTol * (1.0 + fd.lpNorm<Eigen::Infinity>()))
          << (on ? "on" : "off");
      // And the other mode's Hessian does not fit: the two differ along this direction.
      const Vec other = (on ? H_off : H_on) * u;
      EXPECT_GT((other - fd).lpNorm<Eigen::Infinity>(), 1e-4);
    }
  }

  // The analysis examines exactly these two modes, the convention's first.
  const KinkAnalysis analysis = analyze_kinks(c.net, c.data, std::nullopt);
  ASSERT_EQ(analysis.modes.size(), 2u);
  EXPECT_TRUE(analysis.exhaustive);
  EXPECT_EQ(analysis.modes[0].mode, std::vector<bool>{false});
  EXPECT_EQ(analysis.modes[1].mode, std::vector<bool>{true});
  const double top_off = largest_eigenvalue(H_off);
  const double top_on = largest_eigenvalue(H_on);
  EXPECT_NEAR(analysis.modes[0].top_eigenvalue, top_off, kKinksRoundingTol * std::abs(top_off));
  EXPECT_NEAR(analysis.modes[1].top_eigenvalue, top_on, kKinksRoundingTol * std::abs(top_on));
  EXPECT_NEAR(analysis.lambda_upper, std::max(top_off, top_on), kKinksRoundingTol * std::abs(top_on));
  EXPECT_EQ(analysis.kink_neurons, 1);
  EXPECT_EQ(analysis.p_max, 1);
  // q is the top eigenvector of the mode attaining lambda_upper; the other mode's Rayleigh quotient
  // and residual follow from its Hessian.
  const Matrix& H_top = top_on > top_off ? H_on : H_off;
  EXPECT_LE((H_top * analysis.q - analysis.lambda_upper * analysis.q).norm(),
            kKinksRoundingTol * analysis.lambda_upper);
  const Matrix& H_other = top_on > top_off ? H_off : H_on;
  const double rayleigh = analysis.q.dot(H_other * analysis.q);
  EXPECT_NEAR(analysis.lambda_lower, std::min(rayleigh, analysis.lambda_upper), kKinksRoundingTol);
  EXPECT_NEAR(analysis.delta, (H_other * analysis.q - rayleigh * analysis.q).norm(), kKinksRoundingTol);
  // Gradients of the two modes: the backend's (relu'(0) = 0) is the off mode's.
  Vec g;
  backend->loss_and_grad(c.net, c.data, {}, &g);
  EXPECT_NEAR(analysis.modes[0].gradient_norm, g.norm(), kKinksRoundingTol * g.norm());
}

TEST(Kinks, WithoutKinksThereIsOneModeTheOrdinaryHessian) {
  for (Index d : {1, 3}) {
    SCOPED_TRACE("d = " + std::to_string(d));
    Rng rng(40 + static_cast<std::uint64_t>(d));
    const ShallowReluNet net = test::random_net(d, 5, rng);
    const Dataset data = test::random_dataset(net, 12, rng);
    const KinkAnalysis analysis = analyze_kinks(net, data, 0.1);
    EXPECT_TRUE(analysis.kinks.empty());
    ASSERT_EQ(analysis.modes.size(), 1u);
    const double top = test::largest_eigenvalue(dense_hessian(net, data));
    EXPECT_NEAR(analysis.lambda_upper, top, kKinksRoundingTol * std::abs(top));
    EXPECT_NEAR(analysis.lambda_lower, top, kKinksRoundingTol * std::abs(top));
    EXPECT_LE(analysis.delta, kKinksRoundingTol * std::abs(top));
    const auto backend = make_backend("cpu");
    Vec g;
    backend->loss_and_grad(net, data, {}, &g);
    EXPECT_NEAR(analysis.max_gradient_norm, g.norm(), kKinksRoundingTol * g.norm());
    EXPECT_NEAR(analysis.gamma, std::abs(analysis.q.dot(g)), kKinksRoundingTol * g.norm());
    EXPECT_EQ(analysis.kink_neurons, 0);
    EXPECT_EQ(count_neurons_on_data(net, data.X), 0);
  }
}

/// d = 2: neuron 0's line x1 = 0 passes through samples 0 and 1, neuron 1's line x2 = 0.5 through
/// sample 0, so p = 3 kink points, p_max = 2 (sample 0), two neurons.
struct ThreeKinks {
  ShallowReluNet net;
  Dataset data;
};

ThreeKinks three_kinks() {
  Rng rng(50);
  ThreeKinks c{test::random_net(2, 4, rng), {}};
  c.net.W1().row(0) << 1.0, 0.0;
  c.net.b1()[0] = 0.0;
  c.net.W1().row(1) << 0.0, 2.0;
  c.net.b1()[1] = -1.0;
  c.data = test::random_dataset(c.net, 9, rng);
  c.data.X.row(0) << 0.0, 0.5;
  c.data.X.row(1) << 0.0, -1.3;
  return c;
}

TEST(Kinks, EnumeratesAllTwoToThePModes) {
  const ThreeKinks c = three_kinks();
  const std::vector<KinkPoint> kinks = kink_points(c.net, c.data.X);
  ASSERT_EQ(kinks, (std::vector<KinkPoint>{{0, 0}, {0, 1}, {1, 0}}));
  EXPECT_EQ(count_neurons_on_data(c.net, c.data.X), 2);
  const KinkAnalysis analysis = analyze_kinks(c.net, c.data, 0.05);
  EXPECT_TRUE(analysis.exhaustive);
  EXPECT_EQ(analysis.kink_neurons, 2);
  EXPECT_EQ(analysis.p_max, 2);
  ASSERT_EQ(analysis.modes.size(), 8u);
  EXPECT_EQ(analysis.modes[0].mode, std::vector<bool>(3, false));  // relu'(0) = 0
  std::set<std::vector<bool>> distinct;
  double upper = -INFINITY;
  for (const ModeSummary& m : analysis.modes) {
    distinct.insert(m.mode);
    // Each mode's Hessian, assembled whole from its activation pattern, has the reported top
    // eigenvalue (the analysis assembles it as a shared part plus the kink samples' part).
    const Matrix H = dense_hessian(c.net, c.data, mode_pattern(c.net, c.data, kinks, m.mode));
    const double top = largest_eigenvalue(H);
    EXPECT_NEAR(m.top_eigenvalue, top, kKinksRoundingTol * std::abs(top));
    EXPECT_NEAR(m.rayleigh, analysis.q.dot(H * analysis.q), kKinksRoundingTol * std::abs(top));
    upper = std::max(upper, top);
    // Lemma 2's quantities are ordered: q^T H_m q <= lambda_max(H_m) <= lambda_upper.
    EXPECT_LE(m.rayleigh, m.top_eigenvalue + kKinksRoundingTol * std::abs(top));
  }
  EXPECT_EQ(distinct.size(), 8u);
  EXPECT_NEAR(analysis.lambda_upper, upper, kKinksRoundingTol * std::abs(upper));
  EXPECT_LE(analysis.lambda_lower, analysis.lambda_upper);
  EXPECT_TRUE(std::isnan(analysis.lemma5_bound));  // d = 2
  EXPECT_TRUE(std::isnan(analysis.thm2_delta));
}

TEST(Kinks, SamplesDistinctModesAboveTheCap) {
  const ThreeKinks c = three_kinks();
  KinkOptions options;
  options.max_enumerated_kinks = 2;  // p = 3 is above it
  options.sampled_modes = 5;
  const KinkAnalysis a = analyze_kinks(c.net, c.data, std::nullopt, options);
  EXPECT_FALSE(a.exhaustive);
  ASSERT_EQ(a.modes.size(), 5u);
  EXPECT_EQ(a.modes[0].mode, std::vector<bool>(3, false));
  std::set<std::vector<bool>> distinct;
  for (const ModeSummary& m : a.modes) distinct.insert(m.mode);
  EXPECT_EQ(distinct.size(), 5u);
  // The same seed draws the same modes.
  const KinkAnalysis b = analyze_kinks(c.net, c.data, std::nullopt, options);
  for (std::size_t m = 0; m < a.modes.size(); ++m) EXPECT_EQ(a.modes[m].mode, b.modes[m].mode);
  EXPECT_EQ(a.lambda_upper, b.lambda_upper);
  // Asking for more modes than exist finds all 2^3 of them.
  options.sampled_modes = 100;
  EXPECT_EQ(analyze_kinks(c.net, c.data, std::nullopt, options).modes.size(), 8u);
}

TEST(Kinks, Lemma5BoundsTheCommonEigenvectorResidualAtInterpolatingMinima) {
  // Knots of neurons 0 and 1 on sample 0, of neuron 2 on sample 1; targets y = f(x): every mode's
  // residuals vanish, H_m is mode m's Gauss-Newton matrix and every mode's gradient is 0.
  for (std::uint64_t seed = 60; seed < 64; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rng rng(seed);
    ShallowReluNet net = test::random_net(1, 6, rng, 1.5);
    net.W1()(0, 0) = 1.5;
    net.b1()[0] = -0.75;  // knot 0.5
    net.W1()(1, 0) = -0.5;
    net.b1()[1] = 0.25;   // knot 0.5, other side
    net.W1()(2, 0) = 4.0;
    net.b1()[2] = 1.0;    // knot -0.25
    Dataset data = test::random_dataset(net, 8, rng);
    data.X(0, 0) = 0.5;
    data.X(1, 0) = -0.25;
    data.y = net.predict(data.X);
    const KinkAnalysis a = analyze_kinks(net, data, 0.1);
    ASSERT_EQ(a.kinks.size(), 3u);
    EXPECT_EQ(a.p_max, 2);
    EXPECT_LE(a.max_gradient_norm, kKinksRoundingTol);
    EXPECT_LE(a.gamma, kKinksRoundingTol);
    // ||H_m q - lambda_upper q||^2 = residual^2 + (rayleigh - lambda_upper)^2 (the parts along and
    // across q), bounded by Lemma 5 (eq. (34)); delta is below it too.
    for (const ModeSummary& m : a.modes) {
      const double distance = std::hypot(m.residual, m.rayleigh - a.lambda_upper);
      EXPECT_LE(distance, a.lemma5_bound * (1.0 + kKinksRoundingTol));
    }
    EXPECT_LE(a.delta, a.lemma5_bound);
    EXPECT_GT(a.delta, 0.0);  // the modes really differ
  }
}

TEST(Kinks, VerdictsFollowTheLemmas) {
  const OneKink c = one_kink(31);
  const KinkAnalysis base = analyze_kinks(c.net, c.data, std::nullopt);
  ASSERT_GT(base.lambda_lower - base.delta, 0.0);
  // 2/eta just above lambda_upper: Lemma 3's sufficient condition holds, Lemma 2's does not.
  const double eta_stable = 2.0 / (1.01 * base.lambda_upper);
  const KinkAnalysis stable = analyze_kinks(c.net, c.data, eta_stable);
  EXPECT_TRUE(stable.lemma3_stable);
  EXPECT_FALSE(stable.lemma2_unstable);
  // 2/eta below lambda_lower - delta: Lemma 2 says not strongly stable.
  const double eta_unstable = 2.0 / ((base.lambda_lower - base.delta) / 1.01);
  const KinkAnalysis unstable = analyze_kinks(c.net, c.data, eta_unstable);
  EXPECT_FALSE(unstable.lemma3_stable);
  EXPECT_TRUE(unstable.lemma2_unstable);
  // Away from a minimum gamma > 0, and a small epsilon makes gamma / epsilon swamp the margin.
  ASSERT_GT(base.gamma, 0.0);
  KinkOptions options;
  options.epsilon = base.gamma / (10.0 * base.lambda_upper);
  EXPECT_FALSE(analyze_kinks(c.net, c.data, eta_unstable, options).lemma2_unstable);
  // Theorem 2's Delta is the one of bounds.h with this net's numbers (k = 4, L = 4 knots).
  EXPECT_EQ(unstable.thm2_delta,
            thm2_delta(eta_unstable, 4, 4, 10, c.net.theta().cwiseAbs().maxCoeff(),
                       c.data.X.cwiseAbs().maxCoeff()));
}

TEST(Kinks, KinkPointsUseARelativeTolerance) {
  ShallowReluNet net(1, 3);
  net.W1()(0, 0) = 2.0;
  net.b1()[0] = -1.0 + 1e-12;  // 1e-12 / 2 relative: on the point
  net.W1()(1, 0) = 2.0;
  net.b1()[1] = -1.0 + 1e-5;   // 5e-6 relative: clearly off it
  net.W1()(2, 0) = 0.0;        // a constant neuron (scale |b1| = 0 would make every point a kink)
  net.b1()[2] = 0.0;
  RowMatrix X(2, 1);
  X << 0.5, -3.0;
  EXPECT_EQ(kink_points(net, X), (std::vector<KinkPoint>{{0, 0}}));
  EXPECT_EQ(count_neurons_on_data(net, X), 1);
  EXPECT_EQ(kink_points(net, X, 1e-4), (std::vector<KinkPoint>{{0, 0}, {1, 0}}));
}

TEST(Kinks, BadInputThrows) {
  const OneKink c = one_kink(31);
  const std::vector<KinkPoint> kinks = kink_points(c.net, c.data.X);
  EXPECT_THROW((void)mode_pattern(c.net, c.data, kinks, {true, false}), InputError);
  const std::vector<KinkPoint> outside = {{7, 0}};
  EXPECT_THROW((void)mode_pattern(c.net, c.data, outside, {true}), InputError);
  KinkOptions small;
  small.dense_max = 5;
  EXPECT_THROW((void)analyze_kinks(c.net, c.data, 0.1, small), InputError);
  EXPECT_THROW((void)dense_hessian(c.net, c.data, ActivationPattern::Constant(3, 4, true)), InputError);
  EXPECT_THROW((void)analyze_kinks(c.net, c.data, -1.0), InputError);  // eta <= 0
}

}  // namespace
}  // namespace relustab
