// SPDX-License-Identifier: MIT
// Test oracles for the analysis layer: direct loops over the definitions, independent of src/analysis.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/core/types.h>
#include <relustab/model/shallow_relu.h>

#include "dense_oracles.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace relustab::test {

/// Mulayoff et al. 2021 eq. (21): P(X < t)^2 E[t - X | X < t] sqrt(1 + E[X | X < t]^2), X uniform on x.
inline double brute_g_minus(const std::vector<double>& x, double t) {
  double count = 0.0, sum = 0.0;
  for (double xj : x) {
    if (xj < t) {
      count += 1.0;
      sum += xj;
    }
  }
  if (count == 0.0) return 0.0;
  double distance = 0.0;
  for (double xj : x) {
    if (xj < t) distance += t - xj;
  }
  const double p = count / static_cast<double>(x.size());
  const double mean = sum / count;
  return p * p * (distance / count) * std::sqrt(1.0 + mean * mean);
}

/// Eq. (22): P(X > t)^2 E[X - t | X > t] sqrt(1 + E[X | X > t]^2).
inline double brute_g_plus(const std::vector<double>& x, double t) {
  double count = 0.0, sum = 0.0;
  for (double xj : x) {
    if (xj > t) {
      count += 1.0;
      sum += xj;
    }
  }
  if (count == 0.0) return 0.0;
  double distance = 0.0;
  for (double xj : x) {
    if (xj > t) distance += xj - t;
  }
  const double p = count / static_cast<double>(x.size());
  const double mean = sum / count;
  return p * p * (distance / count) * std::sqrt(1.0 + mean * mean);
}

/// Eq. (23): min of the two on [min x, max x], 0 outside.
inline double brute_g(const std::vector<double>& x, double t) {
  const double lo = *std::min_element(x.begin(), x.end());
  const double hi = *std::max_element(x.begin(), x.end());
  if (t < lo || t > hi) return 0.0;
  return std::min(brute_g_minus(x, t), brute_g_plus(x, t));
}

/// One-sided multivariate weight g~(u, t) of Nacson et al. 2023, Thm 1, over the rows of X by explicit loops:
/// P(u.X > t)^2 E[u.X - t | u.X > t] sqrt(1 + ||E[X | u.X > t]||^2).
inline double brute_one_sided(const RowMatrix& X, const Vec& u, double t) {
  const Index n = X.rows(), d = X.cols();
  double count = 0.0, distance = 0.0;
  Vec sum = Vec::Zero(d);
  for (Index j = 0; j < n; ++j) {
    double projection = 0.0;
    for (Index c = 0; c < d; ++c) projection += u[c] * X(j, c);
    if (projection > t) {
      count += 1.0;
      distance += projection - t;
      for (Index c = 0; c < d; ++c) sum[c] += X(j, c);
    }
  }
  if (count == 0.0) return 0.0;
  const double p = count / static_cast<double>(n);
  double mean_norm_squared = 0.0;
  for (Index c = 0; c < d; ++c) mean_norm_squared += (sum[c] / count) * (sum[c] / count);
  return p * p * (distance / count) * std::sqrt(1.0 + mean_norm_squared);
}

/// g(u, t) = min(g~(u, t), g~(-u, -t)).
inline double brute_multivariate_g(const RowMatrix& X, const Vec& u, double t) {
  return std::min(brute_one_sided(X, u, t), brute_one_sided(X, Vec(-u), -t));
}

/// Tangent features Phi (P x n) from the entries of Mulayoff et al. 2021, eqs. 26-28 and Nacson et al. 2023, by loops:
/// df/dW1_i = w2_i 1{z > 0} x, df/db1_i = w2_i 1{z > 0}, df/dw2_i = relu(z), df/db2 = 1, with
/// z = W1_i . x + b1_i (relu'(0) = 0).
inline Matrix explicit_tangent_features(const ShallowReluNet& net, const RowMatrix& X) {
  const Index n = X.rows(), d = net.input_dim(), k = net.width();
  Matrix phi = Matrix::Zero(net.n_params(), n);
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < k; ++i) {
      double z = 0.0;
      for (Index c = 0; c < d; ++c) z += net.W1()(i, c) * X(j, c);
      z += net.b1()[i];
      const double active = z > 0.0 ? 1.0 : 0.0;
      for (Index c = 0; c < d; ++c) phi(i * d + c, j) = net.w2()[i] * active * X(j, c);
      phi(net.offset_b1() + i, j) = net.w2()[i] * active;
      phi(net.offset_w2() + i, j) = std::max(z, 0.0);
    }
    phi(net.offset_b2(), j) = 1.0;
  }
  return phi;
}

/// lambda_max(Phi Phi^T / n) through the n x n Gram matrix Phi^T Phi / n (same non-zero spectrum).
inline double gauss_newton_lambda_max(const Matrix& phi) {
  const Matrix gram = phi.transpose() * phi / static_cast<double>(phi.cols());
  return test::largest_eigenvalue(gram);
}

/// n independent inputs uniform on [lo, hi), in the order drawn.
inline std::vector<double> random_inputs(Rng& rng, Index n, double lo, double hi) {
  std::vector<double> x(static_cast<size_t>(n));
  for (double& value : x) value = rng.uniform(lo, hi);
  return x;
}

inline RowMatrix column(const std::vector<double>& x) {
  RowMatrix X(static_cast<Index>(x.size()), 1);
  for (size_t j = 0; j < x.size(); ++j) X(static_cast<Index>(j), 0) = x[j];
  return X;
}

/// Expects value >= bound up to a relative slack (rounding in sums that are equal in exact arithmetic).
inline bool at_least(double value, double bound, double relative_slack) {
  return value >= bound - relative_slack * std::max(std::abs(value), std::abs(bound));
}

}  // namespace relustab::test
