// SPDX-License-Identifier: MIT
// The CPU back end's two-hidden-layer ReLU kernels (CpuBackend<ReluActivation> calls them).
#pragma once

#include <relustab/backend/backend.h>

#include <memory>
#include <span>

namespace relustab::cpu {

/// Loss (1/(2|S|)) sum_{j in S} r_j^2 and, when `grad` is not null, its gradient by
/// back-propagation; bit-identical for any `threads`.
double deep_relu_loss_and_grad(const DeepReluNet& net, const Dataset& data,
                               std::span<const Index> rows, Vec* grad,
                               const RunContext& context);

/// The exact Hessian (Pearlmutter's R-operator) or Gauss-Newton operator; refers to `net` and
/// `data`, which must outlive it.
std::unique_ptr<LinearOperator> deep_relu_curvature(const DeepReluNet& net, const Dataset& data,
                                                    CurvatureKind kind, const RunContext& context);

}  // namespace relustab::cpu
