// SPDX-License-Identifier: MIT
// The sorted-knot back end against the CPU reference: one call (1e-12 relative), knots exactly on
// samples, dead and zero-weight neurons, ties and unsorted inputs, mini-batches, its caches, whole
// GD runs (same minimum within 1e-6) and sharpness with its residual. The shared suites
// (test_cpu_backend, test_sharpness, test_trainer, test_theorem1_runs) also run against it with
// finite differences and dense solvers as oracles.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>
#include <relustab/model/init.h>
#include <relustab/train/trainer.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "test_util.h"
#include "train/reference_net.h"

namespace relustab {
namespace {

/// Two summation orders of the same terms (samples sorted vs as given; prefix sums vs direct).
constexpr double kUnivariateAgreementTol = 1e-12;

double relative_difference(const Vec& a, const Vec& b) {
  return (a - b).lpNorm<Eigen::Infinity>() / std::max(1.0, b.lpNorm<Eigen::Infinity>());
}

struct Outputs {
  double loss = 0.0;
  Vec grad, hv, gv;
};

Outputs evaluate(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                 const Vec& direction, std::span<const Index> rows = {}) {
  Outputs out;
  out.loss = backend.loss_and_grad(net, data, rows, &out.grad);
  if (rows.empty()) {
    backend.curvature(net, data, CurvatureKind::Hessian)->apply(direction, out.hv);
    backend.curvature(net, data, CurvatureKind::GaussNewton)->apply(direction, out.gv);
  }
  return out;
}

void expect_agreement(const ShallowReluNet& net, const Dataset& data, Rng& rng,
                      std::span<const Index> rows = {}) {
  Vec direction(net.n_params());
  for (Index p = 0; p < direction.size(); ++p) direction[p] = rng.normal();
  const auto fast = make_backend("univariate");
  const auto reference = make_backend("cpu");
  const Outputs a = evaluate(*fast, net, data, direction, rows);
  const Outputs b = evaluate(*reference, net, data, direction, rows);
  EXPECT_NEAR(a.loss, b.loss, kUnivariateAgreementTol * std::max(1.0, b.loss));
  EXPECT_LE(relative_difference(a.grad, b.grad), kUnivariateAgreementTol);
  if (rows.empty()) {
    EXPECT_LE(relative_difference(a.hv, b.hv), kUnivariateAgreementTol);
    EXPECT_LE(relative_difference(a.gv, b.gv), kUnivariateAgreementTol);
  }
}

Dataset uniform_data(Index n, Rng& rng) {
  Dataset data;
  data.X.resize(n, 1);
  data.y.resize(n);
  for (Index j = 0; j < n; ++j) {
    data.X(j, 0) = rng.uniform(-1.0, 1.0);  // unsorted on purpose
    data.y[j] = std::sin(3.0 * data.X(j, 0)) + 0.3 * rng.normal();
  }
  return data;
}

TEST(UnivariateBackend, AgreesWithReferenceOnRandomNetsOfManySizes) {
  Rng rng(71);
  for (Index n : {1, 2, 7, 30, 257, 1024}) {
    for (Index k : {1, 3, 100}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", k = " + std::to_string(k));
      const ShallowReluNet net = test::random_net(1, k, rng);
      const Dataset data = uniform_data(n, rng);
      expect_agreement(net, data, rng);
    }
  }
}

TEST(UnivariateBackend, KnotsExactlyOnSamplesAreOffThereAsInTheReference) {
  // Every neuron's knot sits exactly on a sample (w x + b == 0 in floating point: w is a power of 2
  // and b = -w x), from both sides (w > 0 and w < 0), plus neurons with w = 0 (on everywhere or
  // nowhere) and b = 0 neurons at x = 0.
  Rng rng(72);
  Dataset data = uniform_data(25, rng);
  data.X(3, 0) = 0.0;
  ShallowReluNet net(1, 12);
  for (Index i = 0; i < 12; ++i) {
    const double w = (i % 2 == 0 ? 1.0 : -1.0) * std::ldexp(1.0, static_cast<int>(i % 3));
    const double x = data.X((5 * i) % data.n(), 0);
    net.W1()(i, 0) = w;
    net.b1()[i] = -w * x;
    ASSERT_EQ(w * x + net.b1()[i], 0.0);
    net.w2()[i] = rng.normal();
  }
  net.W1()(10, 0) = 0.0;
  net.b1()[10] = 0.7;   // w = 0, on everywhere
  net.W1()(11, 0) = 0.0;
  net.b1()[11] = -0.2;  // w = 0, off everywhere
  net.b2() = 0.1;
  expect_agreement(net, data, rng);
  // The convention matters here: the reference's activation pattern has the kink samples off.
  const ActivationPattern pattern = activation_pattern(net, data);
  EXPECT_FALSE(pattern(0, 0));
}

TEST(UnivariateBackend, TiesAndDeadNeuronsAgree) {
  Rng rng(73);
  Dataset data = uniform_data(40, rng);
  for (Index j = 0; j < 40; j += 4) data.X(j + 1, 0) = data.X(j, 0);  // repeated inputs
  ShallowReluNet net = test::random_net(1, 20, rng);
  net.W1()(0, 0) = 1.0;
  net.b1()[0] = -5.0;  // knot right of every sample: dead
  net.W1()(1, 0) = -1.0;
  net.b1()[1] = -5.0;  // knot left of every sample, w < 0: dead
  net.W1()(2, 0) = 1.0;
  net.b1()[2] = 5.0;   // on everywhere
  expect_agreement(net, data, rng);
}

TEST(UnivariateBackend, MiniBatchRowsWithRepetitionsAgree) {
  Rng rng(74);
  const ShallowReluNet net = test::random_net(1, 15, rng);
  const Dataset data = uniform_data(50, rng);
  const std::vector<Index> rows = {3, 3, 49, 0, 17, 3, 22, 22};
  expect_agreement(net, data, rng, rows);
}

TEST(UnivariateBackend, CachesNeverLeakBetweenCallsOrDataSets) {
  // One back end, alternating data sets of the same size, in-place changes of the targets and the
  // inputs, and nets that jump far (every cached count stale): each call must equal a fresh reference.
  Rng rng(75);
  const auto fast = make_backend("univariate");
  const auto reference = make_backend("cpu");
  Dataset a = uniform_data(30, rng), b = uniform_data(30, rng);
  for (int call = 0; call < 12; ++call) {
    SCOPED_TRACE("call " + std::to_string(call));
    Dataset& data = call % 2 == 0 ? a : b;
    if (call == 6) data.y[4] += 1.0;
    if (call == 8) data.X(7, 0) = -data.X(7, 0);
    const ShallowReluNet net = test::random_net(1, call % 3 == 0 ? 10 : 14, rng);
    Vec g_fast, g_ref;
    const double l_fast = fast->loss_and_grad(net, data, {}, &g_fast);
    const double l_ref = reference->loss_and_grad(net, data, {}, &g_ref);
    EXPECT_NEAR(l_fast, l_ref, kUnivariateAgreementTol * std::max(1.0, l_ref));
    EXPECT_LE(relative_difference(g_fast, g_ref), kUnivariateAgreementTol);
  }
}

TEST(UnivariateBackend, CurvatureOperatorOutlivesChangesToTheNet) {
  Rng rng(76);
  ShallowReluNet net = test::random_net(1, 9, rng);
  const Dataset data = uniform_data(20, rng);
  const ShallowReluNet original = net;
  const auto op = make_backend("univariate")->curvature(net, data, CurvatureKind::Hessian);
  net.theta().setConstant(3.0);  // the operator keeps the point it was made at
  const Matrix H = dense_hessian(original, data);
  const Vec e = Vec::Unit(original.n_params(), 4);
  Vec out;
  op->apply(e, out);
  EXPECT_LE(relative_difference(out, H * e), kUnivariateAgreementTol);
}

TEST(UnivariateBackend, GdRunsReachTheSameMinimumAsTheReference) {
  // A run that converges clearly below the edge of stability: the rounding differences between the
  // two back ends are contracted away, so the minima agree to 1e-6.
  Rng rng(77);
  const Dataset data = test::sine_problem(8, 1, 0.0, 78);
  ShallowReluNet init = initialize(1, 30, InitKind::TorchUniform, 1.0, rng);
  TrainOptions options;
  options.schedule.eta = 0.1;
  options.stop.max_steps = 400000;
  options.stop.loss_tol = 1e-3;  // the sine fit's slow tail is not what this test is about
  options.stop.patience = 50;
  options.log_every = 0;
  options.log_sharpness = false;
  const TrainResult fast = train(*make_backend("univariate"), init, data, options);
  const TrainResult reference = train(*make_backend("cpu"), init, data, options);
  ASSERT_EQ(reference.outcome, Outcome::Converged) << "loss " << reference.final_loss;
  ASSERT_EQ(fast.outcome, Outcome::Converged);
  const EigenResult top = sharpness(*make_backend("cpu"), reference.net, data);
  ASSERT_LT(top.value, 0.8 * 2.0 / options.schedule.eta);  // clearly below the edge
  EXPECT_LE(relative_difference(fast.net.theta(), reference.net.theta()), 1e-6);
  EXPECT_LE(std::abs(fast.steps - reference.steps), 5);
}

TEST(UnivariateBackend, SharpnessAtW1SizeMeetsTheResidualAndMatchesTheDenseSolver) {
  // W3 of bench/README.md: the W1 net (n = 30, k = 100) at a random point.
  Rng rng(79);
  const ShallowReluNet net = test::random_net(1, 100, rng, 0.6);
  const Dataset data = uniform_data(30, rng);
  SharpnessOptions options;
  options.lanczos.tol = 1e-9;
  const EigenResult fast = sharpness(*make_backend("univariate"), net, data, options);
  const EigenResult dense = dense_extreme_eigenpair(dense_hessian(net, data), Which::LargestAlgebraic);
  EXPECT_TRUE(fast.converged);
  EXPECT_GT(fast.iterations, 0);  // Lanczos on the O(n + k) product, not the dense path
  EXPECT_LE(fast.residual, 1e-9 * std::abs(fast.value));
  EXPECT_NEAR(fast.value, dense.value, 1e-9 * std::abs(dense.value));
}

TEST(UnivariateBackend, RejectsMultivariateNetsAndBadRows) {
  Rng rng(80);
  const ShallowReluNet planar = test::random_net(2, 4, rng);
  const Dataset planar_data = test::random_dataset(planar, 5, rng);
  const auto fast = make_backend("univariate");
  try {
    (void)fast->loss_and_grad(planar, planar_data, {}, nullptr);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("input dimension 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)fast->curvature(planar, planar_data, CurvatureKind::Hessian), InputError);
  const ShallowReluNet net = test::random_net(1, 4, rng);
  const Dataset data = uniform_data(6, rng);
  const std::vector<Index> past_end = {0, 6};
  EXPECT_THROW((void)fast->loss_and_grad(net, data, past_end, nullptr), InputError);
  Dataset short_targets = data;
  short_targets.y.resize(5);
  EXPECT_THROW((void)fast->loss_and_grad(net, short_targets, {}, nullptr), InputError);
}

TEST(UnivariateBackend, AutoPicksItForOneInputDimension) {
  EXPECT_EQ(resolve_backend_name("auto", 1), "univariate");
  EXPECT_EQ(resolve_backend_name("auto", 3), "cpu");
  EXPECT_EQ(resolve_backend_name("cpu", 1), "cpu");
  EXPECT_EQ(make_backend("univariate")->name(), "univariate");
}

}  // namespace
}  // namespace relustab
