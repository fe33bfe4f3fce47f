// SPDX-License-Identifier: MIT
// Many univariate ReLU nets of one width on one data set, trained by full-batch GD in lockstep with the
// nets as SIMD lanes: every parameter is stored lane-major (structure of arrays), so each arithmetic
// instruction advances several nets at once; the nets share the (sorted) inputs.
#pragma once

#include <relustab/core/types.h>
#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

#include <span>
#include <vector>

namespace relustab {

/// B nets y = sum_i w2_i relu(w1_i x + b1_i) + b2 (input dimension 1, the same width k) on one data
/// set, in float64 or float32 (Real). step() is one full-batch GD step of the half-MSE loss
/// 1/(2n) sum_j r_j^2 of every lane with its own step size; relu'(0) = 0 as everywhere in relustab.
///
/// Each lane runs the sorted-knot algorithm of the univariate back end (O(n + k) per step instead of
/// O(nk): with the inputs sorted, a neuron is active on a prefix or a suffix of the samples), with the
/// same operations in the same order. So in float64 a lane is bit-identical, step after step, to
/// train() on make_backend("univariate") with that net and step size alone
/// (tests/train/test_lanes.cpp), and a lane gives the same bits alone or in any batch.
template <class Real>
class GdLanes {
 public:
  /// Throws InputError unless every net has input dimension 1 and the width of the first, the data
  /// are univariate and finite, and there is at least one net and one sample.
  GdLanes(std::span<const ShallowReluNet> nets, const Dataset& data);

  Index lanes() const { return lanes_; }
  Index width() const { return width_; }

  /// One GD step of every lane: evaluate(), then descend(etas).
  void step(std::span<const double> etas);

  /// The first half of a step: the loss of every lane at the current point (losses()), and what the
  /// gradient needs. A trainer decides from the losses whether and how far each lane steps.
  void evaluate();

  /// The second half: lane b moves by -etas[b] times its gradient at the point evaluate() saw, which
  /// becomes the previous point. etas.size() must be lanes(); InputError unless evaluate() came since
  /// the last descend().
  void descend(std::span<const double> etas);

  /// The half-MSE losses of the lanes at the last evaluated point (empty before the first).
  std::span<const Real> losses() const { return losses_; }

  /// Lane b's current parameters as a net (converted to float64).
  ShallowReluNet net(Index lane) const;

  /// Lane b's parameters before the last descend() (the initial ones before the first): the step
  /// back that train() takes when a diverged step left non-finite parameters.
  ShallowReluNet previous_net(Index lane) const;

  /// Keeps only the given lanes (distinct, in [0, lanes()), in the order given: lane i becomes
  /// kept[i]), with their current and previous points, so a trainer whose lanes stopped at different
  /// steps stops paying for the stopped ones. InputError for a bad index; evaluate() comes next.
  void keep(std::span<const Index> kept);

 private:
  Index lanes_ = 0, width_ = 0, samples_ = 0;
  std::vector<Real> x_padded_;  ///< n + 2: -inf, the inputs in ascending order, +inf
  std::vector<Real> y_;         ///< targets in the inputs' sorted order
  // Parameter i of lane b at [i * lanes_ + b]: lanes are contiguous, the SIMD direction.
  std::vector<Real> w1_, b1_, w2_, b2_;
  std::vector<Real> previous_w1_, previous_b1_, previous_w2_, previous_b2_;  ///< descend() writes here, then swaps
  /// [i * lanes_ + b]: where neuron i's active run of lane b starts (w1 >= 0: the run is the suffix
  /// from here) or ends (w1 < 0: the prefix up to here), in sorted samples; kept between steps.
  std::vector<Index> boundary_;
  // Scratch, lane-major, kept so a step does not allocate.
  std::vector<Real> signed_pairs_;                ///< 2 B: one neuron's (slope, offset) with its run's sign
  std::vector<Real> diff_pairs_;                  ///< 2 (n + 1) B: difference arrays over samples, paired
  std::vector<Real> sum_r_, sum_rx_;              ///< (n + 1) * B: prefix sums of r and r x
  std::vector<Real> line_parts_;                  ///< 8 * B: partial sums of the prefix runs' lines
  std::vector<Real> lane_scratch_;                ///< 6 * B: per-lane running values
  std::vector<unsigned char> confirmed_;          ///< B: one neuron's lanes
  std::vector<Real> losses_;
  bool evaluated_ = false;

  Real inv_n() const { return Real(1) / static_cast<Real>(samples_); }
};

extern template class GdLanes<double>;
extern template class GdLanes<float>;

}  // namespace relustab
