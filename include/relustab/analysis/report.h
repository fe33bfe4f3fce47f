// SPDX-License-Identifier: MIT
// Everything the theory says about one trained net on its data, in one struct (what `analyze` prints).
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/core/loss.h>
#include <relustab/curvature/curvature.h>

#include <optional>
#include <string_view>

namespace relustab {

/// Relative tolerance under which a pre-activation counts as exactly 0, i.e. the neuron's knot (or
/// hyperplane) sits on a data point. GD that interpolates typically leaves such neurons at |z| ~ 1e-9
/// relative (Mulayoff et al. 2021, Thm 2, practical note), so exact zero tests would miss them.
inline constexpr double kKinkRelativeTolerance = 1e-7;

/// Number of neurons i whose pre-activation W1_i . x_j + b1_i vanishes (relative to |W1_i| . |x_j| +
/// |b1_i|) at some sample j: there the loss is not twice differentiable (Theorem 2's setting). The
/// distinct neurons of kink_points (analysis/kinks.h), which lists the (neuron, sample) pairs.
Index count_neurons_on_data(const ShallowReluNet& net, const RowMatrix& X,
                            double relative_tolerance = kKinkRelativeTolerance);

/// Default relative band around 2/eta within which a sharpness counts as "at the edge of stability"
/// (ours): GD that converged at the edge hovers within a few 1e-3 of 2/eta (rounding, the
/// eigensolver's tolerance, the last oscillations), so 5.002 against 2/eta = 5 is at the edge, not
/// unstable.
inline constexpr double kEdgeTolerance = 1e-2;

/// The stability verdict of a sharpness against a step size, with its relative tolerance tol on the
/// ratio r = sharpness x eta / 2 (r = 1: at the edge of stability, Lemma 1's limit).
enum class StabilityClass {
  Stable,    ///< r < 1 - tol
  AtEdge,    ///< |r - 1| <= tol
  Unstable,  ///< r > 1 + tol: linearly unstable for GD at this step size
};
StabilityClass classify_stability(double edge_ratio, double tolerance = kEdgeTolerance);
/// "stable", "at the edge", "unstable".
std::string_view stability_name(StabilityClass value);

/// Number of neurons inactive on every sample (pre-activation <= 0 at every x_j, relu'(0) = 0): they
/// contribute nothing to f on the data nor to the loss's gradient, and GD cannot revive them.
Index count_dead_neurons(const ShallowReluNet& net, const RowMatrix& X);

struct AnalysisOptions {
  SharpnessOptions sharpness;
  double edge_tolerance = kEdgeTolerance;  ///< see StabilityClass
  /// The loss the values, the Hessian and the step size refer to (see Loss).
  Loss loss = Loss::HalfMse;
};

/// The quantities marked "ReLU theory" (the function-space quantities, knots and the papers' bounds)
/// hold for ReLU nets only: for a back end of another activation they are left out (NaN, or -1 for
/// the counts). The loss, mse_clean, both sharpnesses and the verdict sharpness <= 2/eta are the
/// back end's, whatever its activation.
struct StabilityReport {
  Activation activation = Activation::Relu;  ///< the back end's
  Index n = 0;
  Index input_dim = 0;
  Index width = 0;
  /// The convention of loss, sharpness, gn_sharpness, their lower bounds (lemma4_bound,
  /// per_implementation_bound) and eta. The theorems' step-size bounds (thm1_rhs,
  /// noninterpolating_bound, thm2_delta) are stated for half_mse and so use its step size
  /// loss_scale x eta; the verdict is the same in either convention.
  Loss loss_function = Loss::HalfMse;
  double loss = 0.0;          ///< 1/(2n) sum r^2 (half_mse) or 1/n sum r^2 (mse)
  double mse_clean = std::numeric_limits<double>::quiet_NaN();  ///< vs the clean target, if known
  double max_abs_x = 0.0;     ///< R = max_j ||x_j||_inf (d = 1: max |x_j|)
  EigenResult sharpness;      ///< largest algebraic eigenvalue of the exact Hessian
  EigenResult gn_sharpness;   ///< largest eigenvalue of the Gauss-Newton matrix
  // ReLU theory.
  double weighted_tv = std::numeric_limits<double>::quiet_NaN();  ///< d = 1 only
  double weighted_norm = std::numeric_limits<double>::quiet_NaN();
  /// 1 + 2 weighted_tv (d = 1) or 1 + 2 weighted_norm
  double lemma4_bound = std::numeric_limits<double>::quiet_NaN();
  double per_implementation_bound = std::numeric_limits<double>::quiet_NaN();
  Index knots = -1;                      ///< d = 1: distinct knots inside the data range
  /// d = 1: the fewest of those knots that carry kEffectiveKnotFraction of int |f''| over the data
  /// range, and of int |f''| g (knot_stats.h, effective_knots).
  Index effective_knots = -1;
  Index effective_knots_weighted = -1;
  Index neurons_on_data = -1;            ///< see count_neurons_on_data
  Index dead_neurons = -1;               ///< see count_dead_neurons

  // Present when a step size is given.
  std::optional<double> eta;
  double two_over_eta = 0.0;
  bool stable = false;                   ///< sharpness <= 2/eta (strictly, no tolerance)
  double edge_ratio = 0.0;               ///< sharpness x eta / 2
  double edge_tolerance = kEdgeTolerance;
  StabilityClass stability = StabilityClass::Stable;  ///< classify_stability(edge_ratio, edge_tolerance)
  // ReLU theory.
  double thm1_rhs = std::numeric_limits<double>::quiet_NaN();  ///< 1/eta - 1/2
  double noninterpolating_bound = std::numeric_limits<double>::quiet_NaN();  ///< Liang, Qiao, Wang, Parhi 2025, Thm 3.2
  double thm2_delta = std::numeric_limits<double>::quiet_NaN();  ///< d = 1 only (Theorem 2)
};

/// Throws InputError unless 0 <= tolerance < 1 (the edge tolerance of StabilityClass).
void require_edge_tolerance(double tolerance);

/// The verdict of report.sharpness (already in the report's loss convention) against the step size
/// eta of that convention: sets eta, two_over_eta, stable, edge_ratio, edge_tolerance and stability.
/// The one place both depths judge stability. Throws InputError for a step size that is not
/// positive and finite, or a tolerance outside [0, 1).
void judge_stability(StabilityReport& report, double eta, double edge_tolerance);

/// Analyses `net` on `data` with the back end's activation: loss (of options.loss), both sharpnesses with residuals
/// and, for ReLU back ends, the function-space quantities and, when `eta` is given, the bounds of
/// Theorems 1 and 2 and the non-interpolating bound. The stability verdict (sharpness x eta / 2
/// against 1 with options.edge_tolerance) is given for every activation. Throws InputError for an
/// edge tolerance outside [0, 1).
StabilityReport analyze_net(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                            std::optional<double> eta, const AnalysisOptions& options = {});

}  // namespace relustab
