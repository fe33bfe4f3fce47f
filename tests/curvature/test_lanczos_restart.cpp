// SPDX-License-Identifier: MIT
// Thick-restart Lanczos with a basis far smaller than the iterations it needs, against Eigen's dense
// eigensolver; the operator concept (an operator that is no LinearOperator).
#include <relustab/core/error.h>
#include <relustab/curvature/eigen.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "dense_oracles.h"
#include "test_util.h"

namespace relustab {
namespace {

constexpr double kRestartTol = 1e-10;

/// 300 x 300, random eigenvectors: the top three eigenvalues clustered (10, 9.9, 9.8), a bulk spread
/// over [0, 9], and -100, the largest in magnitude but the smallest algebraically.
Matrix clustered_matrix(std::uint64_t seed) {
  const Index n = 300;
  Vec spectrum(n);
  for (Index i = 0; i < n - 4; ++i) spectrum[i] = 9.0 * static_cast<double>(i) / static_cast<double>(n - 5);
  spectrum[n - 4] = -100.0;
  spectrum[n - 3] = 9.8;
  spectrum[n - 2] = 9.9;
  spectrum[n - 1] = 10.0;
  Rng rng(seed);
  return test::symmetric_with_spectrum(spectrum, rng);
}

/// An operator of the concept only (no LinearOperator base): y = A x by a plain loop, counting
/// its applications.
struct LoopOperator {
  const Matrix* matrix;
  mutable int applications = 0;
  Index size() const { return matrix->rows(); }
  void apply(const Vec& in, Vec& out) const {
    ++applications;
    out.setZero(matrix->rows());
    for (Index i = 0; i < matrix->rows(); ++i)
      for (Index j = 0; j < matrix->cols(); ++j) out[i] += (*matrix)(i, j) * in[j];
  }
};
static_assert(SymmetricOperator<LoopOperator>);
static_assert(SymmetricOperator<LinearOperator>);

TEST(LanczosRestart, SmallBasisFindsClusteredTopAgainstDenseSolver) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const Matrix A = clustered_matrix(seed);
    const test::SymmetricEigen dense = test::symmetric_eigen(A);
    const double top = dense.values[A.rows() - 1];
    const double bottom = dense.values[0];
    ASSERT_NEAR(top, 10.0, 1e-12);
    ASSERT_NEAR(bottom, -100.0, 1e-12);
    const test::MatrixOperator op(A);
    LanczosOptions options;
    options.tol = kRestartTol;
    options.max_basis = 12;  // far fewer than the ~10^2 steps the cluster needs
    options.max_iter = 20000;
    options.seed = seed;
    const EigenResult r = lanczos(op, Which::LargestAlgebraic, options);
    EXPECT_TRUE(r.converged) << seed;
    EXPECT_GT(r.restarts, 0) << seed;
    EXPECT_LE(r.basis, options.max_basis) << seed;
    EXPECT_GT(r.iterations, options.max_basis) << seed;
    // Bauer-Fike: |value - top| <= residual; the residual is recomputed here from the matrix.
    EXPECT_LE(std::abs(r.value - top), 2.0 * kRestartTol * 10.0) << seed;
    EXPECT_LE((A * r.vector - r.value * r.vector).norm(), 2.0 * kRestartTol * 10.0) << seed;
    // The vector is the top eigenvector, not one of its clustered neighbours (gap 0.1).
    EXPECT_NEAR(std::abs(r.vector.dot(dense.vectors.col(A.rows() - 1))), 1.0, 1e-8) << seed;

    const EigenResult low = lanczos(op, Which::SmallestAlgebraic, options);
    EXPECT_TRUE(low.converged) << seed;
    EXPECT_LE(std::abs(low.value - bottom), 2.0 * kRestartTol * 100.0) << seed;
    EXPECT_LE(low.basis, options.max_basis) << seed;
  }
}

TEST(LanczosRestart, BasisOfTwoStillConvergesOnAnIsolatedEigenvalue) {
  Vec spectrum(80);
  for (Index i = 0; i < 80; ++i) spectrum[i] = static_cast<double>(i) / 79.0;
  spectrum[79] = 3.0;  // isolated: converges even restarted every second step
  Rng rng(4);
  const Matrix A = test::symmetric_with_spectrum(spectrum, rng);
  const test::MatrixOperator op(A);
  LanczosOptions options;
  options.max_basis = 2;
  options.max_iter = 5000;
  const EigenResult r = lanczos(op, Which::LargestAlgebraic, options);
  EXPECT_TRUE(r.converged);
  EXPECT_GT(r.restarts, 0);
  EXPECT_LE(r.basis, 2);
  EXPECT_LE(std::abs(r.value - 3.0), 3.0 * kRestartTol * 3.0);
}

TEST(LanczosRestart, BudgetCountsEveryApplication) {
  const Matrix A = clustered_matrix(9);
  LoopOperator op{&A};
  LanczosOptions options;
  options.max_basis = 8;
  options.max_iter = 60;  // too few for the cluster at 1e-10
  const EigenResult r = lanczos(op, Which::LargestAlgebraic, options);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.iterations, op.applications);
  EXPECT_LE(r.iterations, options.max_iter + 1);  // + the confirming product
  EXPECT_GT(r.restarts, 0);
  // The reported residual is the true one, and a Rayleigh quotient stays below the top.
  EXPECT_NEAR(r.residual, (A * r.vector - r.value * r.vector).norm(), 1e-12);
  EXPECT_LE(r.value, 10.0 + 1e-12);
}

TEST(LanczosRestart, ConceptOperatorMatchesLinearOperatorBitForBit) {
  // The same algorithm runs behind both overloads; a plain loop and Eigen's product differ in
  // rounding, so compare the concept overload with a LinearOperator wrapping the same loop.
  const Matrix A = clustered_matrix(5);
  const LoopOperator loop{&A};
  struct Virtual final : LinearOperator {
    const LoopOperator* inner;
    explicit Virtual(const LoopOperator* op) : inner(op) {}
    Index size() const override { return inner->size(); }
    void apply(const Vec& in, Vec& out) const override { inner->apply(in, out); }
  } virtual_op(&loop);
  LanczosOptions options;
  options.max_basis = 10;
  options.max_iter = 20000;
  const EigenResult a = lanczos(loop, Which::LargestAlgebraic, options);
  const EigenResult b = lanczos(static_cast<const LinearOperator&>(virtual_op), Which::LargestAlgebraic, options);
  EXPECT_TRUE(a.converged);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.iterations, b.iterations);
  EXPECT_TRUE(a.vector == b.vector);
}

TEST(LanczosRestart, RejectsBasisBelowTwo) {
  const test::MatrixOperator op(Matrix::Identity(4, 4));
  LanczosOptions options;
  options.max_basis = 1;
  EXPECT_THROW((void)lanczos(op, Which::LargestAlgebraic, options), InputError);
}

}  // namespace
}  // namespace relustab
