// SPDX-License-Identifier: MIT
// The GeLU back end ("cpu-gelu") against a loop-based GeLU net written here, finite differences of its
// loss, an explicit Jacobian, thread counts, and a training run.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/train/trainer.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "test_util.h"

namespace relustab {
namespace {


/// f(x) = sum_i w2_i gelu(W1_i . x + b1_i) + b2, by plain loops over theta's documented layout.
double brute_output(const ShallowReluNet& net, const Eigen::Ref<const Vec>& x) {
  const Index d = net.input_dim();
  const Index k = net.width();
  const Vec& theta = net.theta();
  double f = theta[k * d + 2 * k];
  for (Index i = 0; i < k; ++i) {
    double pre = theta[k * d + i];
    for (Index c = 0; c < d; ++c) pre += theta[i * d + c] * x[c];
    f += theta[k * d + k + i] * test::gelu_by_erf(pre);
  }
  return f;
}

double brute_loss(const ShallowReluNet& net, const Dataset& data) {
  double sum = 0.0;
  for (Index j = 0; j < data.n(); ++j) {
    const double r = brute_output(net, data.X.row(j).transpose()) - data.y[j];
    sum += r * r;
  }
  return sum / (2.0 * static_cast<double>(data.n()));
}

ShallowReluNet moved(const ShallowReluNet& net, const Vec& direction, double t) {
  ShallowReluNet out = net;
  out.theta() += t * direction;
  return out;
}

Vec random_vector(Index size, Rng& rng) {
  Vec v(size);
  for (Index p = 0; p < size; ++p) v[p] = rng.normal();
  return v;
}

using Shape = test::NetShape;

class GeluBackendTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    const Shape s = GetParam();
    Rng rng(4321 + static_cast<std::uint64_t>(s.input_dim));
    net_ = test::random_net(s.input_dim, s.width, rng);
    // Any data will do (GeLU is smooth); random_dataset also gives N(0, 1) targets, so the residuals
    // and with them the second-order (gelu'') part of the Hessian are far from 0.
    data_ = test::random_dataset(net_, s.n, rng, 0.0);
    backend_ = make_backend("cpu-gelu");
  }

  Vec gradient(const ShallowReluNet& net) const {
    Vec g;
    backend_->loss_and_grad(net, data_, {}, &g);
    return g;
  }

  ShallowReluNet net_;
  Dataset data_;
  std::unique_ptr<Backend> backend_;
};

// Central differences of a smooth loss with O(1..10) values and derivatives: step h gives truncation
// h^2 |L'''| / 6 and rounding eps |L| / h. For the gradient, h = 1e-5: ~1e-10 each.
constexpr double kGradStep = 1e-5;
constexpr double kGradTol = 1e-7;
// Mixed second differences of the loss: truncation ~h^2, rounding ~eps |L| / h^2; h = 1e-4 balances
// them near 1e-8.
constexpr double kSecondStep = 1e-4;
constexpr double kSecondTol = 1e-5;
constexpr double kGeluRoundingTol = 1e-12;

TEST_P(GeluBackendTest, LossMatchesBruteForceLoop) {
  const double loss = backend_->loss_and_grad(net_, data_, {}, nullptr);
  EXPECT_NEAR(loss, brute_loss(net_, data_), kGeluRoundingTol * (1.0 + loss));
  // GeLU is not ReLU: the ReLU reference gives another loss here.
  EXPECT_GT(std::abs(loss - test::brute_force_loss(net_, data_)), 1e-3);
}

TEST_P(GeluBackendTest, GradientMatchesFiniteDifferencesOfBruteForceLoss) {
  const Vec grad = gradient(net_);
  ASSERT_EQ(grad.size(), net_.n_params());
  Vec fd(net_.n_params());
  for (Index p = 0; p < net_.n_params(); ++p) {
    const Vec e = Vec::Unit(net_.n_params(), p);
    fd[p] = (brute_loss(moved(net_, e, kGradStep), data_) -
             brute_loss(moved(net_, e, -kGradStep), data_)) / (2.0 * kGradStep);
  }
  EXPECT_LE((grad - fd).lpNorm<Eigen::Infinity>(), kGradTol * (1.0 + fd.lpNorm<Eigen::Infinity>()));
}

TEST_P(GeluBackendTest, MiniBatchRowsMatchGatheredSubDataset) {
  const std::vector<Index> rows = {7, 2, 11, 2, 0, data_.n() - 1};
  Dataset sub;
  sub.X.resize(static_cast<Index>(rows.size()), data_.dim());
  sub.y.resize(static_cast<Index>(rows.size()));
  for (size_t b = 0; b < rows.size(); ++b) {
    sub.X.row(static_cast<Index>(b)) = data_.X.row(rows[b]);
    sub.y[static_cast<Index>(b)] = data_.y[rows[b]];
  }
  Vec grad, sub_grad;
  const double loss = backend_->loss_and_grad(net_, data_, rows, &grad);
  EXPECT_NEAR(loss, brute_loss(net_, sub), kGeluRoundingTol * (1.0 + loss));
  backend_->loss_and_grad(net_, sub, {}, &sub_grad);
  EXPECT_LE((grad - sub_grad).lpNorm<Eigen::Infinity>(),
            kGeluRoundingTol * (1.0 + sub_grad.lpNorm<Eigen::Infinity>()));
}

TEST_P(GeluBackendTest, HessianVectorProductMatchesFiniteDifferences) {
  const auto hessian = backend_->curvature(net_, data_, CurvatureKind::Hessian);
  ASSERT_EQ(hessian->size(), net_.n_params());
  Rng rng(99);
  for (int trial = 0; trial < 2; ++trial) {
    Vec v = random_vector(net_.n_params(), rng);
    v /= v.norm();
    Vec hv;
    hessian->apply(v, hv);
    // (a) central differences of the back end's gradient (checked against the loss above).
    const Vec fd_of_grad = (gradient(moved(net_, v, kGradStep)) - gradient(moved(net_, v, -kGradStep))) /
                           (2.0 * kGradStep);
    EXPECT_LE((hv - fd_of_grad).lpNorm<Eigen::Infinity>(),
              kGradTol * (1.0 + fd_of_grad.lpNorm<Eigen::Infinity>()));
    // (b) mixed second differences of the brute-force loss alone: e_p^T H v entry by entry.
    Vec fd(net_.n_params());
    const double h = kSecondStep;
    for (Index p = 0; p < net_.n_params(); ++p) {
      const Vec e = Vec::Unit(net_.n_params(), p);
      fd[p] = (brute_loss(moved(net_, v + e, h), data_) - brute_loss(moved(net_, v - e, h), data_) -
               brute_loss(moved(net_, -v + e, h), data_) + brute_loss(moved(net_, -v - e, h), data_)) /
              (4.0 * h * h);
    }
    EXPECT_LE((hv - fd).lpNorm<Eigen::Infinity>(), kSecondTol * (1.0 + fd.lpNorm<Eigen::Infinity>()));
  }
}

TEST_P(GeluBackendTest, HessianIncludesTheSecondDerivativeOfGelu) {
  // u^T H v = v^T H u (a symmetric operator), and H differs from the Gauss-Newton matrix by the
  // residual-weighted second-order term, which is non-zero here.
  const auto hessian = backend_->curvature(net_, data_, CurvatureKind::Hessian);
  const auto gn = backend_->curvature(net_, data_, CurvatureKind::GaussNewton);
  Rng rng(5);
  const Vec u = random_vector(net_.n_params(), rng);
  const Vec v = random_vector(net_.n_params(), rng);
  Vec hu, hv, gv;
  hessian->apply(u, hu);
  hessian->apply(v, hv);
  gn->apply(v, gv);
  EXPECT_NEAR(u.dot(hv), v.dot(hu), kGeluRoundingTol * 10.0 * (1.0 + std::abs(u.dot(hv))));
  EXPECT_GT((hv - gv).norm(), 1e-2 * hv.norm());
  // Only W1 moving (v in the W1 block): the first-layer Hessian block needs gelu'' (for ReLU the
  // second-order part of that block is 0). Compare v^T H v with the second difference of the loss.
  Vec w = Vec::Zero(net_.n_params());
  w.head(net_.width() * net_.input_dim()) = random_vector(net_.width() * net_.input_dim(), rng);
  Vec hw, gw;
  hessian->apply(w, hw);
  gn->apply(w, gw);
  const double h = kSecondStep;
  const double second = (brute_loss(moved(net_, w, h), data_) - 2.0 * brute_loss(net_, data_) +
                         brute_loss(moved(net_, w, -h), data_)) / (h * h);
  EXPECT_NEAR(w.dot(hw), second, kSecondTol * (1.0 + std::abs(second)));
  EXPECT_GT(std::abs(w.dot(hw) - w.dot(gw)), 1e-3 * (1.0 + std::abs(second)));
}

TEST_P(GeluBackendTest, GaussNewtonIsJacobianTransposeJacobian) {
  // J (n x P) by central differences of the brute-force output, sample by sample.
  const Index P = net_.n_params();
  Matrix J(data_.n(), P);
  for (Index p = 0; p < P; ++p) {
    const ShallowReluNet plus = moved(net_, Vec::Unit(P, p), kGradStep);
    const ShallowReluNet minus = moved(net_, Vec::Unit(P, p), -kGradStep);
    for (Index j = 0; j < data_.n(); ++j) {
      const auto x = data_.X.row(j).transpose();
      J(j, p) = (brute_output(plus, x) - brute_output(minus, x)) / (2.0 * kGradStep);
    }
  }
  const auto gn = backend_->curvature(net_, data_, CurvatureKind::GaussNewton);
  Rng rng(7);
  const Vec v = random_vector(P, rng);
  Vec gv;
  gn->apply(v, gv);
  const Vec expected = J.transpose() * (J * v) / static_cast<double>(data_.n());
  EXPECT_LE((gv - expected).lpNorm<Eigen::Infinity>(),
            kGradTol * (1.0 + expected.lpNorm<Eigen::Infinity>()));
}

INSTANTIATE_TEST_SUITE_P(InputDims, GeluBackendTest,
                         ::testing::Values(Shape{1, 7, 25}, Shape{4, 5, 30}),
                         [](const auto& param_info) { return test::dim_label(param_info.param.input_dim); });

TEST(GeluBackend, ActivationValuesAndDerivatives) {
  // gelu(0) = 0, gelu'(0) = 1/2, gelu''(0) = 2 phi(0); far left the function and its slope vanish
  // without cancellation (the erfc form), far right gelu(z) = z. Read off a one-neuron net in 1-D:
  // f(x) = gelu(x) with W1 = 1, b1 = 0, w2 = 1, b2 = 0.
  ShallowReluNet net(1, 1);
  net.W1()(0, 0) = 1.0;
  net.w2()[0] = 1.0;
  const auto backend = make_backend("cpu-gelu");
  auto loss_at = [&](double x, double y) {
    Dataset data{RowMatrix::Constant(1, 1, x), Vec::Constant(1, y), Vec()};
    return backend->loss_and_grad(net, data, {}, nullptr);
  };
  // loss = (f(x) - y)^2 / 2 with y = 0 gives f(x)^2 / 2.
  EXPECT_EQ(loss_at(0.0, 0.0), 0.0);
  EXPECT_NEAR(std::sqrt(2.0 * loss_at(1.0, 0.0)), 0.8413447460685429, 1e-15);  // Phi(1)
  EXPECT_NEAR(std::sqrt(2.0 * loss_at(10.0, 0.0)), 10.0, 1e-15);
  // gelu(-10) = -10 Phi(-10) = -7.619853024160527e-23; 1 + erf would round it to 0.
  EXPECT_NEAR(std::sqrt(2.0 * loss_at(-10.0, 0.0)), 7.619853024160527e-23, 1e-36);
  // At x = 0 with target y: d loss / d b1 = (f - y) w2 gelu'(0) = -y / 2, and the Hessian entry
  // (b1, b1) = w2^2 gelu'(0)^2 + (f - y) w2 gelu''(0) = 1/4 - y 2 phi(0).
  const double y = 0.75;
  Dataset data{RowMatrix::Constant(1, 1, 0.0), Vec::Constant(1, y), Vec()};
  Vec g;
  backend->loss_and_grad(net, data, {}, &g);
  EXPECT_NEAR(g[net.offset_b1()], -y / 2.0, 1e-16);
  Vec hv;
  backend->curvature(net, data, CurvatureKind::Hessian)->apply(Vec::Unit(net.n_params(), net.offset_b1()), hv);
  const double phi0 = 1.0 / std::sqrt(2.0 * std::numbers::pi);
  EXPECT_NEAR(hv[net.offset_b1()], 0.25 - y * 2.0 * phi0, 1e-15);
}

TEST(GeluBackend, BitIdenticalForAnyThreadCount) {
  // n = 1000 spans four blocks of 256 samples.
  Rng rng(2024);
  const ShallowReluNet net = test::random_net(3, 10, rng);
  const Dataset data = test::random_dataset(net, 1000, rng, 0.0);
  const Vec v = random_vector(net.n_params(), rng);
  struct Outputs {
    double loss;
    Vec grad, hv, gv;
  };
  auto run = [&](int threads) {
    const auto backend = make_backend("cpu-gelu", RunContext{threads});
    Outputs out;
    out.loss = backend->loss_and_grad(net, data, {}, &out.grad);
    backend->curvature(net, data, CurvatureKind::Hessian)->apply(v, out.hv);
    backend->curvature(net, data, CurvatureKind::GaussNewton)->apply(v, out.gv);
    return out;
  };
  const Outputs one = run(1);
  EXPECT_NEAR(one.loss, brute_loss(net, data), kGeluRoundingTol * (1.0 + one.loss));
  for (int threads : {2, 3}) {
    SCOPED_TRACE("threads = " + std::to_string(threads));
    const Outputs many = run(threads);
    EXPECT_EQ(one.loss, many.loss);
    EXPECT_TRUE(one.grad == many.grad);
    EXPECT_TRUE(one.hv == many.hv);
    EXPECT_TRUE(one.gv == many.gv);
  }
}

TEST(GeluBackend, TrainingThroughTheTrainerDecreasesTheLoss) {
  // Small-step GD on the GeLU loss: by the descent lemma every step lowers the loss. The logged
  // mse_clean is the GeLU net's (computed by the back end), checked against the loop here.
  Rng rng(77);
  ShallowReluNet net = test::random_net(2, 12, rng, 0.5);
  Dataset data = test::random_dataset(net, 40, rng, 0.0);
  data.y_clean.resize(data.n());
  for (Index j = 0; j < data.n(); ++j) {
    data.y_clean[j] = std::sin(2.0 * data.X(j, 0)) + 0.5 * data.X(j, 1);
    data.y[j] = data.y_clean[j] + 0.05 * rng.normal();
  }
  net.set_activation(Activation::Gelu);
  const auto backend = make_backend("cpu-gelu");
  TrainOptions options;
  options.schedule.eta = 0.05;
  options.stop.max_steps = 500;
  options.log_every = 1;
  options.log_sharpness = false;
  const TrainResult result = train(*backend, net, data, options);
  ASSERT_EQ(result.log.size(), 501u);
  for (size_t t = 1; t < result.log.size(); ++t) {
    EXPECT_LT(result.log[t].loss, result.log[t - 1].loss) << "step " << t;
  }
  EXPECT_LT(result.final_loss, 0.5 * result.log.front().loss);
  EXPECT_NEAR(result.final_loss, brute_loss(result.net, data), kGeluRoundingTol * result.final_loss);
  double mse = 0.0;
  for (Index j = 0; j < data.n(); ++j) {
    const double e = brute_output(result.net, data.X.row(j).transpose()) - data.y_clean[j];
    mse += e * e / static_cast<double>(data.n());
  }
  EXPECT_NEAR(result.log.back().mse_clean, mse, kGeluRoundingTol * mse);
  // Adam drives the same loss down too (paper 4 combines GeLU and Adam).
  options.optimizer = Optimizer::Adam;
  options.schedule.eta = 0.01;
  options.log_every = 0;
  EXPECT_LT(train(*backend, net, data, options).final_loss, 0.5 * result.log.front().loss);
}

TEST(GeluBackend, RegisteredByNameAndChecksItsInput) {
  const auto names = backend_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "cpu-gelu"), names.end());
  EXPECT_EQ(make_backend("cpu-gelu")->name(), "cpu-gelu");
  Rng rng(3);
  const ShallowReluNet net = test::random_net(2, 4, rng);
  const ShallowReluNet other = test::random_net(3, 4, rng);
  const auto backend = make_backend("cpu-gelu");
  Dataset data = test::random_dataset(other, 6, rng, 0.0);
  EXPECT_THROW((void)backend->loss_and_grad(net, data, {}, nullptr), InputError);
  EXPECT_THROW((void)backend->curvature(net, data, CurvatureKind::Hessian), InputError);
  data = test::random_dataset(net, 6, rng, 0.0);
  const std::vector<Index> past_end = {0, 6};
  EXPECT_THROW((void)backend->loss_and_grad(net, data, past_end, nullptr), InputError);
  data.y.resize(5);
  EXPECT_THROW((void)backend->loss_and_grad(net, data, {}, nullptr), InputError);
}

}  // namespace
}  // namespace relustab
