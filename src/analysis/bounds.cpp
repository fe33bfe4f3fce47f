// SPDX-License-Identifier: MIT
// The papers' bounds (Theorems 1 and 2, Lemma 4, the non-interpolating correction) as functions.
#include <relustab/analysis/bounds.h>

#include "side_weights.h"

#include <relustab/core/error.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace relustab {
namespace {

void require_step_size(double eta) {
  require(std::isfinite(eta) && eta > 0.0,
          "eta: expected a finite step size > 0, got " + std::to_string(eta));
}

void require_finite_non_negative(double value, const char* name) {
  require(std::isfinite(value) && value >= 0.0,
          std::string(name) + ": expected a finite number >= 0, got " + std::to_string(value));
}

}  // namespace

double two_over_eta(double eta) {
  require_step_size(eta);
  return 2.0 / eta;
}

double thm1_rhs(double eta) {
  require_step_size(eta);
  return 1.0 / eta - 0.5;
}

double thm2_delta(double eta, Index width, Index n_knots, Index n_samples, double rho,
                  double max_abs_x) {
  require_step_size(eta);
  require(width >= 1, "width: expected an integer >= 1, got " + std::to_string(width));
  require(n_knots >= 0 && n_knots <= width,
          "n_knots: Theorem 2 needs 0 <= L <= k = " + std::to_string(width) + ", got " +
              std::to_string(n_knots));
  require(n_samples >= 1, "n_samples: expected an integer >= 1, got " + std::to_string(n_samples));
  require_finite_non_negative(rho, "rho");
  require_finite_non_negative(max_abs_x, "max_abs_x");
  const double c = std::max(1.0, rho * (1.0 + max_abs_x));
  const double q = static_cast<double>(1 + width - n_knots) / static_cast<double>(n_samples);
  // As printed in the final version (eqs (24)-(25)); see Mulayoff et al. 2021, Thm 2 and Lemmas 2-3 on its constants.
  return 1.5 * c * c * q + c * std::sqrt(0.75 * q * (3.0 * c * c * q + 2.0 / eta));
}

double noninterpolating_bound(double eta, double max_abs_x, double loss) {
  require_step_size(eta);
  require_finite_non_negative(max_abs_x, "max_abs_x");
  require_finite_non_negative(loss, "loss");
  return 1.0 / eta - 0.5 + (max_abs_x + 1.0) * std::sqrt(2.0 * loss);
}

double lemma4_bound(double weighted_value) {
  require_finite_non_negative(weighted_value, "weighted_value");
  return 1.0 + 2.0 * weighted_value;
}

double per_implementation_bound(const ShallowReluNet& net, const Dataset& data) {
  require(data.n() > 0, "per_implementation_bound: expected at least one sample");
  require(data.dim() == net.input_dim(),
          "per_implementation_bound: data has dimension " + std::to_string(data.dim()) +
              ", the net expects input_dim " + std::to_string(net.input_dim()));
  // A NaN pre-activation would fall on neither side and vanish silently.
  require(net.theta().allFinite(), "per_implementation_bound: the net's parameters must be finite");
  require(data.X.allFinite(), "per_implementation_bound: the inputs must be finite");
  // Each neuron's own side is where its pre-activation is > 0, decided exactly as the Gauss-Newton
  // matrix decides relu' (relu'(0) = 0). For d = 1 that side is x > t_i (w1_i > 0) or x < t_i
  // (w1_i < 0) and entry i is |w1_i| g_+(t_i) or |w1_i| g_-(t_i); reading it off the same signs keeps
  // the bound below lambda_max even when a knot sits on a data point up to rounding.
  const detail::SideWeights sides = detail::neuron_side_weights(net, data.X);
  return 1.0 + 2.0 * net.w2().cwiseAbs().dot(sides.positive);
}

}  // namespace relustab
