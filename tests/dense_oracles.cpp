// SPDX-License-Identifier: MIT
#include "dense_oracles.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>

#include <stdexcept>

namespace relustab::test {

Vec symmetric_eigenvalues(const Matrix& A) {
  const Eigen::SelfAdjointEigenSolver<Matrix> solver(A, Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) throw std::runtime_error("symmetric_eigenvalues: no convergence");
  return solver.eigenvalues();
}

SymmetricEigen symmetric_eigen(const Matrix& A) {
  const Eigen::SelfAdjointEigenSolver<Matrix> solver(A, Eigen::ComputeEigenvectors);
  if (solver.info() != Eigen::Success) throw std::runtime_error("symmetric_eigen: no convergence");
  return {solver.eigenvalues(), solver.eigenvectors()};
}

double largest_eigenvalue(const Matrix& A) {
  const Vec eigenvalues = symmetric_eigenvalues(A);
  return eigenvalues[eigenvalues.size() - 1];
}

Vec singular_values(const Matrix& A) { return Eigen::JacobiSVD<Matrix>(A).singularValues(); }

SvdLeastSquares svd_least_squares(const Matrix& A, const Vec& y) {
  const Eigen::JacobiSVD<Matrix> svd(A, Eigen::ComputeFullU | Eigen::ComputeFullV);
  SvdLeastSquares result;
  result.solution = svd.solve(y);
  result.rank = svd.rank();
  result.null_space = svd.matrixV().rightCols(A.cols() - result.rank);
  return result;
}

Vec normal_equations_solution(const Matrix& A, const Vec& y) {
  return Matrix(A.transpose() * A).ldlt().solve(A.transpose() * y);
}

Matrix cholesky_solve(const Matrix& S, const Matrix& B) { return Eigen::LLT<Matrix>(S).solve(B); }

Vec pivoted_qr_solve(const Matrix& F, const Vec& b) { return F.colPivHouseholderQr().solve(b); }

Matrix orthogonal_factor(const Matrix& G) { return Eigen::HouseholderQR<Matrix>(G).householderQ(); }

}  // namespace relustab::test
