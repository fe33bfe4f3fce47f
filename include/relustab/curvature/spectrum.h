// SPDX-License-Identifier: MIT
// The spectrum of a symmetric operator beyond its extreme eigenvalue: several extreme eigenpairs
// (thick-restart Lanczos), the trace (Hutchinson's estimator) and the spectral density (stochastic
// Lanczos quadrature), all from operator products only (e.g. the exact Hessian-vector products of
// Backend::curvature or net_curvature).
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/core/types.h>
#include <relustab/curvature/eigen.h>

#include <cstdint>
#include <vector>

namespace relustab {

/// The k eigenpairs nearest the `which` end of the spectrum (k = 1: lanczos() exactly), ordered from
/// that end (largest first for LargestAlgebraic: the top-k Hessian eigenvalues). Thick-restart
/// Lanczos with full re-orthogonalisation, as lanczos(), with a basis of
/// m = min(P, max(options.max_basis, 2k)) vectors: memory (m + 1) P doubles. Each result's residual
/// ||A v - value v|| is measured with a fresh operator application (value = the Rayleigh quotient),
/// and its `converged` flag says whether that residual is <= options.tol * max(1, |value|); the
/// iteration stops when all k are, or after options.max_iter applications plus k confirming ones.
/// A single start vector spans one direction of each eigenspace: an eigenvalue of multiplicity > 1
/// (exactly, not merely clustered) is found once, unless the Krylov space becomes invariant first.
/// Throws InputError unless 1 <= k <= P and options.max_iter >= k (and as lanczos()).
std::vector<EigenResult> extreme_eigenpairs(const LinearOperator& A, Which which, int k,
                                            const LanczosOptions& options = {});

/// The same for any operator of the concept (the algorithm runs on a type-erased reference).
template <SymmetricOperator Op>
std::vector<EigenResult> extreme_eigenpairs(const Op& A, Which which, int k,
                                            const LanczosOptions& options = {}) {
  return detail::lanczos_eigenpairs_impl(
      static_cast<Index>(A.size()), &A,
      [](const void* op, const Vec& in, Vec& out) { static_cast<const Op*>(op)->apply(in, out); },
      which, k, options);
}

struct TraceOptions {
  int samples = 100;             ///< Rademacher probes (>= 1)
  std::uint64_t seed = 0x5eed;   ///< seed of the probes (relustab::Rng)
};

/// Hutchinson's estimate of trace(A): the mean of z^T A z over `samples` probes z with independent
/// +-1 entries (E[z^T A z] = trace A; variance 2 sum_{i != j} A_ij^2 per probe, so a diagonal A is
/// estimated exactly).
struct TraceEstimate {
  double value = 0.0;
  /// Sample standard deviation of z^T A z over the probes / sqrt(samples): the estimate's standard
  /// error. NaN for a single probe (no spread to measure).
  double standard_error = 0.0;
  int samples = 0;
  std::uint64_t seed = 0;
};
/// Throws InputError unless options.samples >= 1.
TraceEstimate hutchinson_trace(const LinearOperator& A, const TraceOptions& options = {});

struct DensityOptions {
  int probes = 10;              ///< start vectors (>= 1)
  int steps = 30;               ///< Lanczos steps per probe (1 <= steps <= P)
  std::uint64_t seed = 0x5eed;  ///< seed of the start vectors (relustab::Rng)
};

/// The spectral density of A by stochastic Lanczos quadrature (Ubaru, Chen and Saad 2017; Ghorbani,
/// Krishnan and Xiao 2019): for each probe, a Rademacher start vector v (normalised) and `steps`
/// Lanczos steps with full re-orthogonalisation (fewer when the Krylov space is invariant) give a
/// tridiagonal T = S Theta S^T; its Ritz values theta_i are nodes with weights S(0, i)^2 / probes.
/// Per probe this is the Gauss quadrature of v's spectral measure: sum_i S(0,i)^2 theta_i^p =
/// v^T A^p v for p <= 2 steps - 1. The union over probes is a discrete probability measure
/// (weights sum to 1) whose expectation over v is the eigenvalue distribution (1/P) sum_i
/// delta(lambda_i) in its moments up to 2 steps - 1. Memory (steps + 1) P doubles.
struct SpectralDensity {
  std::vector<double> nodes;    ///< Ritz values, probe after probe, ascending within each probe
  std::vector<double> weights;  ///< their weights, >= 0, summing to 1
  std::vector<int> probe_steps; ///< Lanczos steps each probe made (< steps after a breakdown)
  int probes = 0;
  int steps = 0;
  std::uint64_t seed = 0;
};
/// Throws InputError unless options.probes >= 1 and 1 <= options.steps <= P.
SpectralDensity spectral_density(const LinearOperator& A, const DensityOptions& options = {});

namespace detail {
TraceEstimate hutchinson_trace_impl(Index n, const void* op, ApplyFn apply,
                                    const TraceOptions& options);
SpectralDensity spectral_density_impl(Index n, const void* op, ApplyFn apply,
                                      const DensityOptions& options);
}  // namespace detail

/// The same two for any operator of the concept.
template <SymmetricOperator Op>
TraceEstimate hutchinson_trace(const Op& A, const TraceOptions& options = {}) {
  return detail::hutchinson_trace_impl(
      static_cast<Index>(A.size()), &A,
      [](const void* op, const Vec& in, Vec& out) { static_cast<const Op*>(op)->apply(in, out); },
      options);
}
template <SymmetricOperator Op>
SpectralDensity spectral_density(const Op& A, const DensityOptions& options = {}) {
  return detail::spectral_density_impl(
      static_cast<Index>(A.size()), &A,
      [](const void* op, const Vec& in, Vec& out) { static_cast<const Op*>(op)->apply(in, out); },
      options);
}

}  // namespace relustab
