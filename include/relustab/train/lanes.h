// SPDX-License-Identifier: MIT
// Many univariate ReLU nets of one width on one data set, trained by full-batch GD in lockstep with the
// nets as SIMD lanes: every parameter is stored lane-major (structure of arrays), so each arithmetic
// instruction advances several nets at once, with no gathers (the nets share the inputs).
#pragma once

#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

#include <span>
#include <vector>

namespace relustab {

/// B nets y = sum_i w2_i relu(w1_i x + b1_i) + b2 (input dimension 1, the same width k) on one data
/// set, in float64 or float32 (Real). step() is one full-batch GD step of the half-MSE loss
/// 1/(2n) sum_j r_j^2 of every lane with its own step size; relu'(0) = 0 as everywhere in relustab.
///
/// The arithmetic of a lane is that of the brute-force sums over samples in sample order, so it does
/// not depend on B or on the other lanes (a lane gives the same bits alone or in any batch), and it
/// differs from the back ends' only in the order of the sums: in float64 one step agrees with
/// make_backend("cpu")'s to about 1e-13 relative (tests/train/test_lanes.cpp). Over many steps the
/// trajectories can separate as any two roundings of GD can (at the edge of stability, chaotically).
template <class Real>
class GdLanes {
 public:
  /// Throws InputError unless every net has input dimension 1 and the width of the first, the data
  /// are univariate and finite, and there is at least one net and one sample.
  GdLanes(std::span<const ShallowReluNet> nets, const Dataset& data);

  Index lanes() const { return lanes_; }
  Index width() const { return width_; }

  /// One GD step of every lane: lane b moves by -etas[b] times its gradient at the current point;
  /// losses() becomes the loss of each lane at that (pre-step) point. etas.size() must be lanes().
  void step(std::span<const double> etas);

  /// The half-MSE losses of the lanes before the last step (empty before the first step).
  std::span<const Real> losses() const { return losses_; }

  /// Lane b's current parameters as a net (converted to float64).
  ShallowReluNet net(Index lane) const;

 private:
  Index lanes_ = 0, width_ = 0, samples_ = 0;
  std::vector<Real> x_, y_;
  // Parameter i of lane b at [i * lanes_ + b]: lanes are contiguous, the SIMD direction.
  std::vector<Real> w1_, b1_, w2_, b2_;
  std::vector<Real> residuals_;  ///< [j * lanes_ + b]: r_j of lane b at the current point
  std::vector<Real> losses_;
};

extern template class GdLanes<double>;
extern template class GdLanes<float>;

}  // namespace relustab
