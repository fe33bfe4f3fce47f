// SPDX-License-Identifier: MIT
// The two-hidden-layer ReLU net: layout checks, forward pass, pyramid representation,
// initialisation.
#include <relustab/model/deep_relu.h>

#include <relustab/core/error.h>
#include <relustab/core/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string>

namespace relustab {

DeepReluNet::DeepReluNet(Index input_dim, Index width1, Index width2)
    : DeepReluNet(input_dim, width1, width2,
                  Vec::Zero(n_params(std::max<Index>(input_dim, 0), std::max<Index>(width1, 0),
                                     std::max<Index>(width2, 0)))) {}

DeepReluNet::DeepReluNet(Index input_dim, Index width1, Index width2, Vec theta)
    : input_dim_(input_dim), width1_(width1), width2_(width2), theta_(std::move(theta)) {
  require(input_dim >= 1, "input_dim: expected an integer >= 1, got " + std::to_string(input_dim));
  require(width1 >= 1, "width1: expected an integer >= 1, got " + std::to_string(width1));
  require(width2 >= 1, "width2: expected an integer >= 1, got " + std::to_string(width2));
  require(theta_.size() == n_params(input_dim, width1, width2),
          "parameter vector: expected length " +
              std::to_string(n_params(input_dim, width1, width2)) + " for input_dim " +
              std::to_string(input_dim) + ", width1 " + std::to_string(width1) + " and width2 " +
              std::to_string(width2) + ", got " + std::to_string(theta_.size()));
}

DeepReluNet DeepReluNet::pyramid(Index input_dim, const PyramidOptions& options) {
  require(input_dim >= 1, "input_dim: expected an integer >= 1, got " + std::to_string(input_dim));
  const Index k1 = options.width1 == 0 ? 2 * input_dim : options.width1;
  const Index k2 = options.width2 == 0 ? 1 : options.width2;
  require(k1 >= 2 * input_dim,
          "width1: expected 0 or an integer >= 2 * input_dim = " + std::to_string(2 * input_dim) +
              " for the pyramid, got " + std::to_string(options.width1));
  require(k2 >= 1, "width2: expected 0 or an integer >= 1 for the pyramid, got " +
                       std::to_string(options.width2));
  require(std::isfinite(options.padding_bias) && options.padding_bias <= 0.0,
          "padding_bias: expected a finite number <= 0 (padding neurons must be off), got " +
              format_number(options.padding_bias));
  require(std::isfinite(options.scale1) && options.scale1 > 0.0,
          "scale1: expected a finite number > 0, got " + format_number(options.scale1));
  require(std::isfinite(options.scale2) && options.scale2 > 0.0,
          "scale2: expected a finite number > 0, got " + format_number(options.scale2));
  const double s1 = options.scale1;
  const double s2 = options.scale2;
  DeepReluNet net(input_dim, k1, k2);
  auto W1 = net.W1();
  for (Index c = 0; c < input_dim; ++c) {
    W1(2 * c, c) = s1;       // s1 relu(x_c)
    W1(2 * c + 1, c) = -s1;  // s1 relu(-x_c)
  }
  net.b1().tail(k1 - 2 * input_dim).setConstant(options.padding_bias);
  // s2 (1 - sum_c (relu(x_c) + relu(-x_c))), then w3 undoes s2.
  net.W2().row(0).head(2 * input_dim).setConstant(-s2 / s1);
  net.b2()[0] = s2;
  net.b2().tail(k2 - 1).setConstant(options.padding_bias);
  net.w3()[0] = 1.0 / s2;
  return net;
}

double DeepReluNet::operator()(const Eigen::Ref<const Vec>& x) const {
  require(x.size() == input_dim_, "x: expected length " + std::to_string(input_dim_) +
                                      " (the net's input_dim), got " + std::to_string(x.size()));
  const Vec hidden1 = (W1() * x + b1()).cwiseMax(0.0);
  const Vec hidden2 = (W2() * hidden1 + b2()).cwiseMax(0.0);
  return w3().dot(hidden2) + b3();
}

Vec DeepReluNet::predict(const RowMatrix& X) const {
  require(X.cols() == input_dim_, "X: expected " + std::to_string(input_dim_) +
                                      " columns (the net's input_dim), got " +
                                      std::to_string(X.cols()));
  // One row per sample throughout: (n x d)(d x k1), then (n x k1)(k1 x k2), then (n x k2) w3.
  RowMatrix hidden1 = X * W1().transpose();
  hidden1.rowwise() += b1().transpose();
  hidden1 = hidden1.cwiseMax(0.0);
  RowMatrix hidden2 = hidden1 * W2().transpose();
  hidden2.rowwise() += b2().transpose();
  return hidden2.cwiseMax(0.0) * w3() + Vec::Constant(X.rows(), b3());
}

double pyramid_function(const Eigen::Ref<const Vec>& x) {
  return std::max(0.0, 1.0 - x.lpNorm<1>());
}

DeepReluNet initialize_deep(Index input_dim, Index width1, Index width2, InitKind kind,
                            double scale, Rng& rng) {
  // The constructor validates the dimensions before anything is drawn.
  DeepReluNet net(input_dim, width1, width2);
  require(kind != InitKind::SmallBalanced,
          "init: 'balanced' is defined for one hidden layer only; for two hidden layers expected "
          "one of torch, kaiming, scaled");
  if (kind == InitKind::Scaled) {
    require(
        std::isfinite(scale) && scale > 0.0,
        "init_scale: expected a finite number > 0 for init 'scaled', got " + format_number(scale));
  }
  // Layer l's block [begin, end) of theta and its fan-in.
  struct Layer {
    Index weights_begin, biases_begin, biases_end;
    double fan_in;
  };
  const std::array<Layer, 3> layers{{
      {0, net.offset_b1(), net.offset_W2(), static_cast<double>(input_dim)},
      {net.offset_W2(), net.offset_b2(), net.offset_w3(), static_cast<double>(width1)},
      {net.offset_w3(), net.offset_b3(), net.n_params(), static_cast<double>(width2)},
  }};
  Vec& theta = net.theta();
  switch (kind) {
    case InitKind::TorchUniform:
      // nn.Linear: bound 1/sqrt(fan_in) for weight and bias of each layer.
      for (const Layer& layer : layers) {
        const double bound = 1.0 / std::sqrt(layer.fan_in);
        for (Index p = layer.weights_begin; p < layer.biases_end; ++p) {
          theta[p] = rng.uniform(-bound, bound);
        }
      }
      break;
    case InitKind::KaimingNormal:
      for (const Layer& layer : layers) {
        const double stddev = std::sqrt(2.0 / layer.fan_in);
        for (Index p = layer.weights_begin; p < layer.biases_begin; ++p)
          theta[p] = stddev * rng.normal();
      }
      break;
    case InitKind::Scaled:
      for (Index p = 0; p < net.n_params(); ++p) theta[p] = scale * rng.normal();
      break;
    case InitKind::SmallBalanced:
      break;  // rejected above
  }
  return net;
}

}  // namespace relustab
