// SPDX-License-Identifier: MIT
// Dense tangent features, Hessian, Gauss-Newton and Gram matrices against finite differences and
// against the back end's operators.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "dense_oracles.h"
#include "test_util.h"

namespace relustab {
namespace {

/// Central-difference step; no kink is crossed (see test_util.h, kKinkMargin).
constexpr double kDenseFdStep = 1e-5;
/// f is bilinear in (w2, W1/b1) and the gradient cubic in theta: central differences err by
/// h^2 |third derivative| / 6 ~ 1e-10 plus rounding eps |g| / h ~ 1e-10.
constexpr double kDenseFdTol = 1e-7;
/// The same quantity assembled in two orders of float64 operations, O(10) magnitudes.
constexpr double kDenseRoundingTol = 1e-12;

using Shape = test::NetShape;

class DenseCurvatureTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    const Shape s = GetParam();
    Rng rng(77 + static_cast<std::uint64_t>(s.input_dim));
    net_ = test::random_net(s.input_dim, s.width, rng);
    data_ = test::random_dataset(net_, s.n, rng);
    backend_ = make_backend("cpu");
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

TEST_P(DenseCurvatureTest, TangentFeaturesMatchFiniteDifferencesOfOutput) {
  const Matrix Phi = tangent_features(net_, data_);
  ASSERT_EQ(Phi.rows(), net_.n_params());
  ASSERT_EQ(Phi.cols(), data_.n());
  Matrix fd(net_.n_params(), data_.n());
  for (Index p = 0; p < net_.n_params(); ++p) {
    ShallowReluNet plus = net_, minus = net_;
    plus.theta()[p] += kDenseFdStep;
    minus.theta()[p] -= kDenseFdStep;
    for (Index j = 0; j < data_.n(); ++j) {
      const Vec x = data_.X.row(j).transpose();
      fd(p, j) = (test::brute_force_output(plus, x) - test::brute_force_output(minus, x)) /
                 (2.0 * kDenseFdStep);
    }
  }
  EXPECT_LE((Phi - fd).lpNorm<Eigen::Infinity>(), kDenseFdTol * (1.0 + fd.lpNorm<Eigen::Infinity>()));
}

TEST_P(DenseCurvatureTest, DenseHessianMatchesFiniteDifferencesOfGradient) {
  const Matrix H = dense_hessian(net_, data_);
  ASSERT_EQ(H.rows(), net_.n_params());
  ASSERT_EQ(H.cols(), net_.n_params());
  for (Index p = 0; p < net_.n_params(); ++p) {
    ShallowReluNet plus = net_, minus = net_;
    plus.theta()[p] += kDenseFdStep;
    minus.theta()[p] -= kDenseFdStep;
    const Vec column = (gradient(plus) - gradient(minus)) / (2.0 * kDenseFdStep);
    EXPECT_LE((H.col(p) - column).lpNorm<Eigen::Infinity>(),
              kDenseFdTol * (1.0 + column.lpNorm<Eigen::Infinity>()))
        << "column " << p;
  }
  EXPECT_TRUE(H == H.transpose());  // built symmetric entry by entry
}

TEST_P(DenseCurvatureTest, DenseHessianMatchesOperatorOnUnitVectors) {
  const Matrix H = dense_hessian(net_, data_);
  const auto op = backend_->curvature(net_, data_, CurvatureKind::Hessian);
  Vec column;
  for (Index p = 0; p < net_.n_params(); ++p) {
    op->apply(Vec::Unit(net_.n_params(), p), column);
    EXPECT_LE((H.col(p) - column).lpNorm<Eigen::Infinity>(),
              kDenseRoundingTol * (1.0 + H.col(p).lpNorm<Eigen::Infinity>()))
        << "column " << p;
  }
}

TEST_P(DenseCurvatureTest, GaussNewtonMatrixMatchesOperatorOnUnitVectors) {
  const Matrix G = gauss_newton_matrix(net_, data_);
  const auto op = backend_->curvature(net_, data_, CurvatureKind::GaussNewton);
  Vec column;
  for (Index p = 0; p < net_.n_params(); ++p) {
    op->apply(Vec::Unit(net_.n_params(), p), column);
    EXPECT_LE((G.col(p) - column).lpNorm<Eigen::Infinity>(),
              kDenseRoundingTol * (1.0 + G.col(p).lpNorm<Eigen::Infinity>()))
        << "column " << p;
  }
  EXPECT_TRUE(G == G.transpose());
}

TEST_P(DenseCurvatureTest, GramMatrixFormulaMatchesTangentFeatures) {
  // gram_matrix uses the closed-form K_jl of Mulayoff et al. 2021, eqs. 26-28; Phi^T Phi / n is the definition.
  const Matrix K = gram_matrix(net_, data_);
  const Matrix Phi = tangent_features(net_, data_);
  const Matrix expected = Phi.transpose() * Phi / static_cast<double>(data_.n());
  ASSERT_EQ(K.rows(), data_.n());
  EXPECT_LE((K - expected).lpNorm<Eigen::Infinity>(),
            kDenseRoundingTol * (1.0 + expected.lpNorm<Eigen::Infinity>()));
}

TEST_P(DenseCurvatureTest, GramAndGaussNewtonShareNonZeroSpectrum) {
  const Vec gram_eigs =
      test::symmetric_eigenvalues(gram_matrix(net_, data_));
  const Vec gn_eigs =
      test::symmetric_eigenvalues(gauss_newton_matrix(net_, data_));
  // Both ascending; the top min(n, P) eigenvalues coincide, the rest of the larger matrix are 0.
  const Index common = std::min(gram_eigs.size(), gn_eigs.size());
  const double scale = gn_eigs.tail(1)[0];
  EXPECT_LE((gram_eigs.tail(common) - gn_eigs.tail(common)).lpNorm<Eigen::Infinity>(),
            kDenseRoundingTol * scale);
}

INSTANTIATE_TEST_SUITE_P(InputDims, DenseCurvatureTest,
                         ::testing::Values(Shape{1, 8, 30}, Shape{5, 6, 25}),
                         [](const auto& param_info) { return test::dim_label(param_info.param.input_dim); });

TEST(DenseCurvature, HessianEqualsGaussNewtonAtInterpolatingPoint) {
  for (Index d : {1, 5}) {
    SCOPED_TRACE("d = " + std::to_string(d));
    Rng rng(31 + static_cast<std::uint64_t>(d));
    const ShallowReluNet net = test::random_net(d, 7, rng);
    Dataset data = test::random_dataset(net, 20, rng);
    for (Index j = 0; j < data.n(); ++j) data.y[j] = test::brute_force_output(net, data.X.row(j).transpose());
    const Matrix H = dense_hessian(net, data);
    const Matrix G = gauss_newton_matrix(net, data);
    // Residuals are exactly 0 only up to the rounding of f (different summation orders).
    EXPECT_LE((H - G).lpNorm<Eigen::Infinity>(), kDenseRoundingTol * (1.0 + G.lpNorm<Eigen::Infinity>()));
  }
}

TEST(DenseCurvature, DeadNeuronRowsOfHessianVanish) {
  // A neuron with negative pre-activation on every sample is inactive everywhere: its features
  // (w2 a x, w2 a, relu) and its second-order couplings are all 0, so its rows of H vanish.
  Rng rng(4);
  ShallowReluNet net = test::random_net(2, 3, rng);
  net.W1().row(1).setZero();
  net.b1()[1] = -1.0;  // always off
  const Dataset data = test::random_dataset(net, 10, rng);
  const Matrix H = dense_hessian(net, data);
  for (Index p : {Index{2}, Index{3}, net.offset_b1() + 1, net.offset_w2() + 1}) {
    EXPECT_EQ(H.row(p).lpNorm<Eigen::Infinity>(), 0.0) << "parameter " << p;
  }
}

TEST(DenseCurvature, MismatchedDimensionsThrow) {
  Rng rng(6);
  const ShallowReluNet net = test::random_net(2, 3, rng);
  const ShallowReluNet other = test::random_net(3, 3, rng);
  const Dataset data = test::random_dataset(other, 5, rng);
  EXPECT_THROW((void)tangent_features(net, data), InputError);
  EXPECT_THROW((void)dense_hessian(net, data), InputError);
  EXPECT_THROW((void)gauss_newton_matrix(net, data), InputError);
  EXPECT_THROW((void)gram_matrix(net, data), InputError);
}

}  // namespace
}  // namespace relustab
