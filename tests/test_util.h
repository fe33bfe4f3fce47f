// SPDX-License-Identifier: MIT
// Small shared helpers for tests: random nets, random data away from ReLU kinks, brute-force oracles.
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/core/types.h>
#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

#include "dense_oracles.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <numbers>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace relustab::test {

/// Samples are redrawn while some neuron's |pre-activation| is below this, so that finite-difference
/// steps of ~1e-5 in the parameters never cross a kink (|d pre| <= h (||x||_1 + 1)).
inline constexpr double kKinkMargin = 1e-3;

/// The back end the curvature and training suites run against: $RELUSTAB_TEST_BACKEND, else the CPU
/// reference. CTest runs those suites once per back end (tests/CMakeLists.txt), with the reference's
/// own tests and the independent oracles (finite differences, dense solvers) as the yardstick.
inline std::string backend_under_test() {
  const char* name = std::getenv("RELUSTAB_TEST_BACKEND");
  return name != nullptr && *name != '\0' ? name : "cpu";
}

/// Whether the back end under test handles nets with this input dimension.
inline bool backend_supports(Index input_dim) {
  return backend_under_test() != "univariate" || input_dim == 1;
}

inline std::unique_ptr<Backend> make_backend_under_test(RunContext context = {}) {
  return make_backend(backend_under_test(), context);
}

/// A net with every parameter drawn from N(0, scale^2).
inline ShallowReluNet random_net(Index input_dim, Index width, Rng& rng, double scale = 1.0) {
  ShallowReluNet net(input_dim, width);
  for (Index p = 0; p < net.n_params(); ++p) net.theta()[p] = rng.normal(0.0, scale);
  return net;
}

/// f(x) by a plain loop over neurons that reads theta through the documented layout
/// (W1 row-major, b1, w2, b2), without the net's views or predict().
inline double brute_force_output(const ShallowReluNet& net, const Eigen::Ref<const Vec>& x) {
  const Index d = net.input_dim();
  const Index k = net.width();
  const Vec& theta = net.theta();
  double f = theta[k * d + 2 * k];
  for (Index i = 0; i < k; ++i) {
    double pre = theta[k * d + i];
    for (Index c = 0; c < d; ++c) pre += theta[i * d + c] * x[c];
    f += theta[k * d + k + i] * std::max(pre, 0.0);
  }
  return f;
}

/// The smallest |W1_i . x + b1_i| over neurons i, by a plain loop.
inline double min_abs_preactivation(const ShallowReluNet& net, const Eigen::Ref<const Vec>& x) {
  double smallest = std::numeric_limits<double>::infinity();
  for (Index i = 0; i < net.width(); ++i) {
    double pre = net.theta()[net.offset_b1() + i];
    for (Index c = 0; c < net.input_dim(); ++c) pre += net.theta()[i * net.input_dim() + c] * x[c];
    smallest = std::min(smallest, std::abs(pre));
  }
  return smallest;
}

/// The Hessian of `loss` at theta by central second differences with step h, symmetrised. Tests
/// only: production curvature code never uses finite differences (they spike at ReLU kinks). Per
/// entry the error is about h^2 |L^(4)| / 12 + eps |L| / h^2 (~1e-8 for h = 1e-4 and O(1) losses).
inline Matrix central_difference_hessian(const std::function<double(const Vec&)>& loss,
                                         const Vec& theta, double h = 1e-4) {
  const Index P = theta.size();
  Matrix H(P, P);
  for (Index a = 0; a < P; ++a) {
    for (Index b = 0; b < P; ++b) {
      Vec pp = theta, pm = theta, mp = theta, mm = theta;
      pp[a] += h, pp[b] += h;
      pm[a] += h, pm[b] -= h;
      mp[a] -= h, mp[b] += h;
      mm[a] -= h, mm[b] -= h;
      H(a, b) = (loss(pp) - loss(pm) - loss(mp) + loss(mm)) / (4.0 * h * h);
    }
  }
  return 0.5 * (H + H.transpose());
}

/// n samples x ~ N(0, I_d), each redrawn until every neuron of `net` is at least `margin` away from
/// its kink there; targets y ~ N(0, 1) (so residuals are non-zero and the Hessian is indefinite).
inline Dataset random_dataset(const ShallowReluNet& net, Index n, Rng& rng,
                              double margin = kKinkMargin) {
  Dataset data;
  data.X.resize(n, net.input_dim());
  data.y.resize(n);
  Vec x(net.input_dim());
  for (Index j = 0; j < n; ++j) {
    for (int attempt = 0;; ++attempt) {
      if (attempt == 10000) throw std::logic_error("random_dataset: cannot avoid the kinks");
      for (Index c = 0; c < x.size(); ++c) x[c] = rng.normal();
      if (min_abs_preactivation(net, x) >= margin) break;
    }
    data.X.row(j) = x.transpose();
    data.y[j] = rng.normal();
  }
  return data;
}

/// L = 1/(2n) sum_j (f(x_j) - y_j)^2 by a plain loop over samples.
inline double brute_force_loss(const ShallowReluNet& net, const Dataset& data) {
  double sum = 0.0;
  for (Index j = 0; j < data.n(); ++j) {
    const double r = brute_force_output(net, data.X.row(j).transpose()) - data.y[j];
    sum += r * r;
  }
  return sum / (2.0 * static_cast<double>(data.n()));
}

/// A dense symmetric matrix seen as a LinearOperator.
class MatrixOperator final : public LinearOperator {
 public:
  explicit MatrixOperator(Matrix matrix) : matrix_(std::move(matrix)) {}
  Index size() const override { return matrix_.rows(); }
  void apply(const Vec& in, Vec& out) const override { out = matrix_ * in; }

 private:
  Matrix matrix_;
};

/// A random symmetric matrix Q diag(spectrum) Q^T with Q Haar-like orthogonal (QR of a Gaussian).
inline Matrix symmetric_with_spectrum(const Vec& spectrum, Rng& rng) {
  const Index n = spectrum.size();
  Matrix G(n, n);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) G(i, j) = rng.normal();
  const Matrix Q = orthogonal_factor(G);
  Matrix A = Q * spectrum.asDiagonal() * Q.transpose();
  return (A + A.transpose()) / 2.0;  // exactly symmetric despite rounding
}

/// "d1", "d5": a name suffix for tests parameterised by the input dimension.
inline std::string dim_label(Index input_dim) {
  std::string label = "d";  // appended, not "d" + ...: GCC 12 warns falsely (-Wrestrict) on that
  label += std::to_string(input_dim);
  return label;
}

/// The message of the InputError that `action` throws, or "(no InputError)".
inline std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

/// The median of some values (the mean of the two middle ones for an even count; NaN for none).
inline double median(std::vector<double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const std::size_t half = values.size() / 2;
  return values.size() % 2 == 1 ? values[half] : 0.5 * (values[half - 1] + values[half]);
}

/// ||actual - expected|| / ||expected||.
inline double relative_error(const Vec& actual, const Vec& expected) {
  return (actual - expected).norm() / expected.norm();
}

/// The shape of a small test problem: input dimension, width, samples.
struct NetShape {
  Index input_dim;
  Index width;
  Index n;
};

/// max_ij |A_ij|.
template <class Derived>
double max_abs(const Eigen::MatrixBase<Derived>& A) {
  return A.cwiseAbs().maxCoeff();
}

/// |a - b| / max(1, |b|): relative for large values, absolute near 0.
inline double relative_gap(double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); }

/// GeLU by its definition z Phi(z) = z (1 + erf(z / sqrt 2)) / 2, the oracle of the GeLU back end.
inline double gelu_by_erf(double z) { return 0.5 * z * (1.0 + std::erf(z / std::numbers::sqrt2)); }

}  // namespace relustab::test
