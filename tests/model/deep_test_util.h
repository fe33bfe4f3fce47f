// SPDX-License-Identifier: MIT
// Brute-force oracles for the two-hidden-layer net: plain loops over theta's documented layout,
// data away from the kinks of both layers, finite-difference derivatives.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/core/types.h>
#include <relustab/data/dataset.h>
#include <relustab/model/deep_relu.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace relustab::test {

/// Samples are redrawn while some neuron of either layer has |pre-activation| below this. The
/// finite differences below move theta by at most ~1e-4 per coordinate, which moves a
/// pre-activation by far less than this, so no difference quotient straddles a kink.
inline constexpr double kDeepKinkMargin = 2e-2;

/// A net with every parameter drawn from N(0, scale^2).
inline DeepReluNet random_deep_net(Index d, Index k1, Index k2, Rng& rng, double scale = 1.0) {
  DeepReluNet net(d, k1, k2);
  for (Index p = 0; p < net.n_params(); ++p) net.theta()[p] = rng.normal(0.0, scale);
  return net;
}

/// One forward pass by plain loops that read theta through the documented layout
/// (W1 row-major, b1, W2 row-major, b2, w3, b3), without the net's views or predict().
struct BruteForcePass {
  std::vector<double> z1, z2;  ///< pre-activations of both hidden layers
  double f = 0.0;
};

inline BruteForcePass brute_force_pass(const DeepReluNet& net, const Eigen::Ref<const Vec>& x) {
  const Index d = net.input_dim();
  const Index k1 = net.width1();
  const Index k2 = net.width2();
  const Vec& t = net.theta();
  const Index at_b1 = k1 * d, at_W2 = at_b1 + k1, at_b2 = at_W2 + k2 * k1, at_w3 = at_b2 + k2,
              at_b3 = at_w3 + k2;
  BruteForcePass pass;
  pass.z1.assign(static_cast<size_t>(k1), 0.0);
  pass.z2.assign(static_cast<size_t>(k2), 0.0);
  for (Index i = 0; i < k1; ++i) {
    double z = t[at_b1 + i];
    for (Index c = 0; c < d; ++c) z += t[i * d + c] * x[c];
    pass.z1[static_cast<size_t>(i)] = z;
  }
  pass.f = t[at_b3];
  for (Index l = 0; l < k2; ++l) {
    double z = t[at_b2 + l];
    for (Index i = 0; i < k1; ++i)
      z += t[at_W2 + l * k1 + i] * std::max(pass.z1[static_cast<size_t>(i)], 0.0);
    pass.z2[static_cast<size_t>(l)] = z;
    pass.f += t[at_w3 + l] * std::max(z, 0.0);
  }
  return pass;
}

inline double brute_force_deep_output(const DeepReluNet& net, const Eigen::Ref<const Vec>& x) {
  return brute_force_pass(net, x).f;
}

/// The smallest |pre-activation| over the neurons of both layers at x.
inline double min_abs_deep_preactivation(const DeepReluNet& net, const Eigen::Ref<const Vec>& x) {
  const BruteForcePass pass = brute_force_pass(net, x);
  double smallest = std::numeric_limits<double>::infinity();
  for (double z : pass.z1) smallest = std::min(smallest, std::abs(z));
  for (double z : pass.z2) smallest = std::min(smallest, std::abs(z));
  return smallest;
}

/// n samples x ~ N(0, I_d), each redrawn until every neuron of both layers is at least `margin`
/// away from its kink; targets y ~ N(0, 1) (non-zero residuals, so the Hessian has its second-order
/// term).
inline Dataset random_deep_dataset(const DeepReluNet& net, Index n, Rng& rng,
                                   double margin = kDeepKinkMargin) {
  Dataset data;
  data.X.resize(n, net.input_dim());
  data.y.resize(n);
  Vec x(net.input_dim());
  for (Index j = 0; j < n; ++j) {
    for (int attempt = 0;; ++attempt) {
      if (attempt == 10000) throw std::logic_error("random_deep_dataset: cannot avoid the kinks");
      for (Index c = 0; c < x.size(); ++c) x[c] = rng.normal();
      if (min_abs_deep_preactivation(net, x) >= margin) break;
    }
    data.X.row(j) = x.transpose();
    data.y[j] = rng.normal();
  }
  return data;
}

/// L = 1/(2n) sum_j (f(x_j) - y_j)^2 by a plain loop over samples.
inline double brute_force_deep_loss(const DeepReluNet& net, const Dataset& data) {
  double sum = 0.0;
  for (Index j = 0; j < data.n(); ++j) {
    const double r = brute_force_deep_output(net, data.X.row(j).transpose()) - data.y[j];
    sum += r * r;
  }
  return sum / (2.0 * static_cast<double>(data.n()));
}

/// relu(1 - ||x||_1) by a plain loop (independent of pyramid_function).
inline double brute_force_pyramid(const Eigen::Ref<const Vec>& x) {
  double l1 = 0.0;
  for (Index c = 0; c < x.size(); ++c) l1 += std::abs(x[c]);
  return std::max(0.0, 1.0 - l1);
}

/// n points uniform on [-1, 1]^d with y = relu(1 - ||x||_1) exactly (y_clean the same), each
/// redrawn while some |x_c| or |1 - ||x||_1| is below `margin` (the kinks of the pyramid net).
inline Dataset pyramid_dataset(Index d, Index n, Rng& rng, double margin = kDeepKinkMargin) {
  Dataset data;
  data.X.resize(n, d);
  data.y.resize(n);
  Vec x(d);
  for (Index j = 0; j < n; ++j) {
    for (int attempt = 0;; ++attempt) {
      if (attempt == 10000) throw std::logic_error("pyramid_dataset: cannot avoid the kinks");
      for (Index c = 0; c < d; ++c) x[c] = rng.uniform(-1.0, 1.0);
      double l1 = 0.0;
      double smallest = std::numeric_limits<double>::infinity();
      for (Index c = 0; c < d; ++c) {
        l1 += std::abs(x[c]);
        smallest = std::min(smallest, std::abs(x[c]));
      }
      if (smallest >= margin && std::abs(1.0 - l1) >= margin) break;
    }
    data.X.row(j) = x.transpose();
    data.y[j] = brute_force_pyramid(x);
  }
  data.y_clean = data.y;
  return data;
}

/// Jacobian of the outputs, n x P, by central differences of brute_force_deep_output (step h).
inline Matrix fd_output_jacobian(const DeepReluNet& net, const Dataset& data, double h) {
  Matrix J(data.n(), net.n_params());
  for (Index p = 0; p < net.n_params(); ++p) {
    DeepReluNet plus = net, minus = net;
    plus.theta()[p] += h;
    minus.theta()[p] -= h;
    for (Index j = 0; j < data.n(); ++j) {
      const Vec x = data.X.row(j).transpose();
      J(j, p) = (brute_force_deep_output(plus, x) - brute_force_deep_output(minus, x)) / (2.0 * h);
    }
  }
  return J;
}

}  // namespace relustab::test
