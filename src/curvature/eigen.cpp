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

namespace relustab {
namespace {

/// A Lanczos coefficient beta below this multiple of the running estimate of ||A|| means the Krylov
/// space is invariant (to rounding): the next basis vector would be pure rounding noise. 100 ulps
/// leaves room for the error of the two Gram-Schmidt passes.
constexpr double kInvariantRelTol = 100.0 * std::numeric_limits<double>::epsilon();

/// The projected eigenproblem costs O(m^3) with vectors, so after the first few steps it is solved
/// only about this many times per doubling of the operator applications (and whenever the basis is
/// full, where a restart needs it anyway).
constexpr int kChecksPerDoubling = 32;

bool is_check_step(int m, int m_max) {
  return m <= kChecksPerDoubling || m == m_max || m % std::max(1, m / kChecksPerDoubling) == 0;
}

double residual_norm(const Vec& Av, const Vec& v, double value) { return (Av - value * v).norm(); }

bool meets_tol(double residual, double value, double tol) {
  return residual <= tol * std::max(1.0, std::abs(value));
}

/// Removes from `w` its components along the first `m` columns of `Q` (classical Gram-Schmidt, done
/// twice: one pass leaves O(eps * kappa) components, the second brings them to rounding level).
void orthogonalise(const Matrix& Q, Index m, Vec& w) {
  if (m == 0) return;
  for (int pass = 0; pass < 2; ++pass) w.noalias() -= Q.leftCols(m) * (Q.leftCols(m).transpose() * w);
}

Vec random_unit_vector(Index n, Rng& rng) {
  Vec v(n);
  for (Index i = 0; i < n; ++i) v[i] = rng.normal();
  return v / v.norm();
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

EigenResult lanczos_impl(Index n, const void* op, ApplyFn apply_fn, Which which,
                         const LanczosOptions& options) {
  require(n >= 1, "lanczos: expected an operator of size >= 1, got " + std::to_string(n));
  require(options.max_iter >= 1,
          "lanczos: max_iter: expected an integer >= 1, got " + std::to_string(options.max_iter));
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
  // Basis dimension: never more than n, where the basis spans everything and the answer is exact.
  const int m = static_cast<int>(std::min<Index>(options.max_basis, n));
  // Ritz vectors kept at a restart: half the basis, nearest the wanted end (Wu and Simon 2000 keep
  // about this many for one wanted eigenvalue; more keeps too few new directions per cycle).
  const int keep = std::max(1, m / 2);
  const bool largest = which == Which::LargestAlgebraic;

  // V: orthonormal basis, column m holds the next Lanczos vector while the basis is full.
  // H: the projected matrix V^T A V, tridiagonal except for row/column `keep` after a restart, which
  // couples the kept Ritz vectors to the first new Lanczos vector (an arrowhead).
  Matrix V(n, m + 1);
  Matrix H = Matrix::Zero(m, m);
  V.col(0) = warm ? Vec(options.start / options.start.norm()) : random_unit_vector(n, rng);
  // Stopping on an invariant subspace gives the extreme eigenvalue of A only if the Krylov space was
  // generated by a vector with a component along every eigenvector; a random vector has one almost
  // surely, a warm start (e.g. an exact eigenvector of a lower eigenvalue) may not.
  bool generic_start = !warm;
  double norm_estimate = 0.0;  // max over steps of the absolute row sums of H (<= ||A||)
  int applications = 0;
  int restarts = 0;
  int peak = 0;
  Vec w, Av, h;
  EigenResult best;
  Eigen::SelfAdjointEigenSolver<Matrix> ritz;

  for (int j = 0;;) {
    const int dim = j + 1;  // basis vectors after this step
    peak = std::max(peak, dim);
    apply(V.col(j), w);
    ++applications;
    // Full re-orthogonalisation against the whole basis (classical Gram-Schmidt, twice: one pass
    // leaves O(eps * kappa) components, the second brings them to rounding level). Without it the
    // basis would lose orthogonality and produce ghost copies of converged eigenvalues.
    h = V.leftCols(dim).transpose() * w;
    w.noalias() -= V.leftCols(dim) * h;
    const Vec correction = V.leftCols(dim).transpose() * w;
    w.noalias() -= V.leftCols(dim) * correction;
    H(j, j) = h[j] + correction[j];
    double beta = w.norm();
    norm_estimate = std::max(norm_estimate, H.row(j).head(dim).cwiseAbs().sum() + beta);
    const bool invariant = beta <= kInvariantRelTol * norm_estimate;
    const bool spans = dim == n;  // the basis spans R^n: the Ritz pair is exact
    const bool full = dim == m;
    const bool budget_spent = applications >= options.max_iter;

    if (invariant || spans || full || budget_spent || is_check_step(applications, options.max_iter)) {
      if (restarts == 0) {
        // Still plain Lanczos: H is tridiagonal, whose solver is several times cheaper than the
        // dense one (it matters for back ends with O(n + k) products).
        ritz.computeFromTridiagonal(H.diagonal().head(dim), H.diagonal(-1).head(dim - 1),
                                    Eigen::ComputeEigenvectors);
      } else {
        ritz.compute(H.topLeftCorner(dim, dim), Eigen::ComputeEigenvectors);
      }
      const Index pick = largest ? dim - 1 : 0;  // ascending order
      const double ritz_value = ritz.eigenvalues()[pick];
      // ||A V s - theta V s|| = beta |s_last| in exact arithmetic (the Ritz residual estimate).
      const double estimate = beta * std::abs(ritz.eigenvectors()(dim - 1, pick));
      if (invariant || spans || budget_spent || meets_tol(estimate, ritz_value, options.tol)) {
        // The estimate is only as good as the basis; confirm with one more operator application.
        Vec v = V.leftCols(dim) * ritz.eigenvectors().col(pick);
        v /= v.norm();
        apply(v, Av);
        ++applications;
        best.vector = v;
        best.value = v.dot(Av);  // Rayleigh quotient: the value that minimises ||Av - value v||
        best.residual = residual_norm(Av, v, best.value);
        best.converged = meets_tol(best.residual, best.value, options.tol);
        best.iterations = applications;
        best.restarts = restarts;
        best.basis = peak;
        const bool may_stop = best.converged && (!invariant || generic_start);
        if (may_stop || spans || applications >= options.max_iter) return best;
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
      const Index count = std::min(kRowBlock, n - r);
      rows.noalias() = V.block(r, 0, count, m) * S;
      V.block(r, 0, count, keep) = rows;
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
