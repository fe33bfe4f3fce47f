// SPDX-License-Identifier: MIT
// Dense linear algebra the tests use as oracles (Eigen's decompositions), compiled once in
// tests/dense_oracles.cpp rather than in every test source that needs them: each decomposition is a
// template whose instantiation cost a test translation unit about 5 s of compile time, in nearly every
// test executable.
#pragma once

#include <relustab/core/types.h>

namespace relustab::test {

/// Every eigenvalue of the symmetric A, ascending: Eigen's SelfAdjointEigenSolver (Householder
/// tridiagonalisation and the implicit symmetric QR algorithm), independent of our Lanczos.
Vec symmetric_eigenvalues(const Matrix& A);

/// Every eigenpair of the symmetric A: values ascending, vectors[:, i] (unit) belongs to values[i].
struct SymmetricEigen {
  Vec values;
  Matrix vectors;
};
SymmetricEigen symmetric_eigen(const Matrix& A);

/// The largest eigenvalue of the symmetric A (the last of symmetric_eigenvalues).
double largest_eigenvalue(const Matrix& A);

/// The singular values of A, descending (Eigen's two-sided Jacobi SVD).
Vec singular_values(const Matrix& A);

/// The minimum-norm least-squares solution of A x = y by the Jacobi SVD (full U and V), its numerical
/// rank and an orthonormal basis of A's null space (the right singular vectors past the rank).
struct SvdLeastSquares {
  Vec solution;
  Index rank = 0;
  Matrix null_space;
};
SvdLeastSquares svd_least_squares(const Matrix& A, const Vec& y);

/// The least-squares solution of A x = y through the normal equations (A^T A) x = A^T y, LDL^T.
Vec normal_equations_solution(const Matrix& A, const Vec& y);

/// S^{-1} B for a symmetric positive definite S (Cholesky, LL^T).
Matrix cholesky_solve(const Matrix& S, const Matrix& B);

/// The least-squares solution of F x = b by column-pivoted Householder QR.
Vec pivoted_qr_solve(const Matrix& F, const Vec& b);

/// The orthogonal factor Q of the Householder QR of the square G.
Matrix orthogonal_factor(const Matrix& G);

}  // namespace relustab::test
