// SPDX-License-Identifier: MIT
// Independent oracles for the trainer tests: a loop-based forward pass, loss and per-sample gradient
// written from Mulayoff et al. 2021, eqs. 18-20 with their own indexing of theta, and small seeded problems.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace relustab::test {

/// theta layout of Mulayoff et al. 2021, eqs. 18-20, indexed by hand: W1 row-major (k x d), then b1, w2, b2.
struct Layout {
  Index d;
  Index k;
  Index w1(Index i, Index c) const { return i * d + c; }
  Index b1(Index i) const { return k * d + i; }
  Index w2(Index i) const { return k * d + k + i; }
  Index b2() const { return k * d + 2 * k; }
  Index size() const { return k * d + 2 * k + 1; }
};

inline double pre_activation(const Layout& L, const Vec& theta, const Dataset& data, Index j,
                             Index i) {
  double z = theta[L.b1(i)];
  for (Index c = 0; c < L.d; ++c) z += theta[L.w1(i, c)] * data.X(j, c);
  return z;
}

/// f(x_j) = sum_i w2_i max(0, W1_i . x_j + b1_i) + b2, by plain loops.
inline double reference_output(const Layout& L, const Vec& theta, const Dataset& data, Index j) {
  double f = theta[L.b2()];
  for (Index i = 0; i < L.k; ++i) {
    f += theta[L.w2(i)] * std::max(0.0, pre_activation(L, theta, data, j, i));
  }
  return f;
}

/// L(theta) = 1/(2n) sum_j (f(x_j) - y_j)^2.
inline double reference_loss(const Layout& L, const Vec& theta, const Dataset& data) {
  double sum = 0.0;
  for (Index j = 0; j < data.n(); ++j) {
    const double r = reference_output(L, theta, data, j) - data.y[j];
    sum += r * r;
  }
  return sum / (2.0 * static_cast<double>(data.n()));
}

/// Gradient of l_j = (1/2) r_j^2: r_j * grad f(x_j) with the entries of Mulayoff et al. 2021, eqs. 26-28 (relu'(0) = 0).
inline Vec reference_sample_gradient(const Layout& L, const Vec& theta, const Dataset& data, Index j) {
  Vec g = Vec::Zero(L.size());
  const double r = reference_output(L, theta, data, j) - data.y[j];
  for (Index i = 0; i < L.k; ++i) {
    const double z = pre_activation(L, theta, data, j, i);
    const double active = z > 0.0 ? 1.0 : 0.0;
    for (Index c = 0; c < L.d; ++c) g[L.w1(i, c)] = r * theta[L.w2(i)] * active * data.X(j, c);
    g[L.b1(i)] = r * theta[L.w2(i)] * active;
    g[L.w2(i)] = r * std::max(0.0, z);
  }
  g[L.b2()] = r;
  return g;
}

/// Smallest |pre-activation| over all (sample, neuron) pairs: how far theta is from a ReLU kink.
inline double distance_to_kink(const Layout& L, const Vec& theta, const Dataset& data) {
  double m = INFINITY;
  for (Index j = 0; j < data.n(); ++j) {
    for (Index i = 0; i < L.k; ++i) m = std::min(m, std::abs(pre_activation(L, theta, data, j, i)));
  }
  return m;
}

/// n points x ~ U[-1, 1]^d, y = sin(3 x_1) + noise_sigma N(0, 1), y_clean = sin(3 x_1).
inline Dataset sine_problem(Index n, Index d, double noise_sigma, std::uint64_t seed) {
  Rng rng(seed);
  Dataset data;
  data.X.resize(n, d);
  data.y.resize(n);
  data.y_clean.resize(n);
  for (Index j = 0; j < n; ++j) {
    for (Index c = 0; c < d; ++c) data.X(j, c) = rng.uniform(-1.0, 1.0);
    data.y_clean[j] = std::sin(3.0 * data.X(j, 0));
    data.y[j] = data.y_clean[j] + noise_sigma * rng.normal();
  }
  return data;
}

/// A net with every parameter N(0, scale^2), drawn here (not through the library's initialisers).
inline ShallowReluNet gaussian_net(Index d, Index k, double scale, std::uint64_t seed) {
  Rng rng(seed);
  Vec theta(ShallowReluNet::n_params(d, k));
  for (Index p = 0; p < theta.size(); ++p) theta[p] = scale * rng.normal();
  return ShallowReluNet(d, k, theta);
}


/// Two samples and a width-2 net whose neurons have equal activations and outputs +-1e200 that cancel:
/// f = 0, so the loss (1e220 scale) is finite, but the W1 gradient r w2 x ~ 1e310 overflows, so one
/// GD step (eta 0.1) leaves non-finite parameters and train() must step back to theta_0.
struct OverflowingStep {
  Dataset data;
  ShallowReluNet net{1, 2};

  OverflowingStep() {
    data.X.resize(2, 1);
    data.X << 1.0, 2.0;
    data.y.resize(2);
    data.y << 1e110, 2e110;
    net.W1() << 1.0, 1.0;
    net.w2() << 1e200, -1e200;
  }
};

}  // namespace relustab::test
