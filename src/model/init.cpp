// SPDX-License-Identifier: MIT
// Seeded initialisations of two-layer ReLU nets (PyTorch default, Kaiming, scaled Gaussian, small
// balanced, and knots spread over the data).
#include <relustab/model/init.h>

#include <relustab/core/error.h>
#include <relustab/core/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relustab {
namespace {

struct NamedKind {
  std::string_view name;
  InitKind kind;
};

constexpr std::array<NamedKind, 4> kInitNames{{
    {"torch", InitKind::TorchUniform},
    {"kaiming", InitKind::KaimingNormal},
    {"scaled", InitKind::Scaled},
    {"balanced", InitKind::SmallBalanced},
}};

}  // namespace

InitKind parse_init_kind(std::string_view name) {
  for (const auto& entry : kInitNames) {
    if (entry.name == name) return entry.kind;
  }
  std::string choices;
  for (const auto& entry : kInitNames) {
    choices += (choices.empty() ? "" : ", ") + std::string(entry.name);
  }
  throw InputError("init: unknown initialisation '" + std::string(name) + "'; expected one of " +
                   choices);
}

std::string_view init_kind_name(InitKind kind) {
  for (const auto& entry : kInitNames) {
    if (entry.kind == kind) return entry.name;
  }
  throw InputError("init: unknown initialisation kind " +
                   std::to_string(static_cast<int>(kind)));
}

ShallowReluNet initialize(Index input_dim, Index width, InitKind kind, double scale, Rng& rng) {
  // The constructor validates the dimensions before anything is drawn.
  ShallowReluNet net(input_dim, width);
  if (kind == InitKind::Scaled || kind == InitKind::SmallBalanced) {
    require(std::isfinite(scale) && scale > 0.0,
            "init_scale: expected a finite number > 0 for init '" +
                std::string(init_kind_name(kind)) + "', got " + format_number(scale));
  }
  const double d = static_cast<double>(input_dim);
  const double k = static_cast<double>(width);
  Vec& theta = net.theta();
  switch (kind) {
    case InitKind::TorchUniform: {
      // nn.Linear: bound 1/sqrt(fan_in) for weight and bias; fan_in is d for layer 1, k for layer 2.
      const double bound1 = 1.0 / std::sqrt(d);
      const double bound2 = 1.0 / std::sqrt(k);
      for (Index p = 0; p < net.offset_w2(); ++p) theta[p] = rng.uniform(-bound1, bound1);
      for (Index p = net.offset_w2(); p < net.n_params(); ++p) theta[p] = rng.uniform(-bound2, bound2);
      break;
    }
    case InitKind::KaimingNormal: {
      const double std1 = std::sqrt(2.0 / d);
      const double std2 = std::sqrt(2.0 / k);
      for (Index p = 0; p < net.offset_b1(); ++p) theta[p] = std1 * rng.normal();
      for (Index p = net.offset_w2(); p < net.offset_b2(); ++p) theta[p] = std2 * rng.normal();
      break;
    }
    case InitKind::Scaled: {
      for (Index p = 0; p < net.n_params(); ++p) theta[p] = scale * rng.normal();
      break;
    }
    case InitKind::SmallBalanced: {
      // Boursier and Flammarion 2025: per neuron, (W1_i, b1_i) ~ N(0, (scale/sqrt(k))^2 I) and |w2_i| = ||(W1_i, b1_i)||,
      // so each neuron starts balanced (the rescaling invariant |w2_i|^2 - ||(W1_i, b1_i)||^2 is 0).
      const double stddev = scale / std::sqrt(k);
      auto W1 = net.W1();
      auto b1 = net.b1();
      auto w2 = net.w2();
      for (Index i = 0; i < width; ++i) {
        // The squared norm is summed left to right (W1_i then b1_i), so |w2_i| is reproducible exactly.
        double squared_norm = 0.0;
        for (Index c = 0; c < input_dim; ++c) {
          W1(i, c) = stddev * rng.normal();
          squared_norm += W1(i, c) * W1(i, c);
        }
        b1[i] = stddev * rng.normal();
        squared_norm += b1[i] * b1[i];
        const double norm = std::sqrt(squared_norm);
        w2[i] = rng.below(2) == 0 ? norm : -norm;
      }
      break;
    }
  }
  return net;
}

ShallowReluNet initialize_data_knots(const Vec& inputs, Index width, double scale, Rng& rng) {
  require(width >= 1, "init 'data_knots': expected a width >= 1, got " + std::to_string(width));
  require(std::isfinite(scale) && scale > 0.0,
          "init_scale: expected a finite number > 0 for init 'data_knots', got " + format_number(scale));
  require(inputs.allFinite(), "init 'data_knots': the inputs must be finite");
  std::vector<double> points(inputs.data(), inputs.data() + inputs.size());
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  require(points.size() >= 2, "init 'data_knots': the inputs need at least two distinct values to "
                              "place knots between them, got " + std::to_string(points.size()));
  const std::size_t gaps = points.size() - 1;
  std::vector<std::size_t> order(gaps);
  ShallowReluNet net(1, width);  // all zero: w2 = 0 and b2 = 0 stay so
  auto W1 = net.W1();
  auto b1 = net.b1();
  for (Index i = 0; i < width; ++i) {
    const std::size_t slot = static_cast<std::size_t>(i) % gaps;
    if (slot == 0) {
      std::iota(order.begin(), order.end(), std::size_t{0});
      for (std::size_t j = gaps - 1; j >= 1; --j) std::swap(order[j], order[rng.below(j + 1)]);
    }
    const std::size_t gap = order[slot];
    const double knot = rng.uniform(points[gap], points[gap + 1]);
    const double w1 = rng.below(2) == 0 ? scale : -scale;
    W1(i, 0) = w1;
    b1[i] = -w1 * knot;
  }
  return net;
}

}  // namespace relustab
