// SPDX-License-Identifier: MIT
// Several extreme eigenpairs, Hutchinson's trace estimate and stochastic Lanczos quadrature.
#include <relustab/curvature/spectrum.h>

#include <relustab/core/error.h>
#include <relustab/core/rng.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "lanczos_parts.h"

namespace relustab {
namespace {

void apply_linear_operator(const void* op, const Vec& in, Vec& out) {
  static_cast<const LinearOperator*>(op)->apply(in, out);
}

/// A vector of independent +-1 entries (one bit of the generator each).
Vec rademacher(Index n, Rng& rng) {
  Vec z(n);
  for (Index i = 0; i < n; ++i) z[i] = (rng.next_u64() >> 63) != 0 ? 1.0 : -1.0;
  return z;
}

}  // namespace

std::vector<EigenResult> extreme_eigenpairs(const LinearOperator& A, Which which, int k,
                                            const LanczosOptions& options) {
  return detail::lanczos_eigenpairs_impl(A.size(), &A, apply_linear_operator, which, k, options);
}

TraceEstimate hutchinson_trace(const LinearOperator& A, const TraceOptions& options) {
  return detail::hutchinson_trace_impl(A.size(), &A, apply_linear_operator, options);
}

SpectralDensity spectral_density(const LinearOperator& A, const DensityOptions& options) {
  return detail::spectral_density_impl(A.size(), &A, apply_linear_operator, options);
}

namespace detail {

TraceEstimate hutchinson_trace_impl(Index n, const void* op, ApplyFn apply,
                                    const TraceOptions& options) {
  require(n >= 1, "hutchinson_trace: expected an operator of size >= 1, got " + std::to_string(n));
  require(options.samples >= 1, "hutchinson_trace: samples: expected an integer >= 1, got " +
                                    std::to_string(options.samples));
  Rng rng(options.seed);
  // Welford's running mean and sum of squared deviations: identical samples (a diagonal A) give a
  // spread of exactly 0, and no cancellation between two large sums.
  double mean = 0.0;
  double m2 = 0.0;
  Vec Az;
  for (int s = 1; s <= options.samples; ++s) {
    const Vec z = rademacher(n, rng);
    apply(op, z, Az);
    const double x = z.dot(Az);
    const double delta = x - mean;
    mean += delta / s;
    m2 += delta * (x - mean);
  }
  TraceEstimate result;
  result.value = mean;
  result.samples = options.samples;
  result.seed = options.seed;
  result.standard_error = options.samples >= 2
                              ? std::sqrt(m2 / (options.samples - 1) / options.samples)
                              : std::numeric_limits<double>::quiet_NaN();
  return result;
}

SpectralDensity spectral_density_impl(Index n, const void* op, ApplyFn apply_fn,
                                      const DensityOptions& options) {
  require(n >= 1, "spectral_density: expected an operator of size >= 1, got " + std::to_string(n));
  require(options.probes >= 1, "spectral_density: probes: expected an integer >= 1, got " +
                                   std::to_string(options.probes));
  require(options.steps >= 1 && options.steps <= n,
          "spectral_density: steps: expected an integer in [1, " + std::to_string(n) +
              "] (the operator's size), got " + std::to_string(options.steps));
  auto apply = [&](const Vec& in, Vec& out) { apply_fn(op, in, out); };
  Rng rng(options.seed);
  const int m = options.steps;
  SpectralDensity density;
  density.probes = options.probes;
  density.steps = m;
  density.seed = options.seed;
  Matrix V(n, m);
  Vec alpha(m), beta(m), w, h;
  Eigen::SelfAdjointEigenSolver<Matrix> tridiagonal;
  for (int p = 0; p < options.probes; ++p) {
    V.col(0) = rademacher(n, rng) / std::sqrt(static_cast<double>(n));
    double norm_estimate = 0.0;  // max absolute row sum of T so far (<= ||A||)
    int dim = 0;
    for (int j = 0; j < m; ++j) {
      alpha[j] = lanczos_expand(apply, V, j, w, h);
      dim = j + 1;
      beta[j] = w.norm();
      norm_estimate =
          std::max(norm_estimate, std::abs(alpha[j]) + beta[j] + (j > 0 ? beta[j - 1] : 0.0));
      // An invariant Krylov space: v's spectral measure has exactly `dim` points, all found.
      if (dim == m || beta[j] <= kInvariantRelTol * norm_estimate) break;
      V.col(j + 1) = w / beta[j];
    }
    tridiagonal.computeFromTridiagonal(alpha.head(dim), beta.head(dim - 1),
                                       Eigen::ComputeEigenvectors);
    for (int i = 0; i < dim; ++i) {
      const double first = tridiagonal.eigenvectors()(0, i);
      density.nodes.push_back(tridiagonal.eigenvalues()[i]);
      density.weights.push_back(first * first / options.probes);
    }
    density.probe_steps.push_back(dim);
  }
  return density;
}

}  // namespace detail
}  // namespace relustab
