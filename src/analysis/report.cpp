// SPDX-License-Identifier: MIT
#include <relustab/analysis/report.h>

#include <relustab/analysis/bounds.h>
#include <relustab/analysis/function_space.h>
#include <relustab/analysis/kinks.h>
#include <relustab/analysis/knot_stats.h>
#include <relustab/core/error.h>
#include <relustab/core/format.h>

#include <cmath>
#include <set>
#include <vector>

namespace relustab {

Index count_neurons_on_data(const ShallowReluNet& net, const RowMatrix& X,
                            double relative_tolerance) {
  std::set<Index> neurons;
  for (const KinkPoint& kink : kink_points(net, X, relative_tolerance)) neurons.insert(kink.neuron);
  return static_cast<Index>(neurons.size());
}

StabilityClass classify_stability(double edge_ratio, double tolerance) {
  if (edge_ratio > 1.0 + tolerance) return StabilityClass::Unstable;
  if (edge_ratio >= 1.0 - tolerance) return StabilityClass::AtEdge;
  return StabilityClass::Stable;
}

std::string_view stability_name(StabilityClass value) {
  switch (value) {
    case StabilityClass::Stable: return "stable";
    case StabilityClass::AtEdge: return "at the edge";
    case StabilityClass::Unstable: return "unstable";
  }
  return "unknown";
}

Index count_dead_neurons(const ShallowReluNet& net, const RowMatrix& X) {
  require(X.cols() == net.input_dim(), "count_dead_neurons: expected inputs of dimension " +
                                           std::to_string(net.input_dim()));
  Index dead = 0;
  for (Index i = 0; i < net.width(); ++i) {
    const Vec pre = (X * net.W1().row(i).transpose()).array() + net.b1()[i];
    if (X.rows() == 0 || pre.maxCoeff() <= 0.0) ++dead;
  }
  return dead;
}

void require_edge_tolerance(double tolerance) {
  require(tolerance >= 0.0 && tolerance < 1.0,
          "edge tolerance: expected a number in [0, 1), got " + format_number(tolerance));
}

void judge_stability(StabilityReport& report, double eta, double edge_tolerance) {
  require_edge_tolerance(edge_tolerance);
  report.eta = eta;
  report.two_over_eta = two_over_eta(eta);
  report.stable = report.sharpness.value <= report.two_over_eta;
  report.edge_ratio = report.sharpness.value * eta / 2.0;
  report.edge_tolerance = edge_tolerance;
  report.stability = classify_stability(report.edge_ratio, edge_tolerance);
}

StabilityReport analyze_net(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                            std::optional<double> eta, const AnalysisOptions& analysis) {
  const SharpnessOptions& options = analysis.sharpness;
  require_edge_tolerance(analysis.edge_tolerance);
  validate_dataset(data, "data");
  require(data.dim() == net.input_dim(),
          "data: expected input dimension " + std::to_string(net.input_dim()) +
              " (the network's), got " + std::to_string(data.dim()));
  require_activation_match(backend, net);
  StabilityReport report;
  report.activation = net.activation();
  report.n = data.n();
  report.input_dim = net.input_dim();
  report.width = net.width();
  // The back end computes the half-MSE quantities; mse scales them by 2 (exactly, in floating point).
  const double scale = loss_scale(analysis.loss);
  report.loss_function = analysis.loss;
  const double half_mse = backend.loss_and_grad(net, data, {}, nullptr);
  report.loss = scale * half_mse;
  if (data.has_clean()) {
    report.mse_clean =
        (net.predict(data.X) - data.y_clean).squaredNorm() / static_cast<double>(data.n());
  }
  report.max_abs_x = data.X.cwiseAbs().maxCoeff();
  report.sharpness = sharpness(backend, net, data, options);
  report.gn_sharpness = gn_sharpness(backend, net, data, options);
  for (EigenResult* top : {&report.sharpness, &report.gn_sharpness}) {
    top->value *= scale;
    top->residual *= scale;  // ||(sH) v - (s lambda) v|| = s ||H v - lambda v||
  }
  // The half-MSE step size with the same GD iterates: the theorems are stated for it.
  const double half_mse_eta = eta ? scale * *eta : 0.0;
  if (eta) judge_stability(report, *eta, analysis.edge_tolerance);
  // Everything below is the theory of ReLU nets (knots, the weight function g, the papers' bounds).
  if (backend.activation() != Activation::Relu) return report;

  report.weighted_norm = weighted_norm(net, data.X);
  report.per_implementation_bound = per_implementation_bound(net, data);
  report.neurons_on_data = count_neurons_on_data(net, data.X);
  report.dead_neurons = count_dead_neurons(net, data.X);

  std::vector<Knot> net_knots;
  if (net.input_dim() == 1) {
    const std::vector<double> inputs(data.X.data(), data.X.data() + data.n());
    const EmpiricalWeight g(inputs);
    report.weighted_tv = weighted_tv(net, g);
    net_knots = knots(net);
    report.knots = count_knots_in_range(net_knots, g.x_min(), g.x_max());
    const EffectiveKnots effective = effective_knots(net, inputs);
    report.effective_knots = effective.curvature;
    report.effective_knots_weighted = effective.weighted_curvature;
    report.lemma4_bound = lemma4_bound(report.weighted_tv);
  } else {
    report.lemma4_bound = lemma4_bound(report.weighted_norm);
  }
  // Both are lower bounds on the sharpness, so they are in its convention.
  report.lemma4_bound *= scale;
  report.per_implementation_bound *= scale;

  if (eta) {
    report.thm1_rhs = thm1_rhs(half_mse_eta);
    report.noninterpolating_bound = noninterpolating_bound(half_mse_eta, report.max_abs_x, half_mse);
    if (net.input_dim() == 1) {
      // L in Theorem 2 counts the knots of f; every knot with a non-zero jump counts, wherever it is.
      const Index all_knots = count_knots_in_range(net_knots, -INFINITY, INFINITY);
      report.thm2_delta = thm2_delta(half_mse_eta, net.width(), all_knots, data.n(),
                                     net.theta().cwiseAbs().maxCoeff(), report.max_abs_x);
    }
  }
  return report;
}

}  // namespace relustab
