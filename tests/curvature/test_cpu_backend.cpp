// SPDX-License-Identifier: MIT
// The back end under test (the CPU reference unless RELUSTAB_TEST_BACKEND names another) against finite
// differences, brute-force loops and explicit matrices.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "test_util.h"

namespace relustab {
namespace {

/// Central-difference step. Pre-activations move by at most h (||x||_1 + 1) ~ 1e-4 < kKinkMargin, so
/// no step crosses a kink and the loss is a polynomial along it.
constexpr double kCpuFdStep = 1e-5;
/// Central differences of a quartic-in-theta loss: truncation h^2 |L'''| / 6 ~ 1e-10 and rounding
/// eps |L| / h ~ 1e-10 for the O(1..10) losses here; 1e-7 leaves a wide margin yet catches any
/// wrong entry (which would be O(1e-2) or larger).
constexpr double kCpuFdTol = 1e-7;
/// Two ways of summing the same few hundred float64 terms in a different order.
constexpr double kCpuRoundingTol = 1e-12;

using Shape = test::NetShape;

class CpuBackendTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    const Shape s = GetParam();
    if (!test::backend_supports(s.input_dim)) GTEST_SKIP() << "input dimension " << s.input_dim;
    Rng rng(1234 + static_cast<std::uint64_t>(s.input_dim));
    net_ = test::random_net(s.input_dim, s.width, rng);
    data_ = test::random_dataset(net_, s.n, rng);
    backend_ = test::make_backend_under_test();
  }

  /// Central-difference gradient of `loss` at net_'s parameters.
  template <class Loss>
  Vec fd_gradient(Loss&& loss) const {
    Vec g(net_.n_params());
    for (Index p = 0; p < net_.n_params(); ++p) {
      ShallowReluNet plus = net_, minus = net_;
      plus.theta()[p] += kCpuFdStep;
      minus.theta()[p] -= kCpuFdStep;
      g[p] = (loss(plus) - loss(minus)) / (2.0 * kCpuFdStep);
    }
    return g;
  }

  Vec backend_gradient(const ShallowReluNet& net) const {
    Vec g;
    backend_->loss_and_grad(net, data_, {}, &g);
    return g;
  }

  ShallowReluNet net_;
  Dataset data_;
  std::unique_ptr<Backend> backend_;
};

TEST_P(CpuBackendTest, LossMatchesBruteForceLoop) {
  const double loss = backend_->loss_and_grad(net_, data_, {}, nullptr);
  EXPECT_NEAR(loss, test::brute_force_loss(net_, data_), kCpuRoundingTol * (1.0 + loss));
}

TEST_P(CpuBackendTest, GradientMatchesFiniteDifferences) {
  Vec grad;
  backend_->loss_and_grad(net_, data_, {}, &grad);
  const Vec fd = fd_gradient([&](const ShallowReluNet& n) { return test::brute_force_loss(n, data_); });
  ASSERT_EQ(grad.size(), net_.n_params());
  EXPECT_LE((grad - fd).lpNorm<Eigen::Infinity>(), kCpuFdTol * (1.0 + fd.lpNorm<Eigen::Infinity>()));
}

TEST_P(CpuBackendTest, MiniBatchRowsMatchGatheredSubDataset) {
  // Out of order and with a repeat: a mini-batch is a multiset of row indices.
  const std::vector<Index> rows = {7, 2, 11, 2, 0, data_.n() - 1};
  Dataset sub;
  sub.X.resize(static_cast<Index>(rows.size()), data_.dim());
  sub.y.resize(static_cast<Index>(rows.size()));
  for (size_t b = 0; b < rows.size(); ++b) {
    sub.X.row(static_cast<Index>(b)) = data_.X.row(rows[b]);
    sub.y[static_cast<Index>(b)] = data_.y[rows[b]];
  }
  Vec grad;
  const double loss = backend_->loss_and_grad(net_, data_, rows, &grad);
  EXPECT_NEAR(loss, test::brute_force_loss(net_, sub), kCpuRoundingTol * (1.0 + loss));
  const Vec fd = fd_gradient([&](const ShallowReluNet& n) { return test::brute_force_loss(n, sub); });
  EXPECT_LE((grad - fd).lpNorm<Eigen::Infinity>(), kCpuFdTol * (1.0 + fd.lpNorm<Eigen::Infinity>()));
}

TEST_P(CpuBackendTest, HessianVectorProductMatchesFiniteDifferencesOfGradient) {
  const auto hessian = backend_->curvature(net_, data_, CurvatureKind::Hessian);
  ASSERT_EQ(hessian->size(), net_.n_params());
  Rng rng(99);
  for (int trial = 0; trial < 3; ++trial) {
    Vec v(net_.n_params());
    for (Index p = 0; p < v.size(); ++p) v[p] = rng.normal();
    v /= v.norm();
    ShallowReluNet plus = net_, minus = net_;
    plus.theta() += kCpuFdStep * v;
    minus.theta() -= kCpuFdStep * v;
    const Vec fd = (backend_gradient(plus) - backend_gradient(minus)) / (2.0 * kCpuFdStep);
    Vec hv;
    hessian->apply(v, hv);
    EXPECT_LE((hv - fd).lpNorm<Eigen::Infinity>(), kCpuFdTol * (1.0 + fd.lpNorm<Eigen::Infinity>()));
  }
}

TEST_P(CpuBackendTest, GaussNewtonOperatorMatchesTangentFeatures) {
  const auto gn = backend_->curvature(net_, data_, CurvatureKind::GaussNewton);
  const Matrix Phi = tangent_features(net_, data_);
  Rng rng(7);
  Vec v(net_.n_params());
  for (Index p = 0; p < v.size(); ++p) v[p] = rng.normal();
  Vec gv;
  gn->apply(v, gv);
  const Vec expected = Phi * (Phi.transpose() * v) / static_cast<double>(data_.n());
  EXPECT_LE((gv - expected).lpNorm<Eigen::Infinity>(),
            kCpuRoundingTol * (1.0 + expected.lpNorm<Eigen::Infinity>()));
}

INSTANTIATE_TEST_SUITE_P(InputDims, CpuBackendTest,
                         ::testing::Values(Shape{1, 8, 30}, Shape{5, 6, 40}),
                         [](const auto& param_info) { return test::dim_label(param_info.param.input_dim); });

TEST(CpuBackendDeterminism, BitIdenticalForAnyThreadCount) {
  if (!test::backend_supports(3)) GTEST_SKIP() << "input dimension 3";
  // n = 1000 spans four blocks of detail::kSamplesPerBlock = 256 samples.
  Rng rng(2024);
  const ShallowReluNet net = test::random_net(3, 10, rng);
  const Dataset data = test::random_dataset(net, 1000, rng);
  Vec v(net.n_params());
  for (Index p = 0; p < v.size(); ++p) v[p] = rng.normal();

  struct Outputs {
    double loss;
    Vec grad, hv, gv;
  };
  auto run = [&](int threads) {
    const auto backend = test::make_backend_under_test(RunContext{threads});
    Outputs out;
    out.loss = backend->loss_and_grad(net, data, {}, &out.grad);
    backend->curvature(net, data, CurvatureKind::Hessian)->apply(v, out.hv);
    backend->curvature(net, data, CurvatureKind::GaussNewton)->apply(v, out.gv);
    return out;
  };
  const Outputs one = run(1);
  for (int threads : {2, 3}) {
    SCOPED_TRACE("threads = " + std::to_string(threads));
    const Outputs many = run(threads);
    EXPECT_EQ(one.loss, many.loss);  // exact: the summation order must not depend on threads
    EXPECT_TRUE(one.grad == many.grad);
    EXPECT_TRUE(one.hv == many.hv);
    EXPECT_TRUE(one.gv == many.gv);
  }
}

TEST(CpuBackendBlocks, SeveralBlocksMatchBruteForce) {
  if (!test::backend_supports(2)) GTEST_SKIP() << "input dimension 2";
  // n = 1000 > detail::kSamplesPerBlock: every block's partial sum must reach the total.
  Rng rng(2025);
  const ShallowReluNet net = test::random_net(2, 5, rng);
  const Dataset data = test::random_dataset(net, 1000, rng);
  const auto backend = test::make_backend_under_test(RunContext{2});
  Vec grad;
  const double loss = backend->loss_and_grad(net, data, {}, &grad);
  EXPECT_NEAR(loss, test::brute_force_loss(net, data), kCpuRoundingTol * (1.0 + loss));
  const Matrix Phi = tangent_features(net, data);
  Vec residual(data.n());
  for (Index j = 0; j < data.n(); ++j) {
    residual[j] = test::brute_force_output(net, data.X.row(j).transpose()) - data.y[j];
  }
  const Vec expected_grad = Phi * residual / static_cast<double>(data.n());
  EXPECT_LE((grad - expected_grad).lpNorm<Eigen::Infinity>(),
            kCpuRoundingTol * (1.0 + expected_grad.lpNorm<Eigen::Infinity>()));
  Vec v = Vec::Ones(net.n_params());
  Vec gv;
  backend->curvature(net, data, CurvatureKind::GaussNewton)->apply(v, gv);
  const Vec expected_gv = Phi * (Phi.transpose() * v) / static_cast<double>(data.n());
  EXPECT_LE((gv - expected_gv).lpNorm<Eigen::Infinity>(),
            kCpuRoundingTol * (1.0 + expected_gv.lpNorm<Eigen::Infinity>()));
}

/// Second-order one-sided difference (-3 F(0) + 4 F(h) - F(2h)) / (2h) of a polynomial path F(t):
/// the derivative at t = 0+ (error O(h^2)).
template <class T>
T one_sided_derivative(const T& at0, const T& at1, const T& at2, double h) {
  return (-3.0 * at0 + 4.0 * at1 - at2) / (2.0 * h);
}

TEST(CpuBackendKink, NeuronExactlyAtASampleCountsAsInactive) {
  // relu'(0) = 0: at a sample where neuron 0's pre-activation is exactly 0, the gradient and the
  // Hessian are those of the mode in which the neuron is off there, i.e. the one-sided derivatives
  // along directions that push the pre-activation below 0.
  for (Index d : {1, 5}) {
    if (!test::backend_supports(d)) continue;
    SCOPED_TRACE("d = " + std::to_string(d));
    Rng rng(606 + static_cast<std::uint64_t>(d));
    ShallowReluNet net = test::random_net(d, 5, rng);
    net.W1().row(0).setZero();
    net.W1()(0, 0) = 2.0;
    net.b1()[0] = -1.0;
    Dataset data = test::random_dataset(net, 20, rng);
    data.X(0, 0) = 0.5;  // pre-activation 2 * 0.5 - 1 = 0 exactly, other neurons generic
    const double at_kink = net.W1().row(0).dot(data.X.row(0)) + net.b1()[0];
    ASSERT_EQ(at_kink, 0.0);
    ASSERT_GE(test::min_abs_preactivation(net, data.X.row(1).transpose()), test::kKinkMargin);

    Vec v(net.n_params());
    for (Index p = 0; p < v.size(); ++p) v[p] = rng.normal();
    // Direction of the kink neuron's pre-activation at sample 0 along v; make it clearly negative.
    double slope = v.head(d).dot(data.X.row(0).transpose()) + v[net.offset_b1()];
    if (slope > 0.0) {
      v = -v;
      slope = -slope;
    }
    ASSERT_LT(slope, -1e-2);

    const auto backend = test::make_backend_under_test();
    auto gradient_at = [&](double t, Vec* g) {
      ShallowReluNet moved = net;
      moved.theta() += t * v;
      return backend->loss_and_grad(moved, data, {}, g);
    };
    Vec g0, g1, g2;
    const double l0 = gradient_at(0.0, &g0);
    const double l1 = gradient_at(kCpuFdStep, &g1);
    const double l2 = gradient_at(2.0 * kCpuFdStep, &g2);
    const double inactive_slope = one_sided_derivative(l0, l1, l2, kCpuFdStep);
    EXPECT_NEAR(g0.dot(v), inactive_slope, kCpuFdTol * (1.0 + std::abs(inactive_slope)));
    Vec hv;
    backend->curvature(net, data, CurvatureKind::Hessian)->apply(v, hv);
    const Vec fd_hv = one_sided_derivative(g0, g1, g2, kCpuFdStep);
    EXPECT_LE((hv - fd_hv).lpNorm<Eigen::Infinity>(), kCpuFdTol * (1.0 + fd_hv.lpNorm<Eigen::Infinity>()));
    // The dense Hessian (built separately) follows the same convention.
    EXPECT_LE((dense_hessian(net, data) * v - hv).lpNorm<Eigen::Infinity>(),
              kCpuRoundingTol * (1.0 + hv.lpNorm<Eigen::Infinity>()));

    // The other side differs, so the checks above do pin down the convention.
    const double active_slope =
        -one_sided_derivative(l0, gradient_at(-kCpuFdStep, nullptr), gradient_at(-2.0 * kCpuFdStep, nullptr),
                              kCpuFdStep);
    EXPECT_GT(std::abs(active_slope - inactive_slope), 1e-4);
  }
}

TEST(BackendRegistry, UnknownNameListsCompiledInBackends) {
  try {
    (void)make_backend("nope");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("nope"), std::string::npos) << message;
    EXPECT_NE(message.find("cpu"), std::string::npos) << message;
  }
}

TEST(BackendRegistry, CpuIsListedAndConstructible) {
  const auto names = backend_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "cpu"), names.end());
  EXPECT_EQ(make_backend("cpu")->name(), "cpu");
}

TEST(BackendRegistry, RejectsNonPositiveThreadCount) {
  EXPECT_THROW((void)make_backend("cpu", RunContext{0}), InputError);
}

TEST(CpuBackendInput, MismatchedInputDimensionThrows) {
  Rng rng(3);
  const ShallowReluNet net = test::random_net(2, 4, rng);
  const ShallowReluNet other = test::random_net(3, 4, rng);
  const Dataset data = test::random_dataset(other, 5, rng);
  const auto backend = make_backend("cpu");
  EXPECT_THROW((void)backend->loss_and_grad(net, data, {}, nullptr), InputError);
  EXPECT_THROW((void)backend->curvature(net, data, CurvatureKind::Hessian), InputError);
}

TEST(CpuBackendInput, BadRowsAndInconsistentDataThrow) {
  Rng rng(4);
  const ShallowReluNet net = test::random_net(2, 4, rng);
  Dataset data = test::random_dataset(net, 6, rng);
  const auto backend = make_backend("cpu");
  const std::vector<Index> past_end = {0, 6};
  const std::vector<Index> negative = {-1};
  EXPECT_THROW((void)backend->loss_and_grad(net, data, past_end, nullptr), InputError);
  EXPECT_THROW((void)backend->loss_and_grad(net, data, negative, nullptr), InputError);
  data.y.resize(5);  // one target short
  EXPECT_THROW((void)backend->loss_and_grad(net, data, {}, nullptr), InputError);
  EXPECT_THROW((void)backend->curvature(net, data, CurvatureKind::GaussNewton), InputError);
  const Dataset empty{RowMatrix(0, 2), Vec(0), Vec()};
  EXPECT_THROW((void)backend->loss_and_grad(net, empty, {}, nullptr), InputError);
}

}  // namespace
}  // namespace relustab
