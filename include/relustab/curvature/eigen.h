// SPDX-License-Identifier: MIT
// Extreme eigenvalues of symmetric matrices and operators: dense solver and Lanczos.
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/core/types.h>

#include <concepts>
#include <cstdint>
#include <vector>

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
  int restarts = 0;    ///< thick restarts Lanczos made (0: the basis never filled up)
  int basis = 0;       ///< largest basis dimension Lanczos reached (<= max_basis; it holds one more vector)
};

struct LanczosOptions {
  /// Converged when residual <= tol * max(1, |value|).
  double tol = 1e-10;
  /// Maximum operator applications over all restarts (plus one confirming product at the end).
  int max_iter = 300;
  /// Maximum Krylov dimension between restarts (>= 2; capped at the operator's size). Lanczos holds
  /// max_basis + 1 vectors of the operator's length P, so its memory is O(max_basis P): 41 x 8 bytes
  /// x P with the default (260 MB at P = 800k instead of 1.9 GB for a 300-vector basis). When the
  /// basis is full, the max_basis / 2 Ritz vectors nearest the wanted end are kept and the
  /// iteration continues from them (thick restart).
  int max_basis = 40;
  /// Seed of the random start vector (used when `start` is empty).
  std::uint64_t seed = 0x5eed;
  /// Optional start vector, e.g. the previous eigenvector when sharpness is tracked during training.
  Vec start;
};

/// Extreme eigenpair of a dense symmetric matrix (Eigen's SelfAdjointEigenSolver), with residual.
EigenResult dense_extreme_eigenpair(const Matrix& A, Which which);

/// Anything with size() and apply(in, out) (out = A in, out resized by the operator): a
/// LinearOperator, or an operator on another device that keeps its own storage and is passed to
/// lanczos() without a virtual interface.
template <class Op>
concept SymmetricOperator = requires(const Op& op, const Vec& in, Vec& out) {
  { op.size() } -> std::convertible_to<Index>;
  op.apply(in, out);
};

namespace detail {
/// out = A in for the operator behind `context` (a type-erased reference, valid during one call).
using ApplyFn = void (*)(const void* context, const Vec& in, Vec& out);
EigenResult lanczos_impl(Index n, const void* op, ApplyFn apply, Which which,
                         const LanczosOptions& options);
/// The `count` eigenpairs nearest the `which` end (spectrum.h: extreme_eigenpairs); lanczos_impl is
/// this with count = 1.
std::vector<EigenResult> lanczos_eigenpairs_impl(Index n, const void* op, ApplyFn apply,
                                                 Which which, int count,
                                                 const LanczosOptions& options);
}  // namespace detail

/// Extreme eigenpair of a symmetric operator by thick-restart Lanczos (Wu and Simon 2000) with full
/// re-orthogonalisation within the basis of at most options.max_basis vectors. The returned residual
/// ||A v - value v|| is measured with a fresh operator application, never estimated.
EigenResult lanczos(const LinearOperator& A, Which which, const LanczosOptions& options = {});

/// The same for any operator of the concept (the algorithm is not duplicated: it runs on a
/// type-erased reference to `A`).
template <SymmetricOperator Op>
EigenResult lanczos(const Op& A, Which which, const LanczosOptions& options = {}) {
  return detail::lanczos_impl(
      static_cast<Index>(A.size()), &A,
      [](const void* op, const Vec& in, Vec& out) { static_cast<const Op*>(op)->apply(in, out); },
      which, options);
}

}  // namespace relustab
