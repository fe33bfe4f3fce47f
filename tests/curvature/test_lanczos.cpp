// SPDX-License-Identifier: MIT
// Lanczos and the dense eigensolver against known spectra and against each other.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/eigen.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "test_util.h"

namespace relustab {
namespace {

/// Lanczos stopping tolerance used throughout: residual <= kLanczosTolerance * max(1, |lambda|).
constexpr double kLanczosTolerance = 1e-10;
/// Eigenvalue error for a residual r: |lambda - lambda_true| <= r (Bauer-Fike for symmetric A), and
/// r^2 / gap once isolated; kLanczosTolerance plus rounding of O(1..100) spectra gives this relative bound.
constexpr double kValueRelTol = 1e-9;
/// Direct dense solvers on matrices of norm O(1..100) and size <= 60: residual ~ n eps ||A||.
constexpr double kDenseResidualTol = 1e-11;

using test::relative_gap;

Vec diagonal_spectrum_with_outliers(Index n, double low, double high) {
  // n - 2 eigenvalues evenly spread in [0, 1], plus isolated ones at `low` and `high`.
  Vec d(n);
  for (Index i = 0; i < n - 2; ++i) d[i] = static_cast<double>(i) / static_cast<double>(n - 3);
  d[n - 2] = low;
  d[n - 1] = high;
  return d;
}

TEST(DenseExtremeEigenpair, KnownSpectrum) {
  Rng rng(11);
  Vec spectrum(6);
  spectrum << -7.0, -1.0, 0.5, 2.0, 3.0, 4.25;
  const Matrix A = test::symmetric_with_spectrum(spectrum, rng);
  const EigenResult top = dense_extreme_eigenpair(A, Which::LargestAlgebraic);
  const EigenResult bottom = dense_extreme_eigenpair(A, Which::SmallestAlgebraic);
  EXPECT_NEAR(top.value, 4.25, 1e-13 * 7.0);
  EXPECT_NEAR(bottom.value, -7.0, 1e-13 * 7.0);
  for (const EigenResult* r : {&top, &bottom}) {
    EXPECT_TRUE(r->converged);
    EXPECT_NEAR(r->vector.norm(), 1.0, 1e-14);
    EXPECT_LE(r->residual, kDenseResidualTol);
    EXPECT_NEAR(r->residual, (A * r->vector - r->value * r->vector).norm(), 1e-15);
  }
}

TEST(DenseExtremeEigenpair, RejectsNonSquare) {
  EXPECT_THROW((void)dense_extreme_eigenpair(Matrix::Zero(3, 2), Which::LargestAlgebraic),
               InputError);
  EXPECT_THROW((void)dense_extreme_eigenpair(Matrix(0, 0), Which::LargestAlgebraic), InputError);
}

class LanczosOnHessian : public ::testing::TestWithParam<Index> {};

TEST_P(LanczosOnHessian, MatchesDenseSolverAtBothEnds) {
  const Index d = GetParam();
  Rng rng(500 + static_cast<std::uint64_t>(d));
  const ShallowReluNet net = test::random_net(d, 12, rng);
  const Dataset data = test::random_dataset(net, 40, rng);
  const Matrix H = dense_hessian(net, data);
  const auto backend = make_backend("cpu");
  const auto hessian_op = backend->curvature(net, data, CurvatureKind::Hessian);
  const test::MatrixOperator dense_op(H);

  const EigenResult dense_top = dense_extreme_eigenpair(H, Which::LargestAlgebraic);
  const EigenResult dense_bottom = dense_extreme_eigenpair(H, Which::SmallestAlgebraic);
  // Random targets leave residuals of O(1): the Hessian is indefinite, so "largest algebraic" and
  // "largest magnitude" are different questions here.
  ASSERT_LT(dense_bottom.value, 0.0);
  ASSERT_GT(dense_top.value, 0.0);

  LanczosOptions options;
  options.tol = kLanczosTolerance;
  const LinearOperator* const ops[] = {&dense_op, hessian_op.get()};
  for (const LinearOperator* op : ops) {
    for (const auto& [which, expected] : {std::pair{Which::LargestAlgebraic, dense_top},
                                          std::pair{Which::SmallestAlgebraic, dense_bottom}}) {
      const EigenResult r = lanczos(*op, which, options);
      EXPECT_TRUE(r.converged);
      EXPECT_LE(r.residual, kLanczosTolerance * std::max(1.0, std::abs(r.value)));
      EXPECT_LE(relative_gap(r.value, expected.value), kValueRelTol);
      // The residual is recomputed here against the dense matrix, not trusted.
      EXPECT_LE((H * r.vector - r.value * r.vector).norm(),
                10.0 * kLanczosTolerance * std::max(1.0, std::abs(r.value)));
      EXPECT_NEAR(r.vector.norm(), 1.0, 1e-12);
      EXPECT_GT(r.iterations, 0);
      EXPECT_LE(r.iterations, options.max_iter + 1);  // + the one confirming application
    }
  }
}

INSTANTIATE_TEST_SUITE_P(InputDims, LanczosOnHessian, ::testing::Values(1, 5),
                         [](const auto& param_info) { return test::dim_label(param_info.param); });

TEST(Lanczos, LargeNegativeEigenvalueDoesNotWinLargestAlgebraic) {
  Rng rng(21);
  Vec spectrum(60);
  for (Index i = 0; i < 60; ++i) spectrum[i] = 5.0 * static_cast<double>(i) / 59.0;  // top is 5
  spectrum[0] = -100.0;  // |-100| dominates: a largest-magnitude solver would return it
  const test::MatrixOperator op(test::symmetric_with_spectrum(spectrum, rng));
  const EigenResult top = lanczos(op, Which::LargestAlgebraic);
  EXPECT_TRUE(top.converged);
  EXPECT_LE(relative_gap(top.value, 5.0), kValueRelTol);
  const EigenResult bottom = lanczos(op, Which::SmallestAlgebraic);
  EXPECT_TRUE(bottom.converged);
  EXPECT_LE(relative_gap(bottom.value, -100.0), kValueRelTol);
}

TEST(Lanczos, DiagonalWithKnownSpectrumConvergesWellBeforeExhaustion) {
  const Index n = 1000;
  const test::MatrixOperator op(Matrix(diagonal_spectrum_with_outliers(n, -1.0, 2.0).asDiagonal()));
  for (const auto& [which, expected] :
       {std::pair{Which::LargestAlgebraic, 2.0}, std::pair{Which::SmallestAlgebraic, -1.0}}) {
    const EigenResult r = lanczos(op, which);
    EXPECT_TRUE(r.converged);
    EXPECT_LE(relative_gap(r.value, expected), kValueRelTol);
    EXPECT_LE(r.residual, kLanczosTolerance * std::max(1.0, std::abs(r.value)));
    // An isolated end eigenvalue (gap ratio 1) converges geometrically; 100 steps is generous and
    // shows the answer is not the trivial one from a Krylov space that spans R^n.
    EXPECT_LT(r.iterations, 100);
    const Index index = expected > 0 ? n - 1 : n - 2;
    EXPECT_NEAR(std::abs(r.vector[index]), 1.0, 1e-9);
  }
}

TEST(Lanczos, TooFewIterationsReportsNotConvergedWithHonestResidual) {
  const Index n = 500;
  Vec spectrum(n);
  for (Index i = 0; i < n; ++i) spectrum[i] = static_cast<double>(i) / static_cast<double>(n - 1);
  const Matrix A = spectrum.asDiagonal();
  const test::MatrixOperator op(A);
  LanczosOptions options;
  options.max_iter = 5;  // a clustered top end: 5 steps cannot resolve it to 1e-10
  const EigenResult r = lanczos(op, Which::LargestAlgebraic, options);
  EXPECT_FALSE(r.converged);
  const double true_residual = (A * r.vector - r.value * r.vector).norm();
  EXPECT_NEAR(r.residual, true_residual, 1e-13);
  EXPECT_GT(r.residual, options.tol * std::max(1.0, std::abs(r.value)));
  EXPECT_LE(r.value, 1.0 + 1e-14);  // a Rayleigh quotient never exceeds lambda_max
  EXPECT_LE(r.iterations, options.max_iter + 1);
}

TEST(Lanczos, SizeOneOperator) {
  const test::MatrixOperator op(Matrix::Constant(1, 1, -3.5));
  for (Which which : {Which::LargestAlgebraic, Which::SmallestAlgebraic}) {
    const EigenResult r = lanczos(op, which);
    EXPECT_TRUE(r.converged);
    EXPECT_EQ(r.value, -3.5);
    EXPECT_EQ(r.residual, 0.0);
    EXPECT_EQ(std::abs(r.vector[0]), 1.0);
  }
}

TEST(Lanczos, MaxIterAtLeastSizeIsExact) {
  Rng rng(5);
  Matrix G(12, 12);
  for (Index i = 0; i < 12; ++i)
    for (Index j = 0; j < 12; ++j) G(i, j) = rng.normal();
  const Matrix A = (G + G.transpose()) / 2.0;
  const test::MatrixOperator op(A);
  LanczosOptions options;
  options.max_iter = 100;
  options.tol = 1e-13;  // attainable only because the Krylov space can reach all of R^12
  for (Which which : {Which::LargestAlgebraic, Which::SmallestAlgebraic}) {
    const EigenResult r = lanczos(op, which, options);
    const EigenResult dense = dense_extreme_eigenpair(A, which);
    EXPECT_TRUE(r.converged);
    EXPECT_LE(relative_gap(r.value, dense.value), 1e-13);
    EXPECT_LE(r.iterations, 12 + 1);
  }
}

TEST(Lanczos, InvariantSubspaceStopsWithExactAnswer) {
  // Two distinct eigenvalues: any start vector's Krylov space is invariant after two steps.
  Vec spectrum(50);
  spectrum.head(25).setConstant(3.0);
  spectrum.tail(25).setConstant(-1.0);
  Rng rng(8);
  const test::MatrixOperator op(test::symmetric_with_spectrum(spectrum, rng));
  const EigenResult r = lanczos(op, Which::LargestAlgebraic);
  EXPECT_TRUE(r.converged);
  EXPECT_LE(relative_gap(r.value, 3.0), 1e-13);
  EXPECT_LE(r.iterations, 3);  // two Krylov steps + the confirming application
}

TEST(Lanczos, WarmStartOnLowerEigenvectorStillFindsTop) {
  // The start is an exact eigenvector of eigenvalue 2, so its Krylov space is one-dimensional and
  // invariant; stopping there would report 2 with a zero residual.
  Vec spectrum(6);
  spectrum << 1.0, 2.0, 3.0, 4.0, 5.0, 6.0;
  const Matrix A = spectrum.asDiagonal();
  const test::MatrixOperator op(A);
  LanczosOptions options;
  options.start = Vec::Unit(6, 1);
  const EigenResult r = lanczos(op, Which::LargestAlgebraic, options);
  EXPECT_TRUE(r.converged);
  EXPECT_LE(relative_gap(r.value, 6.0), 1e-12);
}

TEST(Lanczos, WarmStartNearTopNeedsFewerIterations) {
  const Index n = 400;
  Vec spectrum = diagonal_spectrum_with_outliers(n, 0.0, 1.05);  // small gap: slow from random
  const test::MatrixOperator op(Matrix(spectrum.asDiagonal()));
  const EigenResult cold = lanczos(op, Which::LargestAlgebraic);
  LanczosOptions options;
  Rng rng(77);
  options.start = Vec::Unit(n, n - 1);
  for (Index i = 0; i < n; ++i) options.start[i] += 1e-6 * rng.normal();
  const EigenResult warm = lanczos(op, Which::LargestAlgebraic, options);
  EXPECT_TRUE(cold.converged);
  EXPECT_TRUE(warm.converged);
  EXPECT_LE(relative_gap(warm.value, cold.value), kValueRelTol);
  EXPECT_LT(warm.iterations, cold.iterations);
}

TEST(Lanczos, DeterministicForAGivenSeed) {
  Rng rng(3);
  const Vec spectrum = diagonal_spectrum_with_outliers(80, -2.0, 3.0);
  const test::MatrixOperator op(test::symmetric_with_spectrum(spectrum, rng));
  LanczosOptions options;
  options.seed = 42;
  const EigenResult a = lanczos(op, Which::LargestAlgebraic, options);
  const EigenResult b = lanczos(op, Which::LargestAlgebraic, options);
  EXPECT_EQ(a.value, b.value);
  EXPECT_TRUE(a.vector == b.vector);
  EXPECT_EQ(a.iterations, b.iterations);
  options.seed = 43;
  const EigenResult c = lanczos(op, Which::LargestAlgebraic, options);
  EXPECT_LE(relative_gap(c.value, a.value), kValueRelTol);
}

TEST(Lanczos, RejectsBadOptions) {
  const test::MatrixOperator op(Matrix::Identity(4, 4));
  LanczosOptions options;
  options.start = Vec::Ones(3);
  EXPECT_THROW((void)lanczos(op, Which::LargestAlgebraic, options), InputError);
  options.start = Vec::Zero(4);
  EXPECT_THROW((void)lanczos(op, Which::LargestAlgebraic, options), InputError);
  options = LanczosOptions{};
  options.max_iter = 0;
  EXPECT_THROW((void)lanczos(op, Which::LargestAlgebraic, options), InputError);
}

}  // namespace
}  // namespace relustab
