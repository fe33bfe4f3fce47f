// SPDX-License-Identifier: MIT
#include <relustab/train/lanes.h>

#include <relustab/core/error.h>

#include <algorithm>
#include <string>

namespace relustab {

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
  x_.resize(static_cast<size_t>(samples_));
  y_.resize(static_cast<size_t>(samples_));
  for (Index j = 0; j < samples_; ++j) {
    x_[static_cast<size_t>(j)] = static_cast<Real>(data.X(j, 0));
    y_[static_cast<size_t>(j)] = static_cast<Real>(data.y[j]);
  }
  const size_t per_neuron = static_cast<size_t>(width_ * lanes_);
  w1_.resize(per_neuron);
  b1_.resize(per_neuron);
  w2_.resize(per_neuron);
  b2_.resize(static_cast<size_t>(lanes_));
  residuals_.resize(static_cast<size_t>(samples_ * lanes_));
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
}

namespace {

// The kernels take every array as a restrict parameter: with the arrays as members or locals the
// compiler must assume they may overlap and keeps the loops scalar. Loops over lanes are innermost
// (lanes are contiguous), element-wise only, so a lane's arithmetic does not depend on the batch.
// relu is a select, (z > 0 ? z : 0), which treats NaN alike in SIMD registers and scalar code.

/// f[b] += sum_i w2_ib relu(w1_ib x + b1_ib) over the neurons, in neuron order, for every lane b.
template <class Real>
void add_outputs(Index lanes, Index width, Real x, const Real* __restrict w1, const Real* __restrict b1,
                 const Real* __restrict w2, Real* __restrict f) {
  for (Index i = 0; i < width; ++i) {
    const Index row = i * lanes;
    for (Index b = 0; b < lanes; ++b) {
      const Real pre = w1[row + b] * x + b1[row + b];
      f[b] += w2[row + b] * (pre > Real(0) ? pre : Real(0));
    }
  }
}

/// Adds sample (x, r) to one neuron's gradient sums for every lane (w1, b1, w2: that neuron's row).
template <class Real>
void add_neuron_gradient(Index lanes, Real x, const Real* __restrict r, const Real* __restrict w1,
                         const Real* __restrict b1, const Real* __restrict w2, Real* __restrict g_w1,
                         Real* __restrict g_b1, Real* __restrict g_w2) {
  for (Index b = 0; b < lanes; ++b) {
    const Real pre = w1[b] * x + b1[b];
    g_w2[b] += r[b] * (pre > Real(0) ? pre : Real(0));
    const Real back = pre > Real(0) ? r[b] * w2[b] : Real(0);
    g_w1[b] += back * x;
    g_b1[b] += back;
  }
}

/// param[b] -= eta[b] * (gradient_sum[b] / n) for every lane.
template <class Real>
void descend(Index lanes, Real n, const Real* __restrict eta, const Real* __restrict gradient_sum,
             Real* __restrict param) {
  for (Index b = 0; b < lanes; ++b) param[b] -= eta[b] * (gradient_sum[b] / n);
}

}  // namespace

template <class Real>
void GdLanes<Real>::step(std::span<const double> etas) {
  require(static_cast<Index>(etas.size()) == lanes_,
          "GdLanes::step: expected " + std::to_string(lanes_) + " step sizes, got " +
              std::to_string(etas.size()));
  const Index B = lanes_;
  const size_t lanes = static_cast<size_t>(B);
  // Divided by n, not multiplied by 1/n, to round as the back ends' gradients and losses do.
  const Real n = static_cast<Real>(samples_);
  std::vector<Real> eta(lanes), f(lanes), g_w1(lanes), g_b1(lanes), g_w2(lanes), g_b2(lanes, Real(0));
  for (size_t b = 0; b < lanes; ++b) eta[b] = static_cast<Real>(etas[b]);
  // Forward: r_j = sum_i w2_i relu(w1_i x_j + b1_i) + b2 - y_j for every lane, the loss and the
  // output bias's gradient sum (samples in order).
  losses_.assign(lanes, Real(0));
  for (Index j = 0; j < samples_; ++j) {
    std::fill(f.begin(), f.end(), Real(0));
    add_outputs(B, width_, x_[static_cast<size_t>(j)], w1_.data(), b1_.data(), w2_.data(), f.data());
    Real* r = residuals_.data() + j * B;
    const Real y = y_[static_cast<size_t>(j)];
    for (size_t b = 0; b < lanes; ++b) {
      r[b] = (f[b] + b2_[b]) - y;
      losses_[b] += r[b] * r[b];
      g_b2[b] += r[b];
    }
  }
  for (size_t b = 0; b < lanes; ++b) losses_[b] /= Real(2) * n;
  // Gradient and update, neuron by neuron: neuron i's gradient needs only the residuals and its own
  // parameters, so it moves as soon as its sums over the samples are done.
  for (Index i = 0; i < width_; ++i) {
    Real* w1 = w1_.data() + i * B;
    Real* b1 = b1_.data() + i * B;
    Real* w2 = w2_.data() + i * B;
    std::fill(g_w1.begin(), g_w1.end(), Real(0));
    std::fill(g_b1.begin(), g_b1.end(), Real(0));
    std::fill(g_w2.begin(), g_w2.end(), Real(0));
    for (Index j = 0; j < samples_; ++j) {
      add_neuron_gradient(B, x_[static_cast<size_t>(j)], residuals_.data() + j * B, w1, b1, w2, g_w1.data(),
                          g_b1.data(), g_w2.data());
    }
    descend(B, n, eta.data(), g_w1.data(), w1);
    descend(B, n, eta.data(), g_b1.data(), b1);
    descend(B, n, eta.data(), g_w2.data(), w2);
  }
  descend(B, n, eta.data(), g_b2.data(), b2_.data());
}

template <class Real>
ShallowReluNet GdLanes<Real>::net(Index lane) const {
  require(lane >= 0 && lane < lanes_, "GdLanes::net: lane " + std::to_string(lane) + " out of range");
  ShallowReluNet out(1, width_);
  for (Index i = 0; i < width_; ++i) {
    const size_t at = static_cast<size_t>(i * lanes_ + lane);
    out.W1()(i, 0) = static_cast<double>(w1_[at]);
    out.b1()[i] = static_cast<double>(b1_[at]);
    out.w2()[i] = static_cast<double>(w2_[at]);
  }
  out.b2() = static_cast<double>(b2_[static_cast<size_t>(lane)]);
  return out;
}

template class GdLanes<double>;
template class GdLanes<float>;

}  // namespace relustab
