// SPDX-License-Identifier: MIT
// Extreme eigenpairs: a dense symmetric solver and thick-restart Lanczos with full
// re-orthogonalisation.
#include <relustab/curvature/eigen.h>

#include <relustab/core/error.h>
#include <relustab/core/rng.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "lanczos_parts.h"

namespace relustab {
namespace {

using detail::kInvariantRelTol;
using detail::lanczos_expand;
using detail::meets_tol;
using detail::orthogonalise;
using detail::random_unit_vector;
using detail::residual_norm;

/// The projected eigenproblem costs O(m^3) with vectors, so after the first few steps it is solved
/// only about this many times per doubling of the operator applications (and whenever the basis is
/// full, where a restart needs it anyway).
constexpr int kChecksPerDoubling = 32;

bool is_check_step(int m, int m_max) {
  return m <= kChecksPerDoubling || m == m_max || m % std::max(1, m / kChecksPerDoubling) == 0;
}

}  // namespace

EigenResult dense_extreme_eigenpair(const Matrix& A, Which which) {
  require(A.rows() == A.cols(), "dense_extreme_eigenpair: expected a square matrix, got " +
                                    std::to_string(A.rows()) + " x " + std::to_string(A.cols()));
  require(A.rows() >= 1, "dense_extreme_eigenpair: expected a non-empty matrix");
  require(A.allFinite(), "dense_extreme_eigenpair: matrix has non-finite entries");
  // The solver reads only the lower triangle; A is assumed symmetric, and the residual below is
  // computed with the full matrix, so an asymmetric input shows up there.
  const Eigen::SelfAdjointEigenSolver<Matrix> solver(A, Eigen::ComputeEigenvectors);
  const Index pick = which == Which::LargestAlgebraic ? A.rows() - 1 : 0;  // ascending order
  EigenResult result;
  result.value = solver.eigenvalues()[pick];
  result.vector = solver.eigenvectors().col(pick);
  result.residual = residual_norm(A * result.vector, result.vector, result.value);
  result.converged = solver.info() == Eigen::Success;
  result.iterations = 0;
  return result;
}

namespace detail {

std::vector<EigenResult> lanczos_eigenpairs_impl(Index n, const void* op, ApplyFn apply_fn,
                                                 Which which, int count,
                                                 const LanczosOptions& options) {
  require(n >= 1, "lanczos: expected an operator of size >= 1, got " + std::to_string(n));
  require(count >= 1 && count <= n, "lanczos: k: expected an integer in [1, " + std::to_string(n) +
                                        "] (the operator's size), got " + std::to_string(count));
  require(options.max_iter >= 1,
          "lanczos: max_iter: expected an integer >= 1, got " + std::to_string(options.max_iter));
  require(options.max_iter >= count, "lanczos: max_iter: expected an integer >= k = " +
                                         std::to_string(count) + ", got " +
                                         std::to_string(options.max_iter));
  require(options.max_basis >= 2,
          "lanczos: max_basis: expected an integer >= 2, got " + std::to_string(options.max_basis));
  require(options.tol >= 0.0 && std::isfinite(options.tol),
          "lanczos: tol: expected a finite number >= 0, got " + std::to_string(options.tol));
  const bool warm = options.start.size() > 0;
  if (warm) {
    require(options.start.size() == n, "lanczos: start: expected a vector of length " +
                                           std::to_string(n) + ", got " +
                                           std::to_string(options.start.size()));
    require(options.start.allFinite() && options.start.norm() > 0.0,
            "lanczos: start: expected a finite non-zero vector");
  }
  auto apply = [&](const Vec& in, Vec& out) { apply_fn(op, in, out); };
  Rng rng(options.seed);
  // Basis dimension: never more than n, where the basis spans everything and the answer is exact;
  // at least 2 count, so that a restart keeps every wanted Ritz vector and still adds new directions
  // (for one pair this is max_basis itself, which is >= 2).
  const int m = static_cast<int>(std::min<Index>(std::max(options.max_basis, 2 * count), n));
  // Ritz vectors kept at a restart: half the basis, nearest the wanted end (Wu and Simon 2000 keep
  // about this many for one wanted eigenvalue; more keeps too few new directions per cycle). When
  // the basis can fill up (m < n), m >= 2 count and so keep >= count.
  const int keep = std::max(1, m / 2);
  const bool largest = which == Which::LargestAlgebraic;
  // Position of the i-th wanted Ritz pair among `dim` in ascending order.
  const auto wanted = [&](int dim, int i) -> Index { return largest ? dim - 1 - i : i; };

  // V: orthonormal basis, column m holds the next Lanczos vector while the basis is full.
  // H: the projected matrix V^T A V, tridiagonal except for row/column `keep` after a restart, which
  // couples the kept Ritz vectors to the first new Lanczos vector (an arrowhead).
  Matrix V(n, m + 1);
  Matrix H = Matrix::Zero(m, m);
  V.col(0) = warm ? Vec(options.start / options.start.norm()) : random_unit_vector(n, rng);
  // Stopping on an invariant subspace gives the extreme eigenvalues of A only if the Krylov space was
  // generated by a vector with a component along every eigenvector; a random vector has one almost
  // surely, a warm start (e.g. an exact eigenvector of a lower eigenvalue) may not.
  bool generic_start = !warm;
  double norm_estimate = 0.0;  // max over steps of the absolute row sums of H (<= ||A||)
  int applications = 0;
  int restarts = 0;
  int peak = 0;
  Vec w, Av, h;
  std::vector<EigenResult> best(static_cast<std::size_t>(count));
  Eigen::SelfAdjointEigenSolver<Matrix> ritz;

  for (int j = 0;;) {
    const int dim = j + 1;  // basis vectors after this step
    peak = std::max(peak, dim);
    H(j, j) = lanczos_expand(apply, V, j, w, h);
    ++applications;
    double beta = w.norm();
    norm_estimate = std::max(norm_estimate, H.row(j).head(dim).cwiseAbs().sum() + beta);
    const bool invariant = beta <= kInvariantRelTol * norm_estimate;
    const bool spans = dim == n;  // the basis spans R^n: the Ritz pairs are exact
    const bool full = dim == m;
    const bool budget_spent = applications >= options.max_iter;

    // Fewer basis vectors than wanted pairs: nothing to check yet (a full basis, a spanning one or a
    // spent budget always has dim >= count: m >= min(2 count, n) and max_iter >= count).
    if (dim >= count &&
        (invariant || spans || full || budget_spent || is_check_step(applications, options.max_iter))) {
      if (restarts == 0) {
        // Still plain Lanczos: H is tridiagonal, whose solver is several times cheaper than the
        // dense one (it matters for back ends with O(n + k) products).
        ritz.computeFromTridiagonal(H.diagonal().head(dim), H.diagonal(-1).head(dim - 1),
                                    Eigen::ComputeEigenvectors);
      } else {
        ritz.compute(H.topLeftCorner(dim, dim), Eigen::ComputeEigenvectors);
      }
      // ||A V s - theta V s|| = beta |s_last| in exact arithmetic (the Ritz residual estimate).
      bool estimates_meet_tol = true;
      for (int i = 0; i < count; ++i) {
        const Index pick = wanted(dim, i);  // ascending order
        const double estimate = beta * std::abs(ritz.eigenvectors()(dim - 1, pick));
        estimates_meet_tol =
            estimates_meet_tol && meets_tol(estimate, ritz.eigenvalues()[pick], options.tol);
      }
      if (invariant || spans || budget_spent || estimates_meet_tol) {
        // The estimates are only as good as the basis; confirm each with one more operator application.
        bool all_converged = true;
        for (int i = 0; i < count; ++i) {
          EigenResult& pair = best[static_cast<std::size_t>(i)];
          Vec v = V.leftCols(dim) * ritz.eigenvectors().col(wanted(dim, i));
          v /= v.norm();
          apply(v, Av);
          ++applications;
          pair.vector = v;
          pair.value = v.dot(Av);  // Rayleigh quotient: the value that minimises ||Av - value v||
          pair.residual = residual_norm(Av, v, pair.value);
          pair.converged = meets_tol(pair.residual, pair.value, options.tol);
          all_converged = all_converged && pair.converged;
        }
        for (EigenResult& pair : best) {
          pair.iterations = applications;
          pair.restarts = restarts;
          pair.basis = peak;
        }
        const bool may_stop = all_converged && (!invariant || generic_start);
        if (may_stop || spans || applications >= options.max_iter) {
          // Rayleigh quotients of nearly equal Ritz values may cross: report them from the wanted end.
          std::stable_sort(best.begin(), best.end(), [&](const EigenResult& a, const EigenResult& b) {
            return largest ? a.value > b.value : a.value < b.value;
          });
          return best;
        }
      }
    }

    if (invariant) {
      // Continue in the orthogonal complement with a fresh random vector; H stays block diagonal
      // because the space found so far is invariant.
      w = random_unit_vector(n, rng);
      orthogonalise(V, dim, w);
      w /= w.norm();
      beta = 0.0;
      generic_start = true;
    } else {
      w /= beta;
    }
    V.col(dim) = w;
    if (!full) {
      H(j, j + 1) = H(j + 1, j) = beta;
      j = dim;
      continue;
    }

    // Thick restart: keep the `keep` Ritz vectors nearest the wanted end. With A V = V H + beta
    // v_m e_m^T and H = S Theta S^T, A (V S_k) = (V S_k) Theta_k + beta v_m (e_m^T S_k): the kept
    // vectors stay Ritz vectors, v_m becomes the next basis vector, coupled to them by beta S_k(m, :).
    // `ritz` holds the eigenpairs of H: a full basis is always a check step.
    const Index first = largest ? m - keep : 0;
    const Matrix S = ritz.eigenvectors().middleCols(first, keep);
    // V_k = V S_k in place, by row blocks: no second n x keep matrix (the memory bound is the basis).
    constexpr Index kRowBlock = 4096;
    Matrix rows;
    for (Index r = 0; r < n; r += kRowBlock) {
      const Index count_rows = std::min(kRowBlock, n - r);
      rows.noalias() = V.block(r, 0, count_rows, m) * S;
      V.block(r, 0, count_rows, keep) = rows;
    }
    V.col(keep) = V.col(m);
    H.setZero();
    for (int i = 0; i < keep; ++i) {
      H(i, i) = ritz.eigenvalues()[first + i];
      H(i, keep) = H(keep, i) = beta * S(m - 1, i);
    }
    ++restarts;
    j = keep;
  }
}

EigenResult lanczos_impl(Index n, const void* op, ApplyFn apply_fn, Which which,
                         const LanczosOptions& options) {
  return lanczos_eigenpairs_impl(n, op, apply_fn, which, 1, options).front();
}

}  // namespace detail

EigenResult lanczos(const LinearOperator& A, Which which, const LanczosOptions& options) {
  return detail::lanczos_impl(
      A.size(), &A,
      [](const void* op, const Vec& in, Vec& out) {
        static_cast<const LinearOperator*>(op)->apply(in, out);
      },
      which, options);
}

}  // namespace relustab
