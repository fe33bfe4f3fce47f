// SPDX-License-Identifier: MIT
// The three-layer (two hidden layers) ReLU network f(x) = w3 . relu(W2 relu(W1 x + b1) + b2) + b3,
// its parameter layout, seeded initialisation, and the exact pyramid representation of Nacson et al. 2023.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/core/types.h>
#include <relustab/model/init.h>

namespace relustab {

/// A ReLU network with two hidden layers on R^d: k1 neurons in the first, k2 in the second,
///   f(x) = w3 . relu(W2 relu(W1 x + b1) + b2) + b3,   W1: k1 x d, W2: k2 x k1, w3: k2.
///
/// The parameters live in one contiguous vector theta of length k1*d + k1 + k2*k1 + k2 + k2 + 1 in
/// the order (mirroring ShallowReluNet's W1, b1, w2, b2):
///   W1 row-major (neuron i's d input weights contiguous), b1 (k1),
///   W2 row-major (second-layer neuron l's k1 input weights contiguous), b2 (k2),
///   w3 (k2), b3.
/// The accessors are views into theta, so an optimiser updates theta and the views follow.
///
/// Convention at kinks: relu'(0) = 0 in both hidden layers, i.e. a neuron whose pre-activation is
/// exactly 0 counts as inactive (README.md, "Conventions"); "the Hessian" at a kink is
/// the one of the mode in which such neurons are off.
class DeepReluNet {
 public:
  using MatrixView = Eigen::Map<RowMatrix>;
  using ConstMatrixView = Eigen::Map<const RowMatrix>;
  using VecView = Eigen::Map<Vec>;
  using ConstVecView = Eigen::Map<const Vec>;

  DeepReluNet() = default;
  /// An all-zero network. Throws InputError if input_dim, width1 or width2 is < 1.
  DeepReluNet(Index input_dim, Index width1, Index width2);
  /// Wraps a parameter vector. Throws InputError if a dimension is < 1 or the length is not
  /// n_params(input_dim, width1, width2).
  DeepReluNet(Index input_dim, Index width1, Index width2, Vec theta);

  /// How DeepReluNet::pyramid lays out the pyramid: widths, padding, and the rescaling of layers.
  struct PyramidOptions {
    Index width1 = 0;            ///< >= 2d; 0: the minimal 2d
    Index width2 = 0;            ///< >= 1; 0: the minimal 1
    double padding_bias = -1.0;  ///< bias of padding neurons; finite and <= 0
    double scale1 = 1.0;         ///< first-layer rescaling s1 > 0 (see pyramid)
    double scale2 = 1.0;         ///< second-layer rescaling s2 > 0
  };

  /// The exact representation of the pyramid relu(1 - ||x||_1) on R^d (Nacson et al. 2023), for s1 = s2 =
  /// 1: first layer neuron 2c computes relu(x_c), neuron 2c + 1 computes relu(-x_c), so that |x_c|
  /// = relu(x_c) + relu(-x_c); the second layer's neuron 0 computes relu(1 - sum of all of them)
  /// (W2 row 0 all -1 on those 2d neurons, b2_0 = 1); w3_0 = 1, b3 = 0. Rescaling (relu is
  /// positively homogeneous, so f is unchanged but the curvature is not): W1 and b1 are multiplied
  /// by s1, W2 by s2 / s1, b2 by s2 and w3 by 1 / s2. Extra neurons (width1 > 2d, width2 > 1) are
  /// padding with all input weights 0, bias padding_bias and all output weights 0. With
  /// padding_bias < 0 they are strictly dead (pre-activation padding_bias at every input, so the
  /// loss is smooth in their parameters and its gradient and Hessian vanish in their rows); with 0
  /// they sit at the kink and are off by relu'(0) = 0, with the same gradient and Hessian. Throws
  /// InputError if d < 1, a width is too small, padding_bias is not a finite number <= 0 or a scale
  /// is not a finite number > 0.
  static DeepReluNet pyramid(Index input_dim, const PyramidOptions& options);
  static DeepReluNet pyramid(Index input_dim) { return pyramid(input_dim, PyramidOptions{}); }

  Index input_dim() const { return input_dim_; }
  Index width1() const { return width1_; }
  Index width2() const { return width2_; }
  Index n_params() const { return theta_.size(); }
  static Index n_params(Index input_dim, Index width1, Index width2) {
    return width1 * input_dim + width1 + width2 * width1 + 2 * width2 + 1;
  }

  // Offsets of each block inside theta (W1 starts at 0).
  Index offset_b1() const { return width1_ * input_dim_; }
  Index offset_W2() const { return offset_b1() + width1_; }
  Index offset_b2() const { return offset_W2() + width2_ * width1_; }
  Index offset_w3() const { return offset_b2() + width2_; }
  Index offset_b3() const { return offset_w3() + width2_; }

  Vec& theta() { return theta_; }
  const Vec& theta() const { return theta_; }

  MatrixView W1() { return {theta_.data(), width1_, input_dim_}; }
  ConstMatrixView W1() const { return {theta_.data(), width1_, input_dim_}; }
  VecView b1() { return {theta_.data() + offset_b1(), width1_}; }
  ConstVecView b1() const { return {theta_.data() + offset_b1(), width1_}; }
  MatrixView W2() { return {theta_.data() + offset_W2(), width2_, width1_}; }
  ConstMatrixView W2() const { return {theta_.data() + offset_W2(), width2_, width1_}; }
  VecView b2() { return {theta_.data() + offset_b2(), width2_}; }
  ConstVecView b2() const { return {theta_.data() + offset_b2(), width2_}; }
  VecView w3() { return {theta_.data() + offset_w3(), width2_}; }
  ConstVecView w3() const { return {theta_.data() + offset_w3(), width2_}; }
  double& b3() { return theta_[offset_b3()]; }
  double b3() const { return theta_[offset_b3()]; }

  /// f at one point x (length d). Throws InputError if the length is not d.
  double operator()(const Eigen::Ref<const Vec>& x) const;
  /// f at every row of X (n x d). Throws InputError if X does not have d columns.
  Vec predict(const RowMatrix& X) const;

 private:
  Index input_dim_ = 0;
  Index width1_ = 0;
  Index width2_ = 0;
  Vec theta_;
};

/// The pyramid target relu(1 - ||x||_1) of Nacson et al. 2023 (what DeepReluNet::pyramid represents).
double pyramid_function(const Eigen::Ref<const Vec>& x);

/// A freshly initialised two-hidden-layer net. Supports InitKind::TorchUniform (PyTorch nn.Linear
/// default: every weight and bias of a layer U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in d, k1, k2
/// for the three layers), KaimingNormal (weights N(0, 2/fan_in), biases 0) and Scaled (every
/// parameter N(0, scale^2)); SmallBalanced is defined for one hidden layer only and is an
/// InputError. `scale` is used by Scaled (finite and > 0 there) and ignored otherwise. Throws
/// InputError if a dimension is < 1.
///
/// Order of the draws from `rng` (part of the contract, as in init.h):
///  - TorchUniform, Scaled: one draw per parameter in the storage order of theta (W1 row-major, b1,
///    W2 row-major, b2, w3, b3). TorchUniform uses Rng::uniform(lo, hi), Scaled Rng::normal().
///  - KaimingNormal: W1 row-major, then W2 row-major, then w3, one Rng::normal() each; biases draw
///    nothing.
DeepReluNet initialize_deep(Index input_dim, Index width1, Index width2, InitKind kind,
                            double scale, Rng& rng);

}  // namespace relustab
