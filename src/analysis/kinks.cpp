// SPDX-License-Identifier: MIT
// Kink points, mode patterns, and the mode-by-mode curvature analysis of Mulayoff et al. 2021, Thm 2 and Lemmas 2-3.
#include <relustab/analysis/kinks.h>

#include <relustab/analysis/bounds.h>
#include <relustab/analysis/function_space.h>
#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/eigen.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace relustab {
namespace {

void require_compatible(const ShallowReluNet& net, const Dataset& data, const char* what) {
  require_relu(net, what);
  require(net.width() >= 1, std::string(what) + ": the net is empty (width 0)");
  validate_dataset(data, std::string(what) + ": data");
  require(data.dim() == net.input_dim(), std::string(what) + ": data: expected input dimension " +
                                             std::to_string(net.input_dim()) + " (the net's), got " +
                                             std::to_string(data.dim()));
}

/// The rows `rows` of `data` (targets too) as a data set of their own.
Dataset select_rows(const Dataset& data, const std::vector<Index>& rows) {
  Dataset out;
  const Index m = static_cast<Index>(rows.size());
  out.X.resize(m, data.dim());
  out.y.resize(m);
  for (Index r = 0; r < m; ++r) {
    out.X.row(r) = data.X.row(rows[static_cast<std::size_t>(r)]);
    out.y[r] = data.y[rows[static_cast<std::size_t>(r)]];
  }
  return out;
}

/// Residuals f_m(x_j) - y_j of the mode with activation pattern `pattern`.
Vec mode_residuals(const ShallowReluNet& net, const Dataset& data, const ActivationPattern& pattern) {
  RowMatrix pre = data.X * net.W1().transpose();
  pre.rowwise() += net.b1().transpose();
  const RowMatrix mode_relu = pattern.select(pre.array(), 0.0).matrix();
  return mode_relu * net.w2() + Vec::Constant(data.n(), net.b2()) - data.y;
}

/// Mode m's Hessian and gradient, assembled as (fixed part over the samples without kinks) + (part
/// over the samples J with kinks, which alone depends on the mode). Both parts are the library's
/// dense curvature with an activation pattern, weighted by their share of the n samples.
class ModeCurvature {
 public:
  ModeCurvature(const ShallowReluNet& net, const Dataset& data, std::span<const KinkPoint> kinks)
      : net_(net), data_(data), kinks_(kinks.begin(), kinks.end()) {
    std::vector<bool> has_kink(static_cast<std::size_t>(data.n()), false);
    for (const KinkPoint& kink : kinks_) has_kink[static_cast<std::size_t>(kink.sample)] = true;
    std::vector<Index> rest_rows;
    for (Index j = 0; j < data.n(); ++j) {
      (has_kink[static_cast<std::size_t>(j)] ? kink_rows_ : rest_rows).push_back(j);
    }
    kink_data_ = select_rows(data, kink_rows_);
    const double n = static_cast<double>(data.n());
    rest_hessian_ = Matrix::Zero(net.n_params(), net.n_params());
    rest_gradient_ = Vec::Zero(net.n_params());
    if (!rest_rows.empty()) {
      const Dataset rest = select_rows(data, rest_rows);
      const ActivationPattern pattern = activation_pattern(net, rest);
      const double share = static_cast<double>(rest.n()) / n;
      rest_hessian_ = share * dense_hessian(net, rest, pattern);
      rest_gradient_ = share * gradient(rest, pattern);
    }
    // Row of each kink point's sample inside kink_data_.
    for (const KinkPoint& kink : kinks_) {
      const auto at = std::lower_bound(kink_rows_.begin(), kink_rows_.end(), kink.sample);
      kink_row_.push_back(static_cast<Index>(at - kink_rows_.begin()));
    }
  }

  ActivationPattern kink_pattern(const std::vector<bool>& mode) const {
    ActivationPattern pattern = activation_pattern(net_, kink_data_);
    for (std::size_t b = 0; b < kinks_.size(); ++b) pattern(kink_row_[b], kinks_[b].neuron) = mode[b];
    return pattern;
  }

  Matrix hessian(const std::vector<bool>& mode) const {
    if (kink_rows_.empty()) return rest_hessian_;
    const double share = static_cast<double>(kink_data_.n()) / static_cast<double>(data_.n());
    return rest_hessian_ + share * dense_hessian(net_, kink_data_, kink_pattern(mode));
  }

  Vec mode_gradient(const std::vector<bool>& mode) const {
    if (kink_rows_.empty()) return rest_gradient_;
    const double share = static_cast<double>(kink_data_.n()) / static_cast<double>(data_.n());
    return rest_gradient_ + share * gradient(kink_data_, kink_pattern(mode));
  }

 private:
  /// (1/m) Phi r over the m samples of `part`, in the mode `pattern`.
  Vec gradient(const Dataset& part, const ActivationPattern& pattern) const {
    return tangent_features(net_, part, pattern) * mode_residuals(net_, part, pattern) /
           static_cast<double>(part.n());
  }

  const ShallowReluNet& net_;
  const Dataset& data_;
  std::vector<KinkPoint> kinks_;
  std::vector<Index> kink_rows_;  ///< samples with at least one kink point, ascending
  std::vector<Index> kink_row_;   ///< per kink point: its sample's row in kink_data_
  Dataset kink_data_;
  Matrix rest_hessian_;
  Vec rest_gradient_;
};

/// The modes to examine, `convention` (the relu'(0) = 0 mode) first: all 2^p of them (bit b of
/// the index = kink point b on), or distinct ones drawn uniformly.
std::vector<std::vector<bool>> modes_to_examine(const std::vector<bool>& convention,
                                                const KinkOptions& options, bool& exhaustive) {
  const std::size_t p = convention.size();
  std::vector<std::vector<bool>> modes = {convention};
  exhaustive = p <= static_cast<std::size_t>(options.max_enumerated_kinks);
  if (exhaustive) {
    const std::uint64_t count = std::uint64_t{1} << p;
    for (std::uint64_t index = 0; index < count; ++index) {
      std::vector<bool> mode(p);
      for (std::size_t b = 0; b < p; ++b) mode[b] = ((index >> b) & 1U) != 0;
      if (mode != convention) modes.push_back(std::move(mode));
    }
    return modes;
  }
  std::set<std::vector<bool>> seen = {convention};
  Rng rng(options.seed);
  // 2^p > 2^max_enumerated_kinks modes, so distinct draws come quickly; the attempt limit only
  // guards the loop.
  for (Index attempt = 0; static_cast<Index>(modes.size()) < options.sampled_modes &&
                          attempt < 100 * options.sampled_modes;
       ++attempt) {
    std::vector<bool> mode(p);
    for (std::size_t b = 0; b < p; ++b) mode[b] = (rng.next_u64() >> 63) != 0;
    if (seen.insert(mode).second) modes.push_back(std::move(mode));
  }
  return modes;
}

}  // namespace

std::vector<KinkPoint> kink_points(const ShallowReluNet& net, const RowMatrix& X,
                                   double relative_tolerance) {
  require(X.cols() == net.input_dim(), "kink_points: expected inputs of dimension " +
                                           std::to_string(net.input_dim()) + ", got " +
                                           std::to_string(X.cols()));
  std::vector<KinkPoint> points;
  for (Index i = 0; i < net.width(); ++i) {
    const auto w = net.W1().row(i);
    const double b = net.b1()[i];
    // An all-zero neuron (W1_i = 0, b1_i = 0) is the constant 0 and has no knot.
    if (b == 0.0 && w.cwiseAbs().maxCoeff() == 0.0) continue;
    for (Index j = 0; j < X.rows(); ++j) {
      const double dot = X.row(j).dot(w);
      // Scale 0 (every w_c x_jc = 0 and b = 0, e.g. x_j = 0 on a hyperplane through the origin)
      // means the pre-activation is exactly 0: a kink, which `<=` keeps.
      const double scale = X.row(j).cwiseAbs().dot(w.cwiseAbs()) + std::abs(b);
      if (std::abs(dot + b) <= relative_tolerance * scale) points.push_back({i, j});
    }
  }
  return points;
}

ActivationPattern mode_pattern(const ShallowReluNet& net, const Dataset& data,
                               std::span<const KinkPoint> kinks, const std::vector<bool>& mode) {
  require(mode.size() == kinks.size(), "mode_pattern: expected one on/off value per kink point (" +
                                           std::to_string(kinks.size()) + "), got " +
                                           std::to_string(mode.size()));
  ActivationPattern pattern = activation_pattern(net, data);
  for (std::size_t b = 0; b < kinks.size(); ++b) {
    const KinkPoint& kink = kinks[b];
    require(kink.neuron >= 0 && kink.neuron < net.width() && kink.sample >= 0 &&
                kink.sample < data.n(),
            "mode_pattern: kink point " + std::to_string(b) + " is out of range");
    pattern(kink.sample, kink.neuron) = mode[b];
  }
  return pattern;
}

KinkAnalysis analyze_kinks(const ShallowReluNet& net, const Dataset& data,
                           std::optional<double> eta, const KinkOptions& options) {
  require_compatible(net, data, "analyze_kinks");
  require(net.n_params() <= options.dense_max,
          "analyze_kinks: the mode Hessians are dense with P = " + std::to_string(net.n_params()) +
              " parameters, above dense_max = " + std::to_string(options.dense_max));
  require(options.max_enumerated_kinks >= 0 && options.max_enumerated_kinks <= 30 &&
              options.sampled_modes >= 1 && options.epsilon > 0.0,
          "analyze_kinks: expected 0 <= max_enumerated_kinks <= 30, sampled_modes >= 1 and "
          "epsilon > 0");

  if (eta) (void)two_over_eta(*eta);  // a bad step size is refused before the work
  KinkAnalysis result;
  result.kinks = kink_points(net, data.X, options.relative_tolerance);
  std::set<Index> neurons;
  std::vector<Index> per_sample(static_cast<std::size_t>(data.n()), 0);
  for (const KinkPoint& kink : result.kinks) {
    neurons.insert(kink.neuron);
    result.p_max = std::max(result.p_max, ++per_sample[static_cast<std::size_t>(kink.sample)]);
  }
  result.kink_neurons = static_cast<Index>(neurons.size());

  const ModeCurvature curvature(net, data, result.kinks);
  // The mode of the relu'(0) = 0 convention: kink points whose pre-activation is > 0 (within the
  // tolerance) are on in it.
  std::vector<bool> convention(result.kinks.size());
  {
    const ActivationPattern base = activation_pattern(net, data);
    for (std::size_t b = 0; b < result.kinks.size(); ++b) {
      convention[b] = base(result.kinks[b].sample, result.kinks[b].neuron);
    }
  }
  const std::vector<std::vector<bool>> modes =
      modes_to_examine(convention, options, result.exhaustive);

  // Pass 1: each mode's top eigenpair; q is the top eigenvector of the mode attaining lambda_upper.
  result.lambda_upper = -std::numeric_limits<double>::infinity();
  std::vector<Vec> gradients;
  for (const std::vector<bool>& mode : modes) {
    const EigenResult top = dense_extreme_eigenpair(curvature.hessian(mode), Which::LargestAlgebraic);
    ModeSummary summary;
    summary.mode = mode;
    summary.top_eigenvalue = top.value;
    gradients.push_back(curvature.mode_gradient(mode));
    summary.gradient_norm = gradients.back().norm();
    if (top.value > result.lambda_upper) {
      result.lambda_upper = top.value;
      result.q = top.vector;
    }
    result.max_gradient_norm = std::max(result.max_gradient_norm, summary.gradient_norm);
    result.modes.push_back(std::move(summary));
  }
  // Pass 2: every mode against the common vector q (Lemma 2).
  result.lambda_lower = std::numeric_limits<double>::infinity();
  for (std::size_t m = 0; m < result.modes.size(); ++m) {
    ModeSummary& summary = result.modes[m];
    const Vec hq = curvature.hessian(summary.mode) * result.q;
    summary.rayleigh = result.q.dot(hq);
    summary.residual = (hq - summary.rayleigh * result.q).norm();
    result.lambda_lower = std::min(result.lambda_lower, summary.rayleigh);
    result.delta = std::max(result.delta, summary.residual);
    result.gamma = std::max(result.gamma, std::abs(result.q.dot(gradients[m])));
  }

  const bool univariate = net.input_dim() == 1;
  if (univariate) {
    // C of Lemma 5: the largest |entry| of a tangent feature in any mode (>= 1 from the b2 entry).
    // A feature entry is w2_i x_j, w2_i or z_ij where neuron i is on at x_j in some mode.
    double C = 1.0;
    const ActivationPattern base = activation_pattern(net, data);
    ActivationPattern on_somewhere = base;
    for (const KinkPoint& kink : result.kinks) on_somewhere(kink.sample, kink.neuron) = true;
    for (Index j = 0; j < data.n(); ++j) {
      for (Index i = 0; i < net.width(); ++i) {
        if (!on_somewhere(j, i)) continue;
        const double x = data.X(j, 0);
        const double z = net.W1()(i, 0) * x + net.b1()[i];
        C = std::max({C, std::abs(net.w2()[i] * x), std::abs(net.w2()[i]), std::abs(z)});
      }
    }
    result.lemma5_bound = 2.0 * std::sqrt(3.0) * C * std::sqrt(std::max(result.lambda_upper, 0.0)) *
                          std::sqrt(static_cast<double>(result.p_max) / static_cast<double>(data.n()));
  }

  if (eta) {
    result.eta = *eta;
    const double edge = two_over_eta(*eta);
    result.lemma3_stable = result.lambda_upper <= edge;
    const double gamma_term = std::isinf(options.epsilon) ? 0.0 : result.gamma / options.epsilon;
    result.lemma2_unstable = result.lambda_lower > edge + result.delta + gamma_term;
    if (univariate) {
      const Index all_knots = count_knots_in_range(knots(net), -INFINITY, INFINITY);
      result.thm2_delta = thm2_delta(*eta, net.width(), all_knots, data.n(),
                                     net.theta().cwiseAbs().maxCoeff(), data.X.cwiseAbs().maxCoeff());
    }
  }
  return result;
}

}  // namespace relustab
