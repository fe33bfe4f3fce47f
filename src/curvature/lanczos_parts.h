// SPDX-License-Identifier: MIT
// The parts of the Lanczos process shared by the restarted eigensolver (eigen.cpp) and stochastic
// Lanczos quadrature (spectrum.cpp): one expansion step with full re-orthogonalisation, the
// breakdown test, and the small helpers. Private to the curvature layer.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/core/types.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace relustab::detail {

/// A Lanczos coefficient beta below this multiple of the running estimate of ||A|| means the Krylov
/// space is invariant (to rounding): the next basis vector would be pure rounding noise. 100 ulps
/// leaves room for the error of the two Gram-Schmidt passes.
inline constexpr double kInvariantRelTol = 100.0 * std::numeric_limits<double>::epsilon();

inline double residual_norm(const Vec& Av, const Vec& v, double value) {
  return (Av - value * v).norm();
}

inline bool meets_tol(double residual, double value, double tol) {
  return residual <= tol * std::max(1.0, std::abs(value));
}

/// Removes from `w` its components along the first `m` columns of `Q` (classical Gram-Schmidt, done
/// twice: one pass leaves O(eps * kappa) components, the second brings them to rounding level).
inline void orthogonalise(const Matrix& Q, Index m, Vec& w) {
  if (m == 0) return;
  for (int pass = 0; pass < 2; ++pass) w.noalias() -= Q.leftCols(m) * (Q.leftCols(m).transpose() * w);
}

inline Vec random_unit_vector(Index n, Rng& rng) {
  Vec v(n);
  for (Index i = 0; i < n; ++i) v[i] = rng.normal();
  return v / v.norm();
}

/// One Lanczos step: w = A V(:, j), then its components along V(:, 0..j) removed. Returns the
/// diagonal entry v_j^T A v_j of the projected matrix (the coefficients of both passes); beta is
/// w.norm() afterwards. Full re-orthogonalisation against the whole basis (classical Gram-Schmidt,
/// twice: one pass leaves O(eps * kappa) components, the second brings them to rounding level).
/// Without it the basis would lose orthogonality and produce ghost copies of converged eigenvalues.
/// `h` is scratch.
template <class Apply>
double lanczos_expand(const Apply& apply, const Matrix& V, int j, Vec& w, Vec& h) {
  const int dim = j + 1;
  apply(V.col(j), w);
  h = V.leftCols(dim).transpose() * w;
  w.noalias() -= V.leftCols(dim) * h;
  const Vec correction = V.leftCols(dim).transpose() * w;
  w.noalias() -= V.leftCols(dim) * correction;
  return h[j] + correction[j];
}

}  // namespace relustab::detail
