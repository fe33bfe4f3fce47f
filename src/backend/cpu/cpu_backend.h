// SPDX-License-Identifier: MIT
// The CPU back end, written once over an activation policy (model/activation.h): blocks of samples,
// Eigen matrix products, float64. CpuBackend<ReluActivation> is "cpu", the reference the other back
// ends are tested against; CpuBackend<GeluActivation> is "cpu-gelu", the GeLU variant of Boursier
// and Flammarion 2025 with the same parameter layout.
#pragma once

#include <relustab/backend/backend.h>

#include "../../core/block_reduce.h"

#include <mutex>
#include <vector>

namespace relustab::cpu {

/// Memory kept from one call to the next (GD steps, an operator's products): block_reduce's buffers
/// and, for activations whose slope is not a function of the value, one slope matrix per block.
struct CpuBuffers {
  detail::BlockBuffers blocks;
  std::vector<RowMatrix> slopes;
};

/// The buffers an object keeps when no other call holds them, else a fresh set (as
/// detail::BufferLease): concurrent calls neither share memory nor wait for each other.
class CpuBufferLease {
 public:
  CpuBufferLease(std::mutex& mutex, CpuBuffers& kept) : lock_(mutex, std::try_to_lock), kept_(kept) {}
  CpuBuffers& get() { return lock_.owns_lock() ? kept_ : fresh_; }

 private:
  std::unique_lock<std::mutex> lock_;
  CpuBuffers& kept_;
  CpuBuffers fresh_;
};

/// One back end per activation policy A. With s = A's slope and c = its second derivative, the
/// loss, gradient and curvature products of f(x) = sum_i w2_i act(W1_i . x + b1_i) + b2 are
///   grad f_j:     W1_i -> w2_i s_ji x_j,  b1_i -> w2_i s_ji,  w2_i -> act_ji,  b2 -> 1,
///   Hess f_j v:   W1_i block x_j [w2_i c_ji Z_ji + vw2_i s_ji],  b1_i entry w2_i c_ji Z_ji + vw2_i s_ji,
///                 w2_i entry s_ji Z_ji,  b2 entry 0,
/// with Z_ji = vW1_i . x_j + vb1_i (Mulayoff et al. 2021, eqs. 26-28, for ReLU, where c = 0 and
/// s = 1{active}: relu'(0) = 0). Samples are summed in blocks whose boundaries depend only on n
/// (detail::block_reduce), so results are bit-identical for any thread count.
///
/// Two-hidden-layer nets: the ReLU instantiation computes them (back-propagation and Pearlmutter's
/// R-operator, cpu_deep.h); other activations refuse them (Backend's defaults).
template <class A>
class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const RunContext& context) : context_(context) {}
  /// "cpu" (ReLU, the reference) or "cpu-gelu": the registry's names.
  std::string_view name() const override {
    return A::kind == Activation::Relu ? "cpu" : "cpu-gelu";
  }
  Activation activation() const override { return A::kind; }

  using Backend::curvature;
  using Backend::dense_curvature;
  using Backend::loss_and_grad;

  double loss_and_grad(const ShallowReluNet& net, const Dataset& data, std::span<const Index> rows,
                       Vec* grad) const override;
  std::unique_ptr<LinearOperator> curvature(const ShallowReluNet& net, const Dataset& data,
                                            CurvatureKind kind) const override;
  /// The explicit dense matrix: for ReLU the closed forms of curvature.h (an independent route to
  /// the operator's matrix), otherwise Phi Phi^T / n plus the second-order term above. O(P^2 n).
  Matrix dense_curvature(const ShallowReluNet& net, const Dataset& data,
                         CurvatureKind kind) const override;

  double loss_and_grad(const DeepReluNet& net, const Dataset& data, std::span<const Index> rows,
                       Vec* grad) const override;
  std::unique_ptr<LinearOperator> curvature(const DeepReluNet& net, const Dataset& data,
                                            CurvatureKind kind) const override;

 private:
  RunContext context_;
  // Buffers reused by successive loss_and_grad calls (GD steps); a call made while another holds
  // them allocates its own.
  mutable std::mutex buffers_mutex_;
  mutable CpuBuffers buffers_;
};

extern template class CpuBackend<ReluActivation>;
extern template class CpuBackend<GeluActivation>;

}  // namespace relustab::cpu
