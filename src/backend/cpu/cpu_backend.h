// SPDX-License-Identifier: MIT
// The CPU reference back end: blocks of samples, Eigen matrix products, float64. It is the oracle the
// other back ends are tested against.
#pragma once

#include <relustab/backend/backend.h>

#include "../../core/block_reduce.h"

#include <mutex>

namespace relustab::cpu {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const RunContext& context) : context_(context) {}
  std::string_view name() const override { return "cpu"; }
  Activation activation() const override { return Activation::Relu; }
  double loss_and_grad(const ShallowReluNet& net, const Dataset& data, std::span<const Index> rows,
                       Vec* grad) const override;
  std::unique_ptr<LinearOperator> curvature(const ShallowReluNet& net, const Dataset& data,
                                            CurvatureKind kind) const override;
  Matrix dense_curvature(const ShallowReluNet& net, const Dataset& data,
                         CurvatureKind kind) const override;

 private:
  RunContext context_;
  // Block buffers reused by successive loss_and_grad calls (GD steps); a call made while another
  // holds them allocates its own.
  mutable std::mutex buffers_mutex_;
  mutable detail::BlockBuffers buffers_;
};

}  // namespace relustab::cpu
