// SPDX-License-Identifier: MIT
// The data and initial nets of the workloads of bench/README.md, built as the peers' scripts build them
// (bench/peers/): x = linspace(-1, 1, n), y = sin(3x) + 0.3 N(0, 1), w1, b1 ~ U(-1, 1),
// w2 ~ U(-1, 1) / sqrt(k), b2 = 0, eta = 0.05. Only the random streams differ (the project's Rng here),
// which changes no cost: every step does the same work whatever the values.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/data/generators.h>
#include <relustab/model/shallow_relu.h>

#include <cmath>
#include <cstdint>

namespace relustab::bench {

/// Step size of the single-net workloads (W1, W2), as in the peers' eager scripts.
inline constexpr double kWorkloadEta = 0.05;

/// n evenly spaced points on [-1, 1] (both ends included) with y = sin(3x) + 0.3 * N(0, 1).
inline Dataset workload_dataset(Index n, std::uint64_t seed = 0) {
  Rng rng(seed);
  const RowMatrix X = sample_inputs(InputLaw::Grid, n, 1, rng, -1.0, 1.0);
  Target target;
  target.kind = Target::Kind::Sin3;
  return make_dataset(X, target, 0.3, rng);
}

/// A univariate width-k net with w1, b1 ~ U(-1, 1), w2 ~ U(-1, 1) / sqrt(k), b2 = 0, drawn block by
/// block (all w1, then all b1, then all w2) like the batched peers. `net_index` picks an independent
/// stream, so the members of a batch start from different points.
inline ShallowReluNet workload_net(Index k, std::uint64_t net_index = 0, std::uint64_t seed = 0) {
  Rng rng = Rng(seed).split(1000 + net_index);
  ShallowReluNet net(1, k);
  for (Index i = 0; i < k; ++i) net.W1()(i, 0) = rng.uniform(-1.0, 1.0);
  for (Index i = 0; i < k; ++i) net.b1()[i] = rng.uniform(-1.0, 1.0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(k));
  for (Index i = 0; i < k; ++i) net.w2()[i] = rng.uniform(-1.0, 1.0) * scale;
  net.b2() = 0.0;
  return net;
}

/// The step size of member `index` of `count` in the batched workload: logspace(-3, 0, count), as
/// torch.logspace / jnp.logspace give it (count = 1: 10^-3).
inline double batched_eta(Index index, Index count) {
  if (count <= 1) return 1e-3;
  const double exponent = -3.0 + 3.0 * static_cast<double>(index) / static_cast<double>(count - 1);
  return std::pow(10.0, exponent);
}

}  // namespace relustab::bench
