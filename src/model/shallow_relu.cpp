// SPDX-License-Identifier: MIT
#include <relustab/model/shallow_relu.h>

#include <relustab/core/error.h>
#include <relustab/core/limits.h>

#include <algorithm>
#include <string>

namespace relustab {

namespace {

/// The parameter count, after the sizes are checked (>= 1, and the limits of core/limits.h, so the
/// count cannot overflow): called before anything of that size is allocated.
Index checked_n_params(Index input_dim, Index width) {
  require(input_dim >= 1, "input_dim: expected an integer >= 1, got " + std::to_string(input_dim));
  require(width >= 1, "width: expected an integer >= 1, got " + std::to_string(width));
  return limits::checked_shallow_params(input_dim, width, "network");
}

}  // namespace

ShallowReluNet::ShallowReluNet(Index input_dim, Index width)
    : ShallowReluNet(input_dim, width, Vec::Zero(checked_n_params(input_dim, width))) {}

ShallowReluNet::ShallowReluNet(Index input_dim, Index width, Vec theta)
    : input_dim_(input_dim), width_(width), theta_(std::move(theta)) {
  const Index expected = checked_n_params(input_dim, width);
  require(theta_.size() == expected,
          "parameter vector: expected length " + std::to_string(expected) + " for input_dim " +
              std::to_string(input_dim) + " and width " + std::to_string(width) + ", got " +
              std::to_string(theta_.size()));
}

ShallowReluNet::ShallowReluNet(Index input_dim, Index width, Vec theta, Activation activation)
    : ShallowReluNet(input_dim, width, std::move(theta)) {
  activation_ = activation;
}

namespace {

/// The activation of one pre-activation.
double activate(double z, Activation activation) {
  return activation == Activation::Relu ? std::max(z, 0.0) : gelu(z);
}

}  // namespace

double ShallowReluNet::operator()(const Eigen::Ref<const Vec>& x) const {
  const Vec pre = W1() * x + b1();
  return w2().dot(pre.unaryExpr([this](double z) { return activate(z, activation_); })) + b2();
}

Vec ShallowReluNet::predict(const RowMatrix& X) const {
  // (n x d) * (d x k): one column per neuron; the activation, then contract with w2.
  RowMatrix pre = X * W1().transpose();
  pre.rowwise() += b1().transpose();
  if (activation_ == Activation::Relu) return pre.cwiseMax(0.0) * w2() + Vec::Constant(X.rows(), b2());
  return pre.unaryExpr([](double z) { return gelu(z); }) * w2() + Vec::Constant(X.rows(), b2());
}

void require_relu(const ShallowReluNet& net, std::string_view what) {
  if (net.activation() == Activation::Relu) return;
  throw InputError(std::string(what) + ": expected a ReLU net (this is ReLU theory), got a " +
                   std::string(activation_name(net.activation())) + " net");
}

}  // namespace relustab
