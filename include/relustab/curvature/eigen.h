// SPDX-License-Identifier: MIT
// Extreme eigenvalues of symmetric matrices and operators: dense solver and Lanczos.
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/core/types.h>

#include <cstdint>

namespace relustab {

/// Which end of the spectrum. Always algebraic: the largest magnitude of an indefinite Hessian can be
/// a large negative eigenvalue, which is not the sharpness.
enum class Which { LargestAlgebraic, SmallestAlgebraic };

/// One eigenpair with its quality: residual = ||A v - value v|| for the unit vector v.
struct EigenResult {
  double value = 0.0;
  double residual = 0.0;
  bool converged = false;
  Vec vector;          ///< unit eigenvector
  int iterations = 0;  ///< operator applications (Lanczos) or 0 (dense)
};

struct LanczosOptions {
  /// Converged when residual <= tol * max(1, |value|).
  double tol = 1e-10;
  /// Maximum Krylov dimension (operator applications); capped at the operator's size.
  int max_iter = 300;
  /// Seed of the random start vector (used when `start` is empty).
  std::uint64_t seed = 0x5eed;
  /// Optional start vector, e.g. the previous eigenvector when sharpness is tracked during training.
  Vec start;
};

/// Extreme eigenpair of a dense symmetric matrix (Eigen's SelfAdjointEigenSolver), with residual.
EigenResult dense_extreme_eigenpair(const Matrix& A, Which which);

/// Extreme eigenpair of a symmetric operator by Lanczos with full re-orthogonalisation.
EigenResult lanczos(const LinearOperator& A, Which which, const LanczosOptions& options = {});

}  // namespace relustab
