// SPDX-License-Identifier: MIT
// fit_output_min_norm against independent oracles: the normal equations (full column rank), the
// minimum-norm formula A^T (A A^T)^{-1} y (full row rank) with the Pythagoras property of every other
// interpolant, Eigen's Jacobi SVD and a closed form for duplicated and dead neurons (rank deficient);
// and the interpolation of arbitrary labels by nets whose knots cover every gap between the inputs.
#include <relustab/core/error.h>
#include <relustab/model/init.h>
#include <relustab/train/output_fit.h>

#include "dense_oracles.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace relustab {
namespace {

using test::brute_force_loss;
using test::random_dataset;
using test::random_net;

/// [relu(W1_i . x_j + b1_i)]_{j,i} followed by a column of ones, by plain loops over the layout.
Matrix design_by_hand(const ShallowReluNet& net, const Dataset& data) {
  const Index k = net.width();
  Matrix A(data.n(), k + 1);
  for (Index j = 0; j < data.n(); ++j) {
    for (Index i = 0; i < k; ++i) {
      double pre = net.b1()[i];
      for (Index c = 0; c < net.input_dim(); ++c) pre += net.W1()(i, c) * data.X(j, c);
      A(j, i) = std::max(pre, 0.0);
    }
    A(j, k) = 1.0;
  }
  return A;
}

Vec output_layer(const ShallowReluNet& net) {
  Vec theta(net.width() + 1);
  theta << net.w2(), net.b2();
  return theta;
}

using test::relative_error;

// The oracles solve other, better or worse conditioned, systems in float64: agreement to 1e-9
// relative is far beyond chance and far below any difference between two different solutions.
constexpr double kAgree = 1e-9;

TEST(FitOutputMinNorm, FullColumnRankIsTheLeastSquaresFitOfTheNormalEquations) {
  // A random net and data whose 5 features are independent on the data (a neuron may be off on
  // every sample for some draws; those draws are skipped).
  Rng rng(3);
  ShallowReluNet net;
  Dataset data;
  Matrix A;
  for (;;) {
    net = random_net(2, 4, rng);
    data = random_dataset(net, 25, rng);  // n = 25 > k + 1 = 5
    A = design_by_hand(net, data);
    const Vec singular = test::singular_values(A);
    if (singular[4] > 1e-3 * singular[0]) break;
  }
  const Vec first_layer = net.theta().head(net.offset_w2());
  const Vec oracle = test::normal_equations_solution(A, data.y);

  const OutputFit fit = fit_output_min_norm(net, data);
  EXPECT_LT(relative_error(output_layer(net), oracle), kAgree);
  EXPECT_EQ(net.theta().head(net.offset_w2()), first_layer) << "the first layer is not touched";
  EXPECT_EQ(fit.rank, 5);
  EXPECT_NEAR(fit.norm, oracle.norm(), kAgree * oracle.norm());
  // The residual the fit reports is that of the net itself: ||r||^2 = 2 n L.
  const double loss = brute_force_loss(net, data);
  EXPECT_NEAR(fit.residual_norm, std::sqrt(2.0 * 25.0 * loss), 1e-9 * fit.residual_norm);
  EXPECT_GT(loss, 0.01) << "25 N(0, 1) labels are not fitted by 5 features";
}

TEST(FitOutputMinNorm, FullRowRankInterpolatesWithTheSmallestNorm) {
  Rng rng(4);
  ShallowReluNet net = random_net(2, 30, rng);
  const Dataset data = random_dataset(net, 12, rng);  // n = 12 < k + 1 = 31
  const Matrix A = design_by_hand(net, data);
  const Matrix gram = A * A.transpose();
  const Vec oracle = A.transpose() * test::cholesky_solve(gram, data.y);

  const OutputFit fit = fit_output_min_norm(net, data);
  const Vec theta = output_layer(net);
  EXPECT_LT(relative_error(theta, oracle), kAgree);
  EXPECT_EQ(fit.rank, 12);
  EXPECT_LT(brute_force_loss(net, data), 1e-24 * data.y.squaredNorm());
  // Every other interpolant is theta + z with A z = 0; z is orthogonal to theta (which lies in the
  // row space of A), so its squared norm is larger by exactly ||z||^2.
  for (int trial = 0; trial < 5; ++trial) {
    Vec v(theta.size());
    for (Index p = 0; p < v.size(); ++p) v[p] = rng.normal();
    const Vec z = v - A.transpose() * test::cholesky_solve(gram, A * v);
    const Vec other = theta + z;
    EXPECT_LT((A * other - data.y).norm(), 1e-10 * data.y.norm()) << "another interpolant";
    EXPECT_GT(other.squaredNorm(), theta.squaredNorm());
    EXPECT_NEAR(other.squaredNorm(), theta.squaredNorm() + z.squaredNorm(),
                1e-9 * other.squaredNorm());
  }
}

TEST(FitOutputMinNorm, DuplicatedNeuronsShareTheirWeightAndDeadNeuronsGetNone) {
  // Four neurons with knots inside the data, a copy of neuron 1 and a neuron off on every input:
  // the minimum-norm solution splits neuron 1's weight equally between the two copies (a + b = w
  // at least norm: a = b = w / 2) and gives the dead neuron 0.
  Dataset data;
  data.X.resize(15, 1);
  data.y.resize(15);
  Rng rng(5);
  for (Index j = 0; j < 15; ++j) {
    data.X(j, 0) = -1.0 + 2.0 * static_cast<double>(j) / 14.0 + 0.01 * rng.uniform();
    data.y[j] = rng.normal();
  }
  const double w1[] = {1.0, -1.0, 1.0, -1.0, -1.0, 1.0};
  const double b1[] = {0.5, 0.2, -0.3, -0.65, 0.2, -5.0};  // neuron 4 = neuron 1; neuron 5 dead
  ShallowReluNet net(1, 6);
  for (Index i = 0; i < 6; ++i) {
    net.W1()(i, 0) = w1[i];
    net.b1()[i] = b1[i];
  }
  ShallowReluNet reduced(1, 4);
  reduced.theta().head(4) = net.W1().col(0).head(4);
  reduced.b1() = net.b1().head(4);
  const Matrix A = design_by_hand(reduced, data);
  const Vec v = test::normal_equations_solution(A, data.y);
  Vec expected(7);
  expected << v[0], v[1] / 2.0, v[2], v[3], v[1] / 2.0, 0.0, v[4];

  const OutputFit fit = fit_output_min_norm(net, data);
  EXPECT_EQ(fit.rank, 5);
  const Vec theta = output_layer(net);
  EXPECT_LT(relative_error(theta, expected), kAgree);
  EXPECT_LT(std::abs(theta[5]), 1e-12 * expected.norm());
}

TEST(FitOutputMinNorm, RankDeficientUnderdeterminedIsTheMinimumNormLeastSquaresFit) {
  // k + 1 = 11 > n = 6 unknowns but every knot lies in the first gap of the inputs 0, 1, ..., 5:
  // on [1, 5] every feature is linear, so five inputs lie on one line of the net and generic labels
  // cannot be interpolated (rank 3). Oracle: Eigen's Jacobi SVD (another algorithm), and the two
  // conditions that characterise the minimum-norm least-squares solution.
  Dataset data;
  data.X = (RowMatrix(6, 1) << 0.0, 1.0, 2.0, 3.0, 4.0, 5.0).finished();
  data.y = (Vec(6) << 0.3, -1.2, 0.8, 0.1, -0.4, 1.5).finished();
  Rng rng(6);
  ShallowReluNet net(1, 10);
  for (Index i = 0; i < 10; ++i) {
    const double knot = rng.uniform(0.05, 0.95);
    net.W1()(i, 0) = rng.below(2) == 0 ? 1.0 : -1.0;
    net.b1()[i] = -net.W1()(i, 0) * knot;
  }
  const Matrix A = design_by_hand(net, data);
  const test::SvdLeastSquares svd = test::svd_least_squares(A, data.y);
  const Vec& oracle = svd.solution;

  const OutputFit fit = fit_output_min_norm(net, data);
  const Vec theta = output_layer(net);
  EXPECT_EQ(fit.rank, 3);
  EXPECT_EQ(svd.rank, 3);
  EXPECT_LT(relative_error(theta, oracle), kAgree);
  const Vec residual = A * theta - data.y;
  EXPECT_GT(residual.norm(), 0.1) << "these labels are not on a line over 1..5";
  EXPECT_LT((A.transpose() * residual).norm(), 1e-12 * A.norm() * data.y.norm())
      << "least squares: the residual is orthogonal to the features";
  const Matrix& null_space = svd.null_space;
  EXPECT_LT((null_space.transpose() * theta).norm(), 1e-12 * theta.norm())
      << "minimum norm: no component in the null space of A";
}

TEST(FitOutputMinNorm, KnotsInEveryGapInterpolateAnyLabelsFromWidthNMinusOne) {
  // n inputs have n - 1 gaps. With data_knots every gap holds a knot once k >= n - 1, and the net
  // is then able to interpolate any labels (k + 1 >= n unknowns, no three inputs on one linear
  // piece); with k < n - 1 there are fewer unknowns than equations.
  const Index n = 12;
  Dataset data;
  data.X.resize(n, 1);
  data.y.resize(n);
  Rng rng(7);
  for (Index j = 0; j < n; ++j) {
    data.X(j, 0) = std::pow(static_cast<double>(j) / (n - 1), 2.0);  // uneven gaps
    data.y[j] = rng.normal();
  }
  for (const Index k : {Index{8}, n - 2, n - 1, n, Index{20}, Index{200}}) {
    SCOPED_TRACE("k = " + std::to_string(k));
    Rng init(100 + static_cast<std::uint64_t>(k));
    ShallowReluNet net = initialize_data_knots(Vec(data.X.col(0)), k, 1.0, init);
    const OutputFit fit = fit_output_min_norm(net, data);
    const double loss = brute_force_loss(net, data);
    if (k >= n - 1) {
      EXPECT_EQ(fit.rank, n);
      EXPECT_LT(loss, 1e-20 * data.y.squaredNorm());
    } else {
      EXPECT_EQ(fit.rank, k + 1);
      EXPECT_GT(loss, 1e-6);
    }
  }
}

TEST(FitOutputMinNorm, BadInputThrowsInputError) {
  Rng rng(8);
  ShallowReluNet net = random_net(2, 3, rng);
  Dataset data = random_dataset(net, 5, rng);
  ShallowReluNet other_dim = random_net(3, 3, rng);
  EXPECT_THROW(fit_output_min_norm(other_dim, data), InputError);
  Dataset bad = data;
  bad.y[2] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(fit_output_min_norm(net, bad), InputError);
  Dataset empty;
  empty.X.resize(0, 2);
  EXPECT_THROW(fit_output_min_norm(net, empty), InputError);
  ShallowReluNet broken = net;
  broken.theta()[0] = std::numeric_limits<double>::infinity();
  EXPECT_THROW(fit_output_min_norm(broken, data), InputError);
}

}  // namespace
}  // namespace relustab
