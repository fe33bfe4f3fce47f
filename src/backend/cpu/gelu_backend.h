// SPDX-License-Identifier: MIT
// A CPU back end for the two-layer net with the GeLU activation instead of ReLU (paper 4's variant,
// Boursier and Flammarion 2025): f(x) = sum_i w2_i gelu(W1_i . x + b1_i) + b2, same parameter layout as ShallowReluNet.
#pragma once

#include <relustab/backend/backend.h>

namespace relustab::cpu {

/// GeLU in its exact erf form (PyTorch's nn.GELU(approximate='none')):
///   gelu(z)   = z Phi(z),                 Phi the standard normal CDF, Phi(z) = erfc(-z/sqrt(2)) / 2
///   gelu'(z)  = Phi(z) + z phi(z),        phi the standard normal density
///   gelu''(z) = phi(z) (2 - z^2).
/// GeLU is smooth, so there is no kink convention: the Hessian is the Hessian. The loss, gradient and
/// curvature products follow the CPU reference back end term for term (same blocks, same block_reduce,
/// so results are bit-identical for any thread count), with relu -> gelu, the 0/1 activity -> gelu',
/// and the Hessian's second-order term gaining the gelu'' entries (the Hessian of Mulayoff et al. 2021, eqs. 26-28, has only the cross
/// entries because relu'' = 0 off the kinks):
///   Hess f_j v, W1_i block: x_j [w2_i gelu''(z_ji) Z_ji + vw2_i gelu'(z_ji)],
///              b1_i entry:       w2_i gelu''(z_ji) Z_ji + vw2_i gelu'(z_ji),
///              w2_i entry:  gelu'(z_ji) Z_ji,      b2 entry: 0,
/// where z_ji = W1_i . x_j + b1_i and Z_ji = vW1_i . x_j + vb1_i.
///
/// Only the back-end operations use GeLU: ShallowReluNet::predict, the explicit dense matrices of
/// curvature.h and the function-space analysis are ReLU-specific. The sharpness drivers of curvature.h
/// ask activation() and take this back end's dense_curvature(), and analyze_net leaves the ReLU
/// theory out.
class GeluBackend final : public Backend {
 public:
  explicit GeluBackend(const RunContext& context) : context_(context) {}
  std::string_view name() const override { return "cpu-gelu"; }
  Activation activation() const override { return Activation::Gelu; }
  double loss_and_grad(const ShallowReluNet& net, const Dataset& data, std::span<const Index> rows,
                       Vec* grad) const override;
  std::unique_ptr<LinearOperator> curvature(const ShallowReluNet& net, const Dataset& data,
                                            CurvatureKind kind) const override;
  /// Phi Phi^T / n plus, for the Hessian, the second-order term above, by explicit formulas (an
  /// independent route to the operator's matrix). O(P^2 n).
  Matrix dense_curvature(const ShallowReluNet& net, const Dataset& data,
                         CurvatureKind kind) const override;

 private:
  RunContext context_;
};

}  // namespace relustab::cpu
