// SPDX-License-Identifier: MIT
// The two-hidden-layer free functions, kept for their callers: each goes through the CPU back end
// (make_backend("cpu", context)), which computes DeepReluNet with the same interface as ShallowReluNet.
#include <relustab/curvature/deep_curvature.h>

namespace relustab {

double deep_loss_and_grad(const DeepReluNet& net, const Dataset& data, std::span<const Index> rows,
                          Vec* grad, const RunContext& context) {
  return make_backend("cpu", context)->loss_and_grad(net, data, rows, grad);
}

std::unique_ptr<LinearOperator> deep_curvature(const DeepReluNet& net, const Dataset& data,
                                               CurvatureKind kind, const RunContext& context) {
  // The operator owns what it needs besides net and data; the back end may go.
  return make_backend("cpu", context)->curvature(net, data, kind);
}

Matrix deep_curvature_matrix(const DeepReluNet& net, const Dataset& data, CurvatureKind kind,
                             const RunContext& context) {
  return make_backend("cpu", context)->dense_curvature(net, data, kind);
}

EigenResult deep_sharpness(const DeepReluNet& net, const Dataset& data,
                           const SharpnessOptions& options, const RunContext& context) {
  return sharpness(*make_backend("cpu", context), net, data, options);
}

EigenResult deep_min_hessian_eigenvalue(const DeepReluNet& net, const Dataset& data,
                                        const SharpnessOptions& options,
                                        const RunContext& context) {
  return min_hessian_eigenvalue(*make_backend("cpu", context), net, data, options);
}

EigenResult deep_gn_sharpness(const DeepReluNet& net, const Dataset& data,
                              const SharpnessOptions& options, const RunContext& context) {
  return gn_sharpness(*make_backend("cpu", context), net, data, options);
}

}  // namespace relustab
