// SPDX-License-Identifier: MIT
// The multivariate weight function g(u, t) and the per-neuron weighted norm (Nacson et al. 2023, Thm 1).
#include "side_weights.h"

#include <relustab/analysis/function_space.h>
#include <relustab/core/error.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace relustab {
namespace detail {

SideWeights side_weights(const RowMatrix& X, const Matrix& pre) {
  const Index n = X.rows();
  const Index columns = pre.cols();
  const Matrix positive_mask = (pre.array() > 0.0).cast<double>();
  const Matrix negative_mask = (pre.array() < 0.0).cast<double>();
  // d x columns: the sums of x_j over each side, as two matrix products.
  const Matrix positive_sum_x = X.transpose() * positive_mask;
  const Matrix negative_sum_x = X.transpose() * negative_mask;
  const auto one_side = [n](double count, double ramp_sum, const auto& sum_x) {
    if (count == 0.0) return 0.0;
    const double fraction = count / static_cast<double>(n);
    const double mean_ramp = ramp_sum / static_cast<double>(n);  // E[(z)_+]
    const double mean_x_squared_norm = sum_x.squaredNorm() / (count * count);
    return fraction * mean_ramp * std::sqrt(1.0 + mean_x_squared_norm);
  };
  SideWeights out{Vec(columns), Vec(columns)};
  for (Index c = 0; c < columns; ++c) {
    out.positive[c] =
        one_side(positive_mask.col(c).sum(), pre.col(c).cwiseMax(0.0).sum(), positive_sum_x.col(c));
    out.negative[c] =
        one_side(negative_mask.col(c).sum(), (-pre.col(c)).cwiseMax(0.0).sum(), negative_sum_x.col(c));
  }
  return out;
}

SideWeights neuron_side_weights(const ShallowReluNet& net, const RowMatrix& X,
                                Index max_block_entries) {
  const Index n = X.rows();
  const Index width = net.width();
  const Index block = std::clamp<Index>(max_block_entries / std::max<Index>(n, 1), 1, width);
  SideWeights out{Vec::Zero(width), Vec::Zero(width)};
  for (Index begin = 0; begin < width; begin += block) {
    const Index size = std::min(block, width - begin);
    // The curvature code's expression for the activations, so both read the same signs: exactly for
    // d = 1 (x w1 + b1), up to an ulp of the dot product for d > 1 (product kernels vary).
    Matrix pre = X * net.W1().middleRows(begin, size).transpose();
    pre.rowwise() += net.b1().segment(begin, size).transpose();
    const SideWeights sides = side_weights(X, pre);
    for (Index c = 0; c < size; ++c) {
      if (net.W1().row(begin + c).isZero(0.0)) continue;  // constant neuron: no hyperplane
      out.positive[begin + c] = sides.positive[c];
      out.negative[begin + c] = sides.negative[c];
    }
  }
  return out;
}

}  // namespace detail

namespace {

/// Both one-sided weights of the hyperplane (u, t), after validating the arguments.
detail::SideWeights hyperplane_side_weights(const RowMatrix& X, const Eigen::Ref<const Vec>& u,
                                            double t, const char* caller) {
  // Callers normalise u as w / ||w||, accurate to a few ulp; 1e-9 only catches a forgotten
  // normalisation, under which the weight would silently scale with ||u||.
  constexpr double kUnitNormTolerance = 1e-9;
  const std::string name(caller);
  require(X.rows() > 0, name + ": expected at least one sample (X has no rows)");
  require(u.size() == X.cols(), name + ": u has length " + std::to_string(u.size()) +
                                    ", expected the input dimension " + std::to_string(X.cols()));
  require(std::abs(u.norm() - 1.0) <= kUnitNormTolerance,
          name + ": u must be a unit vector, got norm " + std::to_string(u.norm()));
  require(std::isfinite(t), name + ": t must be finite, got " + std::to_string(t));
  require(X.allFinite(), name + ": X must be finite");  // a NaN row would join neither side
  Matrix pre = X * u;
  pre.array() -= t;
  return detail::side_weights(X, pre);
}

}  // namespace

double multivariate_weight(const RowMatrix& X, const Eigen::Ref<const Vec>& u, double t) {
  // The negative side of (u, t) is the positive side of (-u, -t): {-u.x > -t} = {u.x < t}.
  const detail::SideWeights sides = hyperplane_side_weights(X, u, t, "multivariate_weight");
  return std::min(sides.positive[0], sides.negative[0]);
}

double multivariate_weight_one_sided(const RowMatrix& X, const Eigen::Ref<const Vec>& u, double t) {
  return hyperplane_side_weights(X, u, t, "multivariate_weight_one_sided").positive[0];
}

double weighted_norm(const ShallowReluNet& net, const RowMatrix& X) {
  require_relu(net, "weighted_norm");
  require(X.rows() > 0, "weighted_norm: expected at least one sample (X has no rows)");
  require(X.cols() == net.input_dim(), "weighted_norm: X has " + std::to_string(X.cols()) +
                                           " columns, expected input_dim " +
                                           std::to_string(net.input_dim()));
  // A NaN pre-activation would fall on neither side and vanish silently.
  require(net.theta().allFinite(), "weighted_norm: the net's parameters must be finite");
  require(X.allFinite(), "weighted_norm: X must be finite");
  // Entry k of the sides is ||w_k|| g~, so |v_k| ||w_k|| g(u_k, t_k) = |v_k| min(both sides).
  const detail::SideWeights sides = detail::neuron_side_weights(net, X);
  return net.w2().cwiseAbs().dot(sides.positive.cwiseMin(sides.negative));
}

}  // namespace relustab
