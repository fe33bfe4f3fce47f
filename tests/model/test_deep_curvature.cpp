// SPDX-License-Identifier: MIT
// Loss, gradient, Hessian- and Gauss-Newton-vector products and sharpness of the two-hidden-layer
// net, against brute-force loops, finite differences and dense eigensolvers; the pyramid as a
// minimum.
#include <relustab/core/error.h>
#include <relustab/curvature/deep_curvature.h>

#include "dense_oracles.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "model/deep_test_util.h"

namespace relustab {
namespace {

/// Central-difference step for first derivatives of the loss or the outputs. Pre-activations move
/// by O(1e-4) at most, far below kDeepKinkMargin, so each quotient sees one polynomial piece.
constexpr double kFdStep = 1e-5;
/// Central differences of a degree-6 polynomial loss: truncation h^2 |L'''| / 6 ~ 1e-9 and rounding
/// eps |L| / h ~ 1e-10 for the O(1..10) losses here; 1e-6 is wide yet any wrong entry is O(1e-2).
constexpr double kFdTol = 1e-6;
/// Mixed second differences of the loss (the HVP oracle from the loss alone): step 2e-4 keeps the
/// rounding eps |L| / h^2 ~ 1e-8 and the truncation h^2 |L''''| ~ 1e-6; hence the looser tolerance.
constexpr double kSecondFdStep = 2e-4;
constexpr double kSecondFdTol = 2e-5;
/// Two routes summing the same float64 terms in a different order.
constexpr double kDeepCurvatureRoundingTol = 1e-11;

using test::message_of;

using test::max_abs;

Vec gradient(const DeepReluNet& net, const Dataset& data, const RunContext& context = {}) {
  Vec g;
  deep_loss_and_grad(net, data, {}, &g, context);
  return g;
}

Vec apply(const LinearOperator& op, const Vec& v) {
  Vec out;
  op.apply(v, out);
  return out;
}

/// Columns A e_c of an operator, without any symmetrisation.
Matrix raw_columns(const LinearOperator& op) {
  Matrix A(op.size(), op.size());
  for (Index c = 0; c < op.size(); ++c) A.col(c) = apply(op, Vec::Unit(op.size(), c));
  return A;
}

/// The Hessian by central differences of the analytic gradient, column by column (symmetrised).
Matrix fd_hessian_of_gradient(const DeepReluNet& net, const Dataset& data) {
  const Index p = net.n_params();
  Matrix H(p, p);
  for (Index c = 0; c < p; ++c) {
    DeepReluNet plus = net, minus = net;
    plus.theta()[c] += kFdStep;
    minus.theta()[c] -= kFdStep;
    H.col(c) = (gradient(plus, data) - gradient(minus, data)) / (2.0 * kFdStep);
  }
  return (H + H.transpose()) / 2.0;
}

Vec random_unit(Index size, Rng& rng) {
  Vec v(size);
  for (Index i = 0; i < size; ++i) v[i] = rng.normal();
  return v / v.norm();
}

struct Shape {
  Index d, k1, k2, n;
};

class DeepCurvatureTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    const Shape s = GetParam();
    Rng rng(500 + static_cast<std::uint64_t>(s.d * 10 + s.k1));
    net_ = test::random_deep_net(s.d, s.k1, s.k2, rng);
    data_ = test::random_deep_dataset(net_, s.n, rng);
    direction_ = random_unit(net_.n_params(), rng);
  }

  DeepReluNet net_;
  Dataset data_;
  Vec direction_;
};

TEST_P(DeepCurvatureTest, LossMatchesBruteForceLoop) {
  const double expected = test::brute_force_deep_loss(net_, data_);
  EXPECT_NEAR(deep_loss_and_grad(net_, data_, {}, nullptr), expected, kDeepCurvatureRoundingTol * expected);
  Vec g;
  EXPECT_NEAR(deep_loss_and_grad(net_, data_, {}, &g), expected, kDeepCurvatureRoundingTol * expected);
  EXPECT_EQ(g.size(), net_.n_params());
}

TEST_P(DeepCurvatureTest, GradientMatchesFiniteDifferencesOfBruteForceLoss) {
  const Vec g = gradient(net_, data_);
  for (Index p = 0; p < net_.n_params(); ++p) {
    DeepReluNet plus = net_, minus = net_;
    plus.theta()[p] += kFdStep;
    minus.theta()[p] -= kFdStep;
    const double fd =
        (test::brute_force_deep_loss(plus, data_) - test::brute_force_deep_loss(minus, data_)) /
        (2.0 * kFdStep);
    EXPECT_NEAR(g[p], fd, kFdTol * (1.0 + std::abs(fd))) << "parameter " << p;
  }
  EXPECT_GT(g.norm(), 1e-2);  // a random point: the comparison is not 0 = 0
}

TEST_P(DeepCurvatureTest, MiniBatchRowsEqualTheGatheredDataSet) {
  const std::vector<Index> rows{2, 0, 2, data_.n() - 1};
  Dataset gathered;
  gathered.X.resize(4, data_.dim());
  gathered.y.resize(4);
  for (Index b = 0; b < 4; ++b) {
    gathered.X.row(b) = data_.X.row(rows[static_cast<size_t>(b)]);
    gathered.y[b] = data_.y[rows[static_cast<size_t>(b)]];
  }
  Vec g_rows;
  const double loss_rows = deep_loss_and_grad(net_, data_, rows, &g_rows);
  const double expected = test::brute_force_deep_loss(net_, gathered);
  EXPECT_NEAR(loss_rows, expected, kDeepCurvatureRoundingTol * expected);
  const Vec g_gathered = gradient(net_, gathered);
  EXPECT_LE((g_rows - g_gathered).cwiseAbs().maxCoeff(), kDeepCurvatureRoundingTol * (1.0 + g_gathered.norm()));
  EXPECT_TRUE(message_of([&] {
                const std::vector<Index> bad{0, data_.n()};
                deep_loss_and_grad(net_, data_, bad, nullptr);
              }).find("out of range") != std::string::npos);
}

TEST_P(DeepCurvatureTest, HvpMatchesMixedFiniteDifferencesOfBruteForceLoss) {
  const auto H = deep_curvature(net_, data_, CurvatureKind::Hessian);
  ASSERT_EQ(H->size(), net_.n_params());
  const Vec Hv = apply(*H, direction_);
  const double h = kSecondFdStep;
  auto loss_at = [&](Index p, double along_p, double along_v) {
    DeepReluNet moved = net_;
    moved.theta() += along_v * direction_;
    moved.theta()[p] += along_p;
    return test::brute_force_deep_loss(moved, data_);
  };
  const double scale = 1.0 + Hv.cwiseAbs().maxCoeff();
  for (Index p = 0; p < net_.n_params(); ++p) {
    // d^2 L / (d theta_p d v) = [L(+h e_p + h v) - L(+h e_p - h v) - L(-h e_p + h v)
    //                             + L(-h e_p - h v)] / 4h^2
    const double fd =
        (loss_at(p, h, h) - loss_at(p, h, -h) - loss_at(p, -h, h) + loss_at(p, -h, -h)) /
        (4.0 * h * h);
    EXPECT_NEAR(Hv[p], fd, kSecondFdTol * scale) << "parameter " << p;
  }
  // And, tighter, against central differences of the (checked) analytic gradient along v.
  DeepReluNet plus = net_, minus = net_;
  plus.theta() += kFdStep * direction_;
  minus.theta() -= kFdStep * direction_;
  const Vec fd_gradient = (gradient(plus, data_) - gradient(minus, data_)) / (2.0 * kFdStep);
  EXPECT_LE((Hv - fd_gradient).cwiseAbs().maxCoeff(), kFdTol * scale);
  EXPECT_GT(Hv.norm(), 1e-2);
}

TEST_P(DeepCurvatureTest, DenseHessianFromHvpsIsSymmetricAndMatchesFiniteDifferences) {
  const auto op = deep_curvature(net_, data_, CurvatureKind::Hessian);
  const Matrix A = raw_columns(*op);
  const double scale = 1.0 + max_abs(A);
  EXPECT_LE(max_abs(A - A.transpose()), kDeepCurvatureRoundingTol * scale);
  const Matrix H_fd = fd_hessian_of_gradient(net_, data_);
  EXPECT_LE(max_abs(A - H_fd), kFdTol * scale);
  // deep_curvature_matrix is those columns, symmetrised.
  const Matrix dense = deep_curvature_matrix(net_, data_, CurvatureKind::Hessian);
  EXPECT_LE(max_abs(dense - (A + A.transpose()) / 2.0), 1e-15 * scale);
  // The residual term matters here: the Hessian differs from the Gauss-Newton matrix.
  const Matrix gn = deep_curvature_matrix(net_, data_, CurvatureKind::GaussNewton);
  EXPECT_GT(max_abs(dense - gn), 1e-2);
}

TEST_P(DeepCurvatureTest, GaussNewtonMatchesJacobianOfFiniteDifferences) {
  const Matrix J = test::fd_output_jacobian(net_, data_, kFdStep);
  const double n = static_cast<double>(data_.n());
  const Matrix gn_fd = J.transpose() * J / n;
  const Matrix gn = deep_curvature_matrix(net_, data_, CurvatureKind::GaussNewton);
  EXPECT_LE(max_abs(gn - gn_fd), kFdTol * (1.0 + max_abs(gn_fd)));
  const auto op = deep_curvature(net_, data_, CurvatureKind::GaussNewton);
  const Vec expected = J.transpose() * (J * direction_) / n;
  EXPECT_LE((apply(*op, direction_) - expected).cwiseAbs().maxCoeff(),
            kFdTol * (1.0 + expected.cwiseAbs().maxCoeff()));
}

TEST_P(DeepCurvatureTest, HessianEqualsGaussNewtonAtZeroResidual) {
  Dataset fitted = data_;
  fitted.y = net_.predict(data_.X);
  const Vec Hv = apply(*deep_curvature(net_, fitted, CurvatureKind::Hessian), direction_);
  const Vec Gv = apply(*deep_curvature(net_, fitted, CurvatureKind::GaussNewton), direction_);
  EXPECT_LE((Hv - Gv).cwiseAbs().maxCoeff(), kDeepCurvatureRoundingTol * (1.0 + Gv.cwiseAbs().maxCoeff()));
  EXPECT_GT(Gv.norm(), 1e-2);
}

TEST_P(DeepCurvatureTest, SharpnessMatchesDenseEigensolver) {
  const Matrix H_fd = fd_hessian_of_gradient(net_, data_);
  const Vec fd_eigenvalues = test::symmetric_eigenvalues(H_fd);
  const double fd_max = fd_eigenvalues[H_fd.rows() - 1];
  const double fd_min = fd_eigenvalues[0];
  ASSERT_LT(fd_min, 0.0);  // indefinite: largest algebraic is not largest magnitude here

  SharpnessOptions lanczos_only;
  lanczos_only.dense_max = 0;
  const EigenResult by_lanczos = deep_sharpness(net_, data_, lanczos_only);
  const EigenResult by_dense = deep_sharpness(net_, data_);  // P <= 400: dense path
  EXPECT_EQ(by_dense.iterations, 0);
  EXPECT_GT(by_lanczos.iterations, 0);
  for (const EigenResult* r : {&by_lanczos, &by_dense}) {
    EXPECT_TRUE(r->converged);
    EXPECT_NEAR(r->value, fd_max, kFdTol * (1.0 + std::abs(fd_max)) * 10.0);
    EXPECT_LE(r->residual, 1e-8 * (1.0 + std::abs(r->value)));
    EXPECT_NEAR(r->vector.norm(), 1.0, 1e-12);
  }
  EXPECT_NEAR(by_lanczos.value, by_dense.value, 1e-9 * (1.0 + std::abs(by_dense.value)));

  const EigenResult smallest = deep_min_hessian_eigenvalue(net_, data_, lanczos_only);
  EXPECT_NEAR(smallest.value, fd_min, kFdTol * (1.0 + std::abs(fd_min)) * 10.0);

  const Matrix J = test::fd_output_jacobian(net_, data_, kFdStep);
  const Matrix gn_fd = J.transpose() * J / static_cast<double>(data_.n());
  const double gn_max = test::largest_eigenvalue(gn_fd);
  for (const SharpnessOptions& options : {lanczos_only, SharpnessOptions{}}) {
    const EigenResult gn = deep_gn_sharpness(net_, data_, options);
    EXPECT_NEAR(gn.value, gn_max, kFdTol * (1.0 + gn_max) * 10.0);
    EXPECT_LE(gn.residual, 1e-8 * (1.0 + gn.value));
  }
}

/// "d3k6x5": appended piece by piece, since GCC 12 warns falsely (-Wrestrict) on "d" + ...
std::string shape_name(const ::testing::TestParamInfo<Shape>& shape) {
  std::string name = "d";
  name += std::to_string(shape.param.d);
  name += "k";
  name += std::to_string(shape.param.k1);
  name += "x";
  name += std::to_string(shape.param.k2);
  return name;
}

INSTANTIATE_TEST_SUITE_P(Shapes, DeepCurvatureTest,
                         ::testing::Values(Shape{1, 4, 3, 15}, Shape{3, 6, 5, 25}), shape_name);

TEST(DeepCurvature, LanczosOnLargerNetMatchesDenseEigensolverOfHvpMatrix) {
  Rng rng(77);
  const DeepReluNet net = test::random_deep_net(2, 20, 20, rng, 0.5);
  const Dataset data = test::random_deep_dataset(net, 60, rng, 1e-6);
  ASSERT_GT(net.n_params(), SharpnessOptions{}.dense_max);  // the default takes the Lanczos path
  const EigenResult top = deep_sharpness(net, data);
  EXPECT_GT(top.iterations, 0);
  EXPECT_TRUE(top.converged);
  const EigenResult dense = dense_extreme_eigenpair(
      deep_curvature_matrix(net, data, CurvatureKind::Hessian), Which::LargestAlgebraic);
  EXPECT_NEAR(top.value, dense.value, 1e-9 * (1.0 + std::abs(dense.value)));
  EXPECT_LE(top.residual, 1e-8 * (1.0 + std::abs(top.value)));
}

TEST(DeepCurvature, ThreadCountDoesNotChangeAnyBit) {
  Rng rng(88);
  const DeepReluNet net = test::random_deep_net(3, 8, 6, rng);
  const Dataset data = test::random_deep_dataset(net, 700, rng, 1e-6);  // three sample blocks
  const Vec v = random_unit(net.n_params(), rng);
  Vec g1, g3;
  const double l1 = deep_loss_and_grad(net, data, {}, &g1, RunContext{1});
  const double l3 = deep_loss_and_grad(net, data, {}, &g3, RunContext{3});
  EXPECT_EQ(l1, l3);
  EXPECT_EQ(g1, g3);
  for (CurvatureKind kind : {CurvatureKind::Hessian, CurvatureKind::GaussNewton}) {
    const Vec a = apply(*deep_curvature(net, data, kind, RunContext{1}), v);
    const Vec b = apply(*deep_curvature(net, data, kind, RunContext{3}), v);
    EXPECT_EQ(a, b);
  }
  SharpnessOptions lanczos_only;
  lanczos_only.dense_max = 0;
  EXPECT_EQ(deep_sharpness(net, data, lanczos_only, RunContext{1}).value,
            deep_sharpness(net, data, lanczos_only, RunContext{2}).value);
}

TEST(DeepCurvature, PyramidIsAZeroLossMinimumWithFiniteSharpness) {
  for (Index d : {1, 2, 3}) {
    SCOPED_TRACE("d = " + std::to_string(d));
    Rng rng(90 + static_cast<std::uint64_t>(d));
    const Dataset data = test::pyramid_dataset(d, 80, rng);
    const DeepReluNet net = DeepReluNet::pyramid(d);
    Vec g;
    EXPECT_LE(deep_loss_and_grad(net, data, {}, &g), 1e-30);
    EXPECT_LE(g.cwiseAbs().maxCoeff(), 1e-15);

    // Independent dense oracle: at zero loss the Hessian is J^T J / n, J by finite differences of
    // the brute-force output.
    const Matrix J = test::fd_output_jacobian(net, data, kFdStep);
    const Matrix gn_fd = J.transpose() * J / static_cast<double>(data.n());
    const double expected = test::largest_eigenvalue(gn_fd);

    SharpnessOptions lanczos_only;
    lanczos_only.dense_max = 0;
    for (const SharpnessOptions& options : {SharpnessOptions{}, lanczos_only}) {
      const EigenResult top = deep_sharpness(net, data, options);
      EXPECT_TRUE(std::isfinite(top.value));
      EXPECT_TRUE(top.converged);
      EXPECT_NEAR(top.value, expected, 1e-7 * expected);
      EXPECT_LE(top.residual, 1e-9 * top.value);
    }
    // A minimum: no negative curvature (to rounding), and the Hessian is the Gauss-Newton matrix.
    EXPECT_GE(deep_min_hessian_eigenvalue(net, data).value, -1e-12);
    const Matrix H = deep_curvature_matrix(net, data, CurvatureKind::Hessian);
    EXPECT_LE(max_abs(H - deep_curvature_matrix(net, data, CurvatureKind::GaussNewton)), 1e-14);
    EXPECT_LE(max_abs(H - gn_fd), kFdTol * (1.0 + max_abs(gn_fd)));

    // Padding neurons (strictly dead, or at their kink) add only zero rows: the same sharpness.
    for (double padding_bias : {-1.0, 0.0}) {
      const DeepReluNet padded =
          DeepReluNet::pyramid(d, {.width1 = 2 * d + 3, .width2 = 3, .padding_bias = padding_bias});
      EXPECT_LE(deep_loss_and_grad(padded, data, {}, nullptr), 1e-30);
      EXPECT_NEAR(deep_sharpness(padded, data).value, expected, 1e-7 * expected);
    }
    // Rescaling the layers keeps the function and the zero loss but changes the curvature.
    const DeepReluNet rescaled = DeepReluNet::pyramid(d, {.scale1 = 2.0, .scale2 = 2.0});
    EXPECT_LE(deep_loss_and_grad(rescaled, data, {}, nullptr), 1e-30);
    const Matrix J_rescaled = test::fd_output_jacobian(rescaled, data, kFdStep);
    const Matrix gn_rescaled = J_rescaled.transpose() * J_rescaled / static_cast<double>(data.n());
    const double expected_rescaled =
        test::largest_eigenvalue(gn_rescaled);
    EXPECT_NEAR(deep_sharpness(rescaled, data).value, expected_rescaled, 1e-7 * expected_rescaled);
    EXPECT_GT(std::abs(expected_rescaled - expected), 1e-2 * expected);
  }
}

TEST(DeepCurvature, RejectsMismatchedInput) {
  Rng rng(3);
  const DeepReluNet net = test::random_deep_net(2, 3, 2, rng);
  Dataset wrong_dim;
  wrong_dim.X = RowMatrix::Zero(4, 3);
  wrong_dim.y = Vec::Zero(4);
  EXPECT_NE(message_of([&] {
              deep_loss_and_grad(net, wrong_dim, {}, nullptr);
            }).find("input dimension 2"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              deep_curvature(net, wrong_dim, CurvatureKind::Hessian);
            }).find("input dimension 2"),
            std::string::npos);
  Dataset wrong_targets;
  wrong_targets.X = RowMatrix::Zero(4, 2);
  wrong_targets.y = Vec::Zero(3);
  EXPECT_NE(message_of([&] { deep_sharpness(net, wrong_targets); }).find("targets"),
            std::string::npos);
  const Dataset data = test::random_deep_dataset(net, 5, rng);
  const auto op = deep_curvature(net, data, CurvatureKind::Hessian);
  EXPECT_NE(message_of([&] { apply(*op, Vec::Zero(3)); }).find("length"), std::string::npos);
  SharpnessOptions bad;
  bad.dense_max = -1;
  EXPECT_NE(message_of([&] { deep_sharpness(net, data, bad); }).find("dense_max"),
            std::string::npos);
}

}  // namespace
}  // namespace relustab
