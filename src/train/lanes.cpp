// SPDX-License-Identifier: MIT
#include <relustab/train/lanes.h>

#include <relustab/core/error.h>

#include "../backend/univariate/sorted_kernel.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace relustab {

// The arithmetic below is that of the univariate back end (src/backend/univariate/sorted_kernel.h:
// update_counts, loss_and_grad) written for B lanes: every expression is the same, operand for
// operand, so a float64 lane rounds exactly as that back end does. Both files are compiled without
// FMA contraction. Loops over lanes are innermost (lanes are contiguous), element-wise only, so a
// lane's arithmetic does not depend on the batch; the kernels take restrict pointers, without which
// the compiler must assume the arrays overlap and keeps the loops scalar.

namespace {

using univariate::boundary_near;
using univariate::confirms_boundary;

/// confirmed[l] = 1 iff boundary[l] is still the neuron's run boundary in lane l. Branch-free, so it
/// vectorises with gathers from the shared inputs.
template <class Real>
void confirm_boundaries(Index lanes, const Real* __restrict w, const Real* __restrict b,
                        const Index* __restrict boundary, const Real* __restrict xp,
                        unsigned char* __restrict confirmed) {
  for (Index l = 0; l < lanes; ++l) {
    confirmed[l] = static_cast<unsigned char>(confirms_boundary(w[l], b[l], xp, boundary[l]));
  }
}

/// One neuron of every lane: its line (slope, offset) = v (w, b) with the sign of its entry in the
/// difference arrays (+ where a suffix run starts, - where a prefix run ends) as pairs for
/// scatter_lines, and the prefix runs' lines (active from sample 0) added to the partial sums of the
/// base line: part += line * (w < 0).
template <class Real>
void neuron_lines(Index lanes, const Real* __restrict w, const Real* __restrict b, const Real* __restrict v,
                  Real* __restrict signed_pairs, Real* __restrict part_slope, Real* __restrict part_offset) {
  for (Index l = 0; l < lanes; ++l) {
    const Real slope = v[l] * w[l];
    const Real offset = v[l] * b[l];
    const bool prefix = w[l] < Real(0);
    const Real sign = prefix ? Real(-1) : Real(1);
    const Real prefix_weight = prefix ? Real(1) : Real(0);
    signed_pairs[2 * l] = sign * slope;
    signed_pairs[2 * l + 1] = sign * offset;
    part_slope[l] += slope * prefix_weight;
    part_offset[l] += offset * prefix_weight;
  }
}

/// Adds each lane's signed line to the difference arrays (sum_active_lines) at its run boundary, as
/// (slope, offset) pairs [(q * lanes + l) * 2 + 0, 1], so one address serves both. Lanes write
/// distinct entries; the only scattered loop of a step.
template <class Real>
void scatter_lines(Index lanes, const Index* __restrict boundary, const Real* __restrict signed_pairs,
                   Real* __restrict diff_pairs) {
  for (Index l = 0; l < lanes; ++l) {
    Real* __restrict at = diff_pairs + 2 * (boundary[l] * lanes + l);
    at[0] += signed_pairs[2 * l];
    at[1] += signed_pairs[2 * l + 1];
  }
}

/// Searches the boundaries of the lanes whose boundary was not confirmed (`confirmed`, one byte per
/// lane, mostly ones), skipping confirmed lanes eight at a time.
template <class Real>
void search_unconfirmed(Index lanes, const unsigned char* confirmed, const Real* w, const Real* b, const Real* x,
                        Index n, Index* boundary) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  Index l = 0;
  for (; l + 8 <= lanes; l += 8) {
    std::uint64_t flags = 0;
    std::memcpy(&flags, confirmed + l, 8);
    // One bit per unconfirmed lane, at bit 8m for lane l + m (the bytes are 0 or 1).
    for (std::uint64_t missing = ~flags & ones; missing != 0; missing &= missing - 1) {
      const Index at = l + std::countr_zero(missing) / 8;
      boundary[at] = boundary_near(w[at], b[at], x, n, boundary[at]);
    }
  }
  for (; l < lanes; ++l) {
    if (confirmed[l] == 0) boundary[l] = boundary_near(w[l], b[l], x, n, boundary[l]);
  }
}

/// One sample of every lane: moves the active line by the sample's differences, forms the residual
/// r = (slope x + offset + c) - y, adds r^2 to `square` and extends the prefix sums of r and r x.
template <class Real>
void residual_sample(Index lanes, Real x, Real y, const Real* __restrict c, const Real* __restrict diff_pairs,
                     Real* __restrict line_slope,
                     Real* __restrict line_offset, Real* __restrict square, Real* __restrict r_sum,
                     Real* __restrict rx_sum, Real* __restrict sum_r_next, Real* __restrict sum_rx_next) {
  for (Index l = 0; l < lanes; ++l) {
    const Real slope = line_slope[l] + diff_pairs[2 * l];
    const Real offset = line_offset[l] + diff_pairs[2 * l + 1];
    const Real r = (slope * x + offset + c[l]) - y;
    const Real sum = r_sum[l] + r;
    const Real sum_x = rx_sum[l] + r * x;
    line_slope[l] = slope;
    line_offset[l] = offset;
    square[l] += r * r;
    r_sum[l] = sum;
    rx_sum[l] = sum_x;
    sum_r_next[l] = sum;
    sum_rx_next[l] = sum_x;
  }
}

/// One neuron of every lane (active_sums, gradient_from_sums, theta - eta * grad): the sums of r and
/// r x over its run are two lookups in the prefix sums (rows of `lanes`), then the GD step into new_*.
template <class Real>
void descend_neuron(Index lanes, Real inv_n, const Real* __restrict eta, const Index* __restrict boundary,
                    const Real* __restrict sum_r, const Real* __restrict sum_rx,
                    const Real* __restrict total_r, const Real* __restrict total_rx, const Real* __restrict w,
                    const Real* __restrict b, const Real* __restrict v, Real* __restrict new_w,
                    Real* __restrict new_b, Real* __restrict new_v) {
  for (Index l = 0; l < lanes; ++l) {
    const bool prefix = w[l] < Real(0);
    const Real suffix_weight = prefix ? Real(0) : Real(1);
    const Real sign = prefix ? Real(-1) : Real(1);
    const Index at = boundary[l] * lanes + l;
    const Real s0 = suffix_weight * total_r[l] - sign * sum_r[at];
    const Real s1 = suffix_weight * total_rx[l] - sign * sum_rx[at];
    const Real grad_w = v[l] * s1 * inv_n;
    const Real grad_b = v[l] * s0 * inv_n;
    const Real grad_v = (w[l] * s1 + b[l] * s0) * inv_n;
    new_w[l] = w[l] - eta[l] * grad_w;
    new_b[l] = b[l] - eta[l] * grad_b;
    new_v[l] = v[l] - eta[l] * grad_v;
  }
}

}  // namespace

template <class Real>
GdLanes<Real>::GdLanes(std::span<const ShallowReluNet> nets, const Dataset& data) {
  require(!nets.empty(), "GdLanes: expected at least one net");
  require(data.dim() == 1 && data.n() >= 1,
          "GdLanes: expected univariate data with at least one sample, got " + std::to_string(data.n()) +
              " x " + std::to_string(data.dim()));
  require(data.X.allFinite() && data.y.allFinite(), "GdLanes: the data have non-finite values");
  lanes_ = static_cast<Index>(nets.size());
  width_ = nets.front().width();
  samples_ = data.n();
  for (size_t b = 0; b < nets.size(); ++b) {
    require(nets[b].input_dim() == 1 && nets[b].width() == width_,
            "GdLanes: net " + std::to_string(b) + " has input dimension " +
                std::to_string(nets[b].input_dim()) + " and width " + std::to_string(nets[b].width()) +
                ", expected 1 and " + std::to_string(width_) + " (the first net's)");
  }
  // Samples sorted by input exactly as the univariate back end sorts them (ties in their original
  // order), with its -inf / +inf sentinels.
  const Vec inputs = data.X.col(0);
  const univariate::SortedSamples sorted = univariate::sort_samples(
      std::span<const double>(inputs.data(), static_cast<size_t>(samples_)),
      std::span<const double>(data.y.data(), static_cast<size_t>(samples_)));
  x_padded_.assign(sorted.x_padded.begin(), sorted.x_padded.end());
  y_.assign(sorted.y.begin(), sorted.y.end());
  const size_t per_neuron = static_cast<size_t>(width_ * lanes_);
  const size_t per_sample = static_cast<size_t>((samples_ + 1) * lanes_);
  const size_t lanes = static_cast<size_t>(lanes_);
  w1_.resize(per_neuron);
  b1_.resize(per_neuron);
  w2_.resize(per_neuron);
  b2_.resize(lanes);
  boundary_.assign(per_neuron, 0);  // any boundary in [0, n] is a valid start: step() confirms or searches
  confirmed_.resize(lanes);
  signed_pairs_.resize(2 * lanes);
  diff_pairs_.resize(2 * per_sample);
  for (auto* v : {&sum_r_, &sum_rx_}) v->resize(per_sample);
  line_parts_.resize(8 * lanes);
  lane_scratch_.resize(6 * lanes);
  for (Index b = 0; b < lanes_; ++b) {
    const ShallowReluNet& net = nets[static_cast<size_t>(b)];
    for (Index i = 0; i < width_; ++i) {
      const size_t at = static_cast<size_t>(i * lanes_ + b);
      w1_[at] = static_cast<Real>(net.W1()(i, 0));
      b1_[at] = static_cast<Real>(net.b1()[i]);
      w2_[at] = static_cast<Real>(net.w2()[i]);
    }
    b2_[static_cast<size_t>(b)] = static_cast<Real>(net.b2());
  }
  previous_w1_ = w1_;
  previous_b1_ = b1_;
  previous_w2_ = w2_;
  previous_b2_ = b2_;
}

template <class Real>
void GdLanes<Real>::evaluate() {
  const Index B = lanes_, n = samples_, k = width_;
  const Real* xp = x_padded_.data();
  const Real* x = xp + 1;
  const Real* y = y_.data();
  const Real* w = w1_.data();
  const Real* b = b1_.data();
  const Real* v = w2_.data();
  const Real* c = b2_.data();
  Index* q = boundary_.data();
  Real* signed_pairs = signed_pairs_.data();
  Real* diff = diff_pairs_.data();
  Real* sum_r = sum_r_.data();
  Real* sum_rx = sum_rx_.data();
  Real* parts = line_parts_.data();  // [p * B + l]: 4 partials of the slope, then 4 of the offset
  Real* line_slope = lane_scratch_.data();
  Real* line_offset = line_slope + B;
  Real* squares = line_offset + B;  // 2 * B: even and odd samples
  Real* r_sum = squares + 2 * B;
  Real* rx_sum = r_sum + B;
  unsigned char* confirmed = confirmed_.data();
  const Real zero(0);

  // 1. Neuron by neuron, so that a neuron's lanes stay in L1 through all of it: its run boundaries
  // (update_counts: kept where both neighbours confirm them, else searched for from the old one), then
  // its line's entries in the difference arrays over samples (sum_active_lines) and, for prefix runs,
  // in the base line, summed in neuron order with four interleaved partials (weighted_sum).
  std::fill_n(diff, 2 * (n + 1) * B, zero);
  std::fill_n(parts, 8 * B, zero);
  const Index whole = k - k % 4;
  for (Index i = 0; i < k; ++i) {
    const Index row = i * B;
    confirm_boundaries(B, w + row, b + row, q + row, xp, confirmed);
    search_unconfirmed(B, confirmed, w + row, b + row, x, n, q + row);
    Real* part_slope = parts + (i < whole ? i % 4 : 0) * B;
    neuron_lines(B, w + row, b + row, v + row, signed_pairs, part_slope, part_slope + 4 * B);
    scatter_lines(B, q + row, signed_pairs, diff);
  }
  for (Index l = 0; l < B; ++l) {
    line_slope[l] = (parts[l] + parts[B + l]) + (parts[2 * B + l] + parts[3 * B + l]);
    line_offset[l] = (parts[4 * B + l] + parts[5 * B + l]) + (parts[6 * B + l] + parts[7 * B + l]);
    squares[l] = zero;
    squares[B + l] = zero;
    r_sum[l] = zero;
    rx_sum[l] = zero;
    sum_r[l] = zero;
    sum_rx[l] = zero;
  }
  // 2. Residuals, the loss's squares (even and odd samples apart) and the prefix sums of r and r x.
  for (Index j = 0; j < n; ++j) {
    residual_sample(B, x[j], y[j], c, diff + 2 * j * B, line_slope, line_offset, squares + (j & 1) * B,
                    r_sum, rx_sum, sum_r + (j + 1) * B, sum_rx + (j + 1) * B);
  }
  losses_.resize(static_cast<size_t>(B));
  for (Index l = 0; l < B; ++l) {
    losses_[static_cast<size_t>(l)] = (squares[l] + squares[B + l]) * Real(0.5) * inv_n();
  }
  evaluated_ = true;
}

template <class Real>
void GdLanes<Real>::descend(std::span<const double> etas) {
  require(evaluated_, "GdLanes::descend: evaluate() the current point first");
  require(static_cast<Index>(etas.size()) == lanes_,
          "GdLanes::descend: expected " + std::to_string(lanes_) + " step sizes, got " +
              std::to_string(etas.size()));
  const Index B = lanes_, n = samples_, k = width_;
  const Real* sum_r = sum_r_.data();
  const Real* sum_rx = sum_rx_.data();
  const Real* w = w1_.data();
  const Real* b = b1_.data();
  const Real* v = w2_.data();
  const Real* c = b2_.data();
  Real* new_w = previous_w1_.data();
  Real* new_b = previous_b1_.data();
  Real* new_v = previous_w2_.data();
  Real* new_c = previous_b2_.data();
  const Real inv_n = this->inv_n();
  // 3. Gradient and step, neuron by neuron: a neuron's gradient needs only the prefix sums and its own
  // parameters, so it moves as soon as its sums are looked up.
  const Real* total_r = sum_r + n * B;
  const Real* total_rx = sum_rx + n * B;
  Real* eta = line_parts_.data();  // the partials are spent
  for (Index l = 0; l < B; ++l) eta[l] = static_cast<Real>(etas[static_cast<size_t>(l)]);
  for (Index i = 0; i < k; ++i) {
    const Index row = i * B;
    descend_neuron(B, inv_n, eta, boundary_.data() + row, sum_r, sum_rx, total_r, total_rx, w + row, b + row,
                   v + row, new_w + row, new_b + row, new_v + row);
  }
  for (Index l = 0; l < B; ++l) new_c[l] = c[l] - eta[l] * (total_r[l] * inv_n);
  // The new point becomes current; the old one stays as the previous point (the step back of a
  // diverged run).
  w1_.swap(previous_w1_);
  b1_.swap(previous_b1_);
  w2_.swap(previous_w2_);
  b2_.swap(previous_b2_);
  evaluated_ = false;
}

template <class Real>
void GdLanes<Real>::step(std::span<const double> etas) {
  evaluate();
  descend(etas);
}

namespace {

template <class Real>
ShallowReluNet lane_net(Index lane, Index lanes, Index width, const std::vector<Real>& w1, const std::vector<Real>& b1,
                        const std::vector<Real>& w2, const std::vector<Real>& b2) {
  ShallowReluNet out(1, width);
  for (Index i = 0; i < width; ++i) {
    const size_t at = static_cast<size_t>(i * lanes + lane);
    out.W1()(i, 0) = static_cast<double>(w1[at]);
    out.b1()[i] = static_cast<double>(b1[at]);
    out.w2()[i] = static_cast<double>(w2[at]);
  }
  out.b2() = static_cast<double>(b2[static_cast<size_t>(lane)]);
  return out;
}

}  // namespace

template <class Real>
ShallowReluNet GdLanes<Real>::net(Index lane) const {
  require(lane >= 0 && lane < lanes_, "GdLanes::net: lane " + std::to_string(lane) + " out of range");
  return lane_net(lane, lanes_, width_, w1_, b1_, w2_, b2_);
}

template <class Real>
ShallowReluNet GdLanes<Real>::previous_net(Index lane) const {
  require(lane >= 0 && lane < lanes_,
          "GdLanes::previous_net: lane " + std::to_string(lane) + " out of range");
  return lane_net(lane, lanes_, width_, previous_w1_, previous_b1_, previous_w2_, previous_b2_);
}

template <class Real>
void GdLanes<Real>::keep(std::span<const Index> kept) {
  require(!kept.empty(), "GdLanes::keep: expected at least one lane");
  std::vector<char> seen(static_cast<size_t>(lanes_), 0);
  for (const Index lane : kept) {
    require(lane >= 0 && lane < lanes_ && seen[static_cast<size_t>(lane)] == 0,
            "GdLanes::keep: lane " + std::to_string(lane) + " out of range or repeated");
    seen[static_cast<size_t>(lane)] = 1;
  }
  const Index old_lanes = lanes_, new_lanes = static_cast<Index>(kept.size());
  // Per-neuron arrays [i * lanes + b] and per-lane arrays [b]: the kept columns, in their new order.
  const auto compact = [&](auto& values, Index rows) {
    std::remove_reference_t<decltype(values)> out(static_cast<size_t>(rows * new_lanes));
    for (Index i = 0; i < rows; ++i) {
      for (Index b = 0; b < new_lanes; ++b) {
        out[static_cast<size_t>(i * new_lanes + b)] = values[static_cast<size_t>(i * old_lanes + kept[static_cast<size_t>(b)])];
      }
    }
    values.swap(out);
  };
  for (auto* values : {&w1_, &b1_, &w2_, &previous_w1_, &previous_b1_, &previous_w2_}) compact(*values, width_);
  compact(boundary_, width_);
  compact(b2_, 1);
  compact(previous_b2_, 1);
  lanes_ = new_lanes;
  const size_t lanes = static_cast<size_t>(lanes_);
  const size_t per_sample = static_cast<size_t>((samples_ + 1) * lanes_);
  confirmed_.resize(lanes);
  signed_pairs_.resize(2 * lanes);
  diff_pairs_.resize(2 * per_sample);
  sum_r_.resize(per_sample);
  sum_rx_.resize(per_sample);
  line_parts_.resize(8 * lanes);
  lane_scratch_.resize(6 * lanes);
  losses_.clear();
  evaluated_ = false;
}

template class GdLanes<double>;
template class GdLanes<float>;

}  // namespace relustab
