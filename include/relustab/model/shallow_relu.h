// SPDX-License-Identifier: MIT
// The two-layer network f(x) = sum_i w2_i sigma(W1_i . x + b1_i) + b2 (sigma = ReLU, or GeLU as a
// variant) and its parameter layout.
#pragma once

#include <relustab/core/types.h>
#include <relustab/model/activation.h>

#include <string_view>

namespace relustab {

/// A two-layer (one hidden layer) ReLU network on R^d with k hidden neurons.
///
/// The parameters live in one contiguous vector theta of length k*d + 2k + 1, in the order of
/// Mulayoff et al. 2021, eq. (20): W1 row-major (neuron i's d input weights contiguous),
/// then b1 (k), then w2 (k), then b2. For d = 1 that is [w1, b1, w2, b2]. The accessors below are
/// views into theta, so an optimiser updates theta and the views follow.
///
/// Convention at kinks: relu'(0) = 0, i.e. a neuron whose pre-activation is exactly 0 counts as
/// inactive (README.md, "Conventions").
///
/// The activation is part of the net (ReLU unless said otherwise): the theory is about ReLU nets, and
/// GeLU nets are the variant paper 4 also trains. Back ends refuse nets of another activation.
class ShallowReluNet {
 public:
  using MatrixView = Eigen::Map<RowMatrix>;
  using ConstMatrixView = Eigen::Map<const RowMatrix>;
  using VecView = Eigen::Map<Vec>;
  using ConstVecView = Eigen::Map<const Vec>;

  ShallowReluNet() = default;
  /// An all-zero network. Throws InputError if input_dim < 1 or width < 1.
  ShallowReluNet(Index input_dim, Index width);
  /// Wraps a parameter vector. Throws InputError if its length is not width*input_dim + 2*width + 1.
  ShallowReluNet(Index input_dim, Index width, Vec theta);
  /// The same, with another activation than ReLU.
  ShallowReluNet(Index input_dim, Index width, Vec theta, Activation activation);

  Activation activation() const { return activation_; }
  /// The same parameters as a net of another activation (a different function).
  void set_activation(Activation activation) { activation_ = activation; }

  Index input_dim() const { return input_dim_; }
  Index width() const { return width_; }
  Index n_params() const { return theta_.size(); }
  static Index n_params(Index input_dim, Index width) { return width * input_dim + 2 * width + 1; }

  // Offsets of each block inside theta.
  Index offset_b1() const { return width_ * input_dim_; }
  Index offset_w2() const { return width_ * input_dim_ + width_; }
  Index offset_b2() const { return width_ * input_dim_ + 2 * width_; }

  Vec& theta() { return theta_; }
  const Vec& theta() const { return theta_; }

  MatrixView W1() { return {theta_.data(), width_, input_dim_}; }
  ConstMatrixView W1() const { return {theta_.data(), width_, input_dim_}; }
  VecView b1() { return {theta_.data() + offset_b1(), width_}; }
  ConstVecView b1() const { return {theta_.data() + offset_b1(), width_}; }
  VecView w2() { return {theta_.data() + offset_w2(), width_}; }
  ConstVecView w2() const { return {theta_.data() + offset_w2(), width_}; }
  double& b2() { return theta_[offset_b2()]; }
  double b2() const { return theta_[offset_b2()]; }

  /// f at one point x (length d), with the net's activation.
  double operator()(const Eigen::Ref<const Vec>& x) const;
  /// f at every row of X (n x d).
  Vec predict(const RowMatrix& X) const;

 private:
  Index input_dim_ = 0;
  Index width_ = 0;
  Vec theta_;
  Activation activation_ = Activation::Relu;
};

/// Throws InputError unless `net` is a ReLU net: `what` (the function of ReLU theory: knots, the
/// closed-form curvature, the flattest implementation, ...) starts the message.
void require_relu(const ShallowReluNet& net, std::string_view what);

}  // namespace relustab
