// SPDX-License-Identifier: MIT
// The CPU reference back end: plain loops over samples and neurons, float64. It is the oracle the other
// back ends are tested against.
#pragma once

#include <relustab/backend/backend.h>

namespace relustab::cpu {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const RunContext& context) : context_(context) {}
  std::string_view name() const override { return "cpu"; }
  double loss_and_grad(const ShallowReluNet& net, const Dataset& data, std::span<const Index> rows,
                       Vec* grad) const override;
  std::unique_ptr<LinearOperator> curvature(const ShallowReluNet& net, const Dataset& data,
                                            CurvatureKind kind) const override;

 private:
  RunContext context_;
};

}  // namespace relustab::cpu
