// SPDX-License-Identifier: MIT
// The flattest implementation against a brute-force search over rescalings, the Gauss-Newton
// sharpness of the given parameters, Lemma 4's bound, and the function it must leave unchanged.
#include "analysis/brute_force.h"
#include "test_util.h"

#include <relustab/analysis/bounds.h>
#include <relustab/analysis/flattest.h>
#include <relustab/analysis/function_space.h>
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace relustab {
namespace {

/// The method stops once its duality gap is below FlattestOptions::tol = 1e-9 relative, so its
/// value is within that of the true minimum; eigenvalues add ~1e-14.
constexpr double kCertifiedTol = 2e-9;
/// Nelder-Mead on a non-smooth convex function (the top eigenvalue is typically double at the
/// optimum) reaches the minimum to about 1e-7 relative with restarts; the bound is looser.
constexpr double kBruteForceTol = 1e-6;
/// Quantities equal in exact arithmetic, computed by different float64 routes.
constexpr double kFlattestRoundingTol = 1e-11;

/// Neuron i rescaled by e^{beta_i}, by a loop over theta's documented layout.
ShallowReluNet rescaled_by_hand(const ShallowReluNet& net, const std::vector<double>& beta) {
  ShallowReluNet out = net;
  const Index d = net.input_dim();
  for (Index i = 0; i < net.width(); ++i) {
    const double a = std::exp(beta[static_cast<std::size_t>(i)]);
    for (Index c = 0; c < d; ++c) out.theta()[i * d + c] *= a;
    out.theta()[net.offset_b1() + i] *= a;
    out.theta()[net.offset_w2() + i] /= a;
  }
  return out;
}

/// F(beta) from the explicit tangent features of the rescaled net (independent of src/).
double objective(const ShallowReluNet& net, const RowMatrix& X, const std::vector<double>& beta) {
  return test::gauss_newton_lambda_max(test::explicit_tangent_features(rescaled_by_hand(net, beta), X));
}

/// Nelder-Mead (reflection 1, expansion 2, contraction 1/2, shrink 1/2) from `start`, restarted
/// with a fresh simplex until a restart gains nothing.
std::vector<double> nelder_mead(const std::function<double(const std::vector<double>&)>& f,
                                std::vector<double> start, double size) {
  const std::size_t m = start.size();
  double best = f(start);
  for (int restart = 0; restart < 30; ++restart) {
    std::vector<std::vector<double>> simplex(m + 1, start);
    for (std::size_t a = 0; a < m; ++a) simplex[a + 1][a] += size;
    std::vector<double> values(m + 1);
    for (std::size_t v = 0; v <= m; ++v) values[v] = f(simplex[v]);
    for (int iteration = 0; iteration < 4000; ++iteration) {
      std::vector<std::size_t> order(m + 1);
      for (std::size_t v = 0; v <= m; ++v) order[v] = v;
      std::sort(order.begin(), order.end(), [&](auto a, auto b) { return values[a] < values[b]; });
      const std::size_t lo = order.front(), hi = order.back(), second = order[m - 1];
      if (values[hi] - values[lo] <= 1e-15 * std::abs(values[lo])) break;
      std::vector<double> centroid(m, 0.0);
      for (std::size_t v = 0; v <= m; ++v) {
        if (v == hi) continue;
        for (std::size_t a = 0; a < m; ++a) centroid[a] += simplex[v][a] / static_cast<double>(m);
      }
      const auto along = [&](double t) {
        std::vector<double> p(m);
        for (std::size_t a = 0; a < m; ++a) p[a] = centroid[a] + t * (simplex[hi][a] - centroid[a]);
        return p;
      };
      const std::vector<double> reflected = along(-1.0);
      const double fr = f(reflected);
      if (fr < values[lo]) {
        const std::vector<double> expanded = along(-2.0);
        const double fe = f(expanded);
        if (fe < fr) {
          simplex[hi] = expanded;
          values[hi] = fe;
        } else {
          simplex[hi] = reflected;
          values[hi] = fr;
        }
      } else if (fr < values[second]) {
        simplex[hi] = reflected;
        values[hi] = fr;
      } else {
        const std::vector<double> contracted = along(0.5);
        const double fc = f(contracted);
        if (fc < values[hi]) {
          simplex[hi] = contracted;
          values[hi] = fc;
        } else {
          for (std::size_t v = 0; v <= m; ++v) {
            if (v == lo) continue;
            for (std::size_t a = 0; a < m; ++a) simplex[v][a] = 0.5 * (simplex[v][a] + simplex[lo][a]);
            values[v] = f(simplex[v]);
          }
        }
      }
    }
    const auto at = std::min_element(values.begin(), values.end()) - values.begin();
    const double found = values[static_cast<std::size_t>(at)];
    start = simplex[static_cast<std::size_t>(at)];
    size = std::max(size * 0.3, 1e-4);
    if (found >= best - 1e-15 * std::abs(best) && restart > 2) break;
    best = std::min(best, found);
  }
  return start;
}

/// Brute force: the best of a random search over [-3, 3]^k, then Nelder-Mead from it.
double brute_force_flattest(const ShallowReluNet& net, const RowMatrix& X, Rng& rng) {
  const std::size_t k = static_cast<std::size_t>(net.width());
  const auto f = [&](const std::vector<double>& beta) { return objective(net, X, beta); };
  std::vector<double> best(k, 0.0);
  double best_value = f(best);
  for (int draw = 0; draw < 3000; ++draw) {
    std::vector<double> beta(k);
    for (double& b : beta) b = rng.uniform(-3.0, 3.0);
    const double value = f(beta);
    if (value < best_value) {
      best_value = value;
      best = beta;
    }
  }
  return f(nelder_mead(f, best, 0.5));
}

struct Shape {
  Index input_dim;
  Index width;
  Index n;
};

class FlattestBruteForce : public ::testing::TestWithParam<Shape> {};

TEST_P(FlattestBruteForce, MatchesTheSearchOverRescalings) {
  const Shape s = GetParam();
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rng rng(1000 * seed + static_cast<std::uint64_t>(s.width * 10 + s.n));
    const ShallowReluNet net = test::random_net(s.input_dim, s.width, rng);
    const Dataset data = test::random_dataset(net, s.n, rng);
    const FlattestResult flat = flattest_implementation(net, data);
    ASSERT_TRUE(flat.converged);
    const double brute = brute_force_flattest(net, data.X, rng);
    // The method's value is (within its certificate) the global minimum: no search does better ...
    EXPECT_LE(flat.sharpness, brute * (1.0 + kCertifiedTol));
    // ... and the search gets there too.
    EXPECT_NEAR(brute, flat.sharpness, kBruteForceTol * flat.sharpness);
    // The certificate brackets the minimum.
    EXPECT_LE(flat.lower_bound, brute * (1.0 + kFlattestRoundingTol));
    EXPECT_LE(flat.sharpness - flat.lower_bound, kCertifiedTol * flat.sharpness);
    // The reported scales give the reported value.
    std::vector<double> beta(static_cast<std::size_t>(s.width));
    for (Index i = 0; i < s.width; ++i) beta[static_cast<std::size_t>(i)] = std::log(flat.scales[i]);
    EXPECT_NEAR(objective(net, data.X, beta), flat.sharpness, kFlattestRoundingTol * flat.sharpness);
  }
}

// n <= P uses the n x n Gram form, n > P the P x P parameter form; d = 2 checks the general rescaling.
INSTANTIATE_TEST_SUITE_P(Shapes, FlattestBruteForce,
                         ::testing::Values(Shape{1, 2, 5}, Shape{1, 3, 6}, Shape{1, 2, 12},
                                           Shape{1, 3, 15}, Shape{2, 3, 8}),
                         [](const auto& param_info) {
                           return test::dim_label(param_info.param.input_dim) + "_k" +
                                  std::to_string(param_info.param.width) + "_n" +
                                  std::to_string(param_info.param.n);
                         });

/// A wide univariate net on inputs in [-1, 1] whose knots lie in the data range.
struct WideCase {
  ShallowReluNet net;
  Dataset data;
};

WideCase wide_case(std::uint64_t seed, Index k, Index n) {
  Rng rng(seed);
  ShallowReluNet net(1, k);
  for (Index i = 0; i < k; ++i) {
    const double w1 = (rng.uniform() < 0.5 ? -1.0 : 1.0) * rng.uniform(0.2, 3.0);
    net.W1()(i, 0) = w1;
    net.b1()[i] = -w1 * rng.uniform(-1.1, 1.1);
    net.w2()[i] = rng.normal();
  }
  net.b2() = rng.normal();
  Dataset data;
  data.X.resize(n, 1);
  data.y.resize(n);
  for (Index j = 0; j < n; ++j) {
    data.X(j, 0) = rng.uniform(-1.0, 1.0);
    data.y[j] = rng.normal();
  }
  return {net, data};
}

TEST(Flattest, NeverAboveTheGivenParametersNorBelowLemma4) {
  const auto backend = make_backend("cpu");
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Index k = seed % 2 == 0 ? 40 : 8;
    const Index n = seed % 3 == 0 ? 60 : 12;  // 60 > P = 25 for k = 8: the parameter form
    const WideCase c = wide_case(seed, k, n);
    const FlattestResult flat = flattest_implementation(c.net, c.data);
    EXPECT_TRUE(flat.converged) << flat.iterations << " iterations";
    const double given = gn_sharpness(*backend, c.net, c.data).value;
    EXPECT_NEAR(flat.initial_sharpness, given, kFlattestRoundingTol * given);
    EXPECT_LE(flat.sharpness, given * (1.0 + kFlattestRoundingTol));
    EXPECT_LE(flat.sharpness, flat.warm_start_sharpness * (1.0 + kFlattestRoundingTol));
    // Lemma 4 (and its per-implementation form, which holds for every rescaling).
    const std::vector<double> inputs(c.data.X.data(), c.data.X.data() + c.data.n());
    const double lemma4 = lemma4_bound(weighted_tv(c.net, EmpiricalWeight(inputs)));
    const double per_implementation = per_implementation_bound(c.net, c.data);
    EXPECT_TRUE(test::at_least(flat.lower_bound, per_implementation, kFlattestRoundingTol))
        << flat.lower_bound << " vs " << per_implementation;
    EXPECT_TRUE(test::at_least(flat.sharpness, per_implementation, kFlattestRoundingTol));
    EXPECT_TRUE(test::at_least(flat.sharpness, lemma4, kFlattestRoundingTol));
  }
}

TEST(Flattest, RescaledNetIsTheSameFunctionWithTheReportedSharpness) {
  const auto backend = make_backend("cpu");
  const WideCase c = wide_case(77, 30, 15);
  const FlattestResult flat = flattest_implementation(c.net, c.data);
  ASSERT_TRUE(flat.converged);
  EXPECT_GT(flat.initial_sharpness - flat.sharpness, 1e-3 * flat.initial_sharpness);  // it moved
  // Same predictions on the data and on a grid beyond it.
  RowMatrix grid(401, 1);
  for (Index g = 0; g < grid.rows(); ++g) grid(g, 0) = -2.0 + 0.01 * static_cast<double>(g);
  for (const RowMatrix* X : std::vector<const RowMatrix*>{&c.data.X, &grid}) {
    for (Index j = 0; j < X->rows(); ++j) {
      const double expected = test::brute_force_output(c.net, X->row(j).transpose());
      EXPECT_NEAR(test::brute_force_output(flat.net, X->row(j).transpose()), expected,
                  kFlattestRoundingTol * (1.0 + std::abs(expected)));
    }
  }
  // Its Gauss-Newton sharpness is the reported value, and a rescaling changes neither the function
  // space quantities nor the minimum over rescalings.
  EXPECT_NEAR(gn_sharpness(*backend, flat.net, c.data).value, flat.sharpness,
              kFlattestRoundingTol * flat.sharpness);
  const std::vector<double> inputs(c.data.X.data(), c.data.X.data() + c.data.n());
  const EmpiricalWeight g(inputs);
  EXPECT_NEAR(weighted_tv(flat.net, g), weighted_tv(c.net, g), kFlattestRoundingTol);
  EXPECT_NEAR(per_implementation_bound(flat.net, c.data), per_implementation_bound(c.net, c.data),
              kFlattestRoundingTol * per_implementation_bound(c.net, c.data));
  const FlattestResult again = flattest_implementation(flat.net, c.data);
  EXPECT_NEAR(again.sharpness, flat.sharpness, kCertifiedTol * flat.sharpness);
  EXPECT_NEAR(again.initial_sharpness, flat.sharpness, kFlattestRoundingTol * flat.sharpness);
}

TEST(Flattest, DeadNeuronsAreLeftAloneAndSilentOnesAreZeroed) {
  Rng rng(5);
  ShallowReluNet net = test::random_net(1, 5, rng);
  Dataset data = test::random_dataset(net, 9, rng);
  net.W1()(3, 0) = 1.0;
  net.b1()[3] = -100.0;  // off on every sample (|x| < 100)
  net.w2()[1] = 0.0;     // on somewhere (checked below) but silent
  data = test::random_dataset(net, 9, rng);
  const Vec pre1 = data.X.col(0) * net.W1()(1, 0) + Vec::Constant(9, net.b1()[1]);
  ASSERT_GT(pre1.maxCoeff(), 0.0);
  const FlattestResult flat = flattest_implementation(net, data);
  EXPECT_TRUE(flat.converged);
  EXPECT_EQ(flat.optimised_neurons, 3);
  EXPECT_EQ(flat.scales[3], 1.0);
  EXPECT_EQ(flat.scales[1], 0.0);
  EXPECT_EQ(flat.net.W1()(1, 0), 0.0);
  EXPECT_EQ(flat.net.b1()[1], 0.0);
  EXPECT_DOUBLE_EQ(flat.net.W1()(0, 0), net.W1()(0, 0) * flat.scales[0]);
  // The silent neuron's w2-feature only adds curvature, less as alpha -> 0: a search over all
  // neurons of the given net (alpha >= e^-3) finds no better, and with the neuron zeroed the search
  // over the others finds the same value.
  EXPECT_LE(flat.sharpness, brute_force_flattest(net, data.X, rng) * (1.0 + kCertifiedTol));
  const double brute = brute_force_flattest(flat.net, data.X, rng);
  EXPECT_LE(flat.sharpness, brute * (1.0 + kCertifiedTol));
  EXPECT_NEAR(brute, flat.sharpness, kBruteForceTol * flat.sharpness);
  for (Index j = 0; j < data.n(); ++j) {
    const double expected = test::brute_force_output(net, data.X.row(j).transpose());
    EXPECT_NEAR(test::brute_force_output(flat.net, data.X.row(j).transpose()), expected,
                kFlattestRoundingTol * (1.0 + std::abs(expected)));
  }
}

TEST(Flattest, OnlyDeadNeuronsLeaveTheConstantCurvature) {
  ShallowReluNet net(1, 2);
  net.W1()(0, 0) = 1.0;
  net.b1()[0] = -10.0;
  net.W1()(1, 0) = -1.0;
  net.b1()[1] = -10.0;
  net.w2() << 1.0, 2.0;
  Dataset data;
  data.X = RowMatrix::Zero(4, 1);
  data.X.col(0) << -1.0, 0.0, 0.5, 1.0;
  data.y = Vec::Zero(4);
  const FlattestResult flat = flattest_implementation(net, data);
  EXPECT_TRUE(flat.converged);
  EXPECT_EQ(flat.optimised_neurons, 0);
  EXPECT_NEAR(flat.sharpness, 1.0, kFlattestRoundingTol);  // only b2: K = 1 1^T / n
  EXPECT_EQ(flat.iterations, 0);
}

TEST(Flattest, RescaleNeuronsChecksItsScales) {
  Rng rng(9);
  const ShallowReluNet net = test::random_net(1, 3, rng);
  EXPECT_THROW((void)rescale_neurons(net, Vec::Ones(2)), InputError);
  EXPECT_THROW((void)rescale_neurons(net, Vec::Constant(3, -1.0)), InputError);
  EXPECT_THROW((void)rescale_neurons(net, Vec::Zero(3)), InputError);  // w2 != 0
  const ShallowReluNet doubled = rescale_neurons(net, Vec::Constant(3, 2.0));
  EXPECT_EQ(doubled.W1()(2, 0), 2.0 * net.W1()(2, 0));
  EXPECT_EQ(doubled.w2()[2], net.w2()[2] / 2.0);
  EXPECT_EQ(doubled.b2(), net.b2());
}

TEST(Flattest, BadInputThrows) {
  Rng rng(10);
  const ShallowReluNet net = test::random_net(2, 3, rng);
  const ShallowReluNet other = test::random_net(1, 3, rng);
  const Dataset data = test::random_dataset(other, 5, rng);
  EXPECT_THROW((void)flattest_implementation(net, data), InputError);
  FlattestOptions small;
  small.dense_max = 4;  // min(n, P) = 5
  EXPECT_THROW((void)flattest_implementation(other, data, small), InputError);
}

}  // namespace
}  // namespace relustab
