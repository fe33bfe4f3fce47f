// SPDX-License-Identifier: MIT
// The sorted-knot back end for univariate nets: loss, gradient and exact curvature products in
// O(n + k) per call after the samples are sorted once (see sorted_kernel.h).
#pragma once

#include "sorted_kernel.h"

#include <relustab/backend/backend.h>

#include <mutex>

namespace relustab::univariate {

/// Keeps the samples of the last data set sorted, and each neuron's active count from the last call
/// as the starting guess of the next. Both are caches only: the sorted copy is re-made when the data
/// differ (compared value by value, O(n)), and every count is confirmed or searched for on each call,
/// so results never depend on what was called before. A mutex makes concurrent calls safe; a sweep
/// gives each run its own back end anyway. RunContext::threads is not used: one net's step is O(n + k)
/// and too small to split.
class UnivariateBackend final : public Backend {
 public:
  explicit UnivariateBackend(const RunContext& context) : context_(context) {}
  std::string_view name() const override { return "univariate"; }
  Activation activation() const override { return Activation::Relu; }
  // Two-hidden-layer nets: Backend's defaults, which refuse them.
  using Backend::curvature;
  using Backend::dense_curvature;
  using Backend::loss_and_grad;
  double loss_and_grad(const ShallowReluNet& net, const Dataset& data, std::span<const Index> rows,
                       Vec* grad) const override;
  std::unique_ptr<LinearOperator> curvature(const ShallowReluNet& net, const Dataset& data,
                                            CurvatureKind kind) const override;
  Matrix dense_curvature(const ShallowReluNet& net, const Dataset& data,
                         CurvatureKind kind) const override;
  bool cheap_curvature_products() const override { return true; }

 private:
  /// The cached sorted copy of `data`, re-made if `data` is not the data set it was made from.
  const SortedSamples& sorted(const Dataset& data) const;

  RunContext context_;
  mutable std::mutex mutex_;
  mutable std::vector<double> source_x_, source_y_;  // the data the cache was made from
  mutable SortedSamples samples_;
  mutable std::vector<Index> counts_;
  mutable Scratch scratch_;
  mutable StepBuffers buffers_;
};

}  // namespace relustab::univariate
