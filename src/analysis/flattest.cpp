// SPDX-License-Identifier: MIT
// Flattest implementation over per-neuron rescalings: smoothed convex minimisation of lambda_max with
// a duality-gap certificate (Mulayoff et al. 2021, App. XI; our method).
#include <relustab/analysis/flattest.h>

#include "lbfgs.h"

#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace relustab {
namespace {

using detail::kArmijo;
using detail::kInitialSmoothing;
using detail::kLbfgsMemory;
using detail::kMaxHalvings;
using detail::kMaxLogScaleStep;
using detail::kSmoothingDecrease;
using detail::kSoftmaxCutoff;

/// Per-neuron factors of K(beta), unscaled (beta = 0): gated(j, i) = 1{neuron i on at x_j} w2_i and
/// relu(j, i) = relu(W1_i . x_j + b1_i), n x k.
struct Factors {
  RowMatrix gated;
  RowMatrix relu;
};

Factors neuron_factors(const ShallowReluNet& net, const Dataset& data) {
  RowMatrix pre = data.X * net.W1().transpose();
  pre.rowwise() += net.b1().transpose();
  Factors f;
  f.gated = (pre.array() > 0.0).cast<double>().rowwise() * net.w2().transpose().array();
  f.relu = pre.cwiseMax(0.0);
  return f;
}

/// The spectrum of K(beta) as the optimiser needs it: the eigenvalues that matter at smoothing mu
/// and, per eigenpair l, the share of lambda_l carried by each block of parameters ("energies", which
/// sum to lambda_l): in(i, l) = e^{-2 beta_i} u_l^T A_i u_l / n (neuron i's W1_i and b1_i),
/// out(i, l) = e^{2 beta_i} u_l^T B_i u_l / n (its w2_i) and b2(l) = (1^T u_l)^2 / n.
struct Spectrum {
  double lambda_max = 0.0;
  Vec values;   ///< kept eigenvalues, descending
  Matrix in;    ///< k x L
  Matrix out;   ///< k x L
  Vec b2;       ///< L
  double smoothed = 0.0;  ///< F_mu = mu log sum_l exp(lambda_l / mu)
  Vec weights;            ///< softmax weights p_l of the kept eigenpairs
};

/// Evaluates K(beta) in the Gram form (n x n) or the parameter form (P x P). `included(i)` false
/// means neuron i's terms are left out (dead neurons, and w2_i = 0 ones driven to alpha_i = 0).
class RescaledSpectrum {
 public:
  RescaledSpectrum(const ShallowReluNet& net, const Dataset& data, const Eigen::ArrayXd& included)
      : net_(net), data_(data), included_(included), factors_(neuron_factors(net, data)) {
    use_gram_ = data.n() <= net.n_params();
    if (use_gram_) {
      inputs_kernel_ = data.X * data.X.transpose();
      inputs_kernel_.array() += 1.0;
    } else {
      parameter_gn_ = gauss_newton_matrix(net, data);
    }
  }

  Spectrum operator()(const Vec& beta, double mu) const {
    const Eigen::ArrayXd down = (-beta.array()).exp() * included_;  // e^{-beta_i}: W1_i, b1_i
    const Eigen::ArrayXd up = beta.array().exp() * included_;        // e^{beta_i}: w2_i
    Eigen::SelfAdjointEigenSolver<Matrix> solver(use_gram_ ? gram(down, up)
                                                           : parameter_form(down, up));
    require(solver.info() == Eigen::Success, "flattest_implementation: eigensolver failed");
    const Vec& all = solver.eigenvalues();  // ascending
    const Index m = all.size();
    Spectrum s;
    s.lambda_max = all[m - 1];
    Index kept = 1;
    while (kept < m && all[m - 1 - kept] >= s.lambda_max - kSoftmaxCutoff * mu) ++kept;
    s.values = all.tail(kept).reverse();
    const Matrix vectors = solver.eigenvectors().rightCols(kept).rowwise().reverse();
    energies(vectors, s, down, up);
    const Eigen::ArrayXd shifted = ((s.values.array() - s.lambda_max) / mu).exp();
    s.weights = shifted / shifted.sum();
    s.smoothed = s.lambda_max + mu * std::log(shifted.sum());
    return s;
  }

 private:
  Matrix gram(const Eigen::ArrayXd& down, const Eigen::ArrayXd& up) const {
    // K = (1/n)[(G G^T) o (X X^T + 1) + R R^T + 1] with G, R the factors scaled per neuron
    // (Mulayoff et al. 2021, eqs. 26-28, rescaled).
    const RowMatrix G = factors_.gated * down.matrix().asDiagonal();
    const RowMatrix R = factors_.relu * up.matrix().asDiagonal();
    Matrix K = (G * G.transpose()).cwiseProduct(inputs_kernel_) + R * R.transpose();
    K.array() += 1.0;
    return K / static_cast<double>(data_.n());
  }

  /// S G0 S with S = diag(e^{-beta_i} on W1_i and b1_i, e^{beta_i} on w2_i, 1 on b2).
  Matrix parameter_form(const Eigen::ArrayXd& down, const Eigen::ArrayXd& up) const {
    const Index d = net_.input_dim();
    const Index k = net_.width();
    Vec S(net_.n_params());
    for (Index i = 0; i < k; ++i) {
      S.segment(i * d, d).setConstant(down[i]);
      S[net_.offset_b1() + i] = down[i];
      S[net_.offset_w2() + i] = up[i];
    }
    S[net_.offset_b2()] = 1.0;
    return S.asDiagonal() * parameter_gn_ * S.asDiagonal();
  }

  void energies(const Matrix& vectors, Spectrum& s, const Eigen::ArrayXd& down,
                const Eigen::ArrayXd& up) const {
    const Index k = net_.width();
    const Index d = net_.input_dim();
    const Index L = vectors.cols();
    const double n = static_cast<double>(data_.n());
    if (use_gram_) {
      // u^T A_i u = w2_i^2 (||X^T D_i u||^2 + (1^T D_i u)^2); the gated factor carries w2_i D_i.
      Matrix in = (factors_.gated.transpose() * vectors).array().square().matrix();
      for (Index c = 0; c < d; ++c) {
        const RowMatrix weighted = data_.X.col(c).asDiagonal() * factors_.gated;
        in += (weighted.transpose() * vectors).array().square().matrix();
      }
      s.in = (down.square().matrix().asDiagonal() * in) / n;
      s.out = (up.square().matrix().asDiagonal() *
               (factors_.relu.transpose() * vectors).array().square().matrix()) / n;
      s.b2 = vectors.colwise().sum().array().square().matrix().transpose() / n;
      return;
    }
    // Parameter form: for G v = lambda v the block energies are lambda ||v_block||^2, the same
    // numbers as in the Gram form with u = Y^T v / sqrt(n lambda), Y = S Phi.
    s.in = Matrix::Zero(k, L);
    s.out = Matrix::Zero(k, L);
    s.b2 = Vec::Zero(L);
    for (Index l = 0; l < L; ++l) {
      const auto v = vectors.col(l);
      const double lambda = s.values[l];
      for (Index i = 0; i < k; ++i) {
        s.in(i, l) = lambda * (v.segment(i * d, d).squaredNorm() +
                               v[net_.offset_b1() + i] * v[net_.offset_b1() + i]);
        s.out(i, l) = lambda * v[net_.offset_w2() + i] * v[net_.offset_w2() + i];
      }
      s.b2[l] = lambda * v[net_.offset_b2()] * v[net_.offset_b2()];
    }
  }

  const ShallowReluNet& net_;
  const Dataset& data_;
  Eigen::ArrayXd included_;
  Factors factors_;
  bool use_gram_ = true;
  Matrix inputs_kernel_;  ///< X X^T + 1 1^T (Gram form)
  Matrix parameter_gn_;   ///< Phi Phi^T / n at beta = 0 (parameter form)
};

/// The weighted energies of Z = sum_l p_l u_l u_l^T and what follows from them.
struct DualView {
  Vec gradient;        ///< d F_mu / d beta_i = 2 (<e^{2b} B_i, Z> - <e^{-2b} A_i, Z>) / n
  double dual = 0.0;   ///< D(Z) = 1^T Z 1 / n + 2 sum_i sqrt(<A_i, Z> <B_i, Z>) / n
  double mean = 0.0;   ///< sum_l p_l lambda_l = <K(beta), Z>
};

DualView dual_view(const Spectrum& s) {
  const Vec in = s.in * s.weights;
  const Vec out = s.out * s.weights;
  DualView v;
  v.gradient = 2.0 * (out - in);
  v.dual = s.b2.dot(s.weights) + 2.0 * (in.array() * out.array()).sqrt().sum();
  v.mean = s.values.dot(s.weights);
  return v;
}

}  // namespace

ShallowReluNet rescale_neurons(const ShallowReluNet& net, const Vec& scales) {
  require(scales.size() == net.width(), "rescale_neurons: expected " + std::to_string(net.width()) +
                                            " scales (one per neuron), got " +
                                            std::to_string(scales.size()));
  ShallowReluNet out = net;
  for (Index i = 0; i < net.width(); ++i) {
    const double a = scales[i];
    require(std::isfinite(a) && a >= 0.0, "rescale_neurons: scale " + std::to_string(i) +
                                              ": expected a finite number >= 0, got " +
                                              std::to_string(a));
    if (a == 0.0) {
      require(net.w2()[i] == 0.0, "rescale_neurons: scale " + std::to_string(i) +
                                      " is 0 but the neuron's output weight is not");
      out.W1().row(i).setZero();
      out.b1()[i] = 0.0;
      continue;
    }
    out.W1().row(i) *= a;
    out.b1()[i] *= a;
    out.w2()[i] /= a;
  }
  return out;
}

FlattestResult flattest_implementation(const ShallowReluNet& net, const Dataset& data,
                                       const FlattestOptions& options) {
  require_relu(net, "flattest_implementation");
  require(net.width() >= 1, "flattest_implementation: the net is empty (width 0)");
  validate_dataset(data, "flattest_implementation: data");
  require(data.dim() == net.input_dim(),
          "flattest_implementation: data: expected input dimension " +
              std::to_string(net.input_dim()) + " (the net's), got " + std::to_string(data.dim()));
  require(options.tol > 0.0 && options.max_iter >= 0,
          "flattest_implementation: expected tol > 0 and max_iter >= 0");
  const Index size = std::min(data.n(), net.n_params());
  require(size <= options.dense_max,
          "flattest_implementation: the eigenproblem has size min(n, P) = " + std::to_string(size) +
              ", above dense_max = " + std::to_string(options.dense_max));

  const Index k = net.width();
  const Factors factors = neuron_factors(net, data);
  // A neuron active nowhere has A_i = B_i = 0 and is dropped. One with w2_i = 0 but active somewhere
  // has A_i = 0 != B_i: F decreases as beta_i -> -infinity, so its term is dropped too (alpha_i = 0).
  Eigen::ArrayXd included = Eigen::ArrayXd::Zero(k);
  Vec scales = Vec::Ones(k);
  std::vector<Index> free_neurons;
  for (Index i = 0; i < k; ++i) {
    const bool active = factors.relu.col(i).maxCoeff() > 0.0;
    if (!active) continue;
    if (net.w2()[i] == 0.0) {
      scales[i] = 0.0;
      continue;
    }
    included[i] = 1.0;
    free_neurons.push_back(i);
  }
  const Index m = static_cast<Index>(free_neurons.size());
  const RescaledSpectrum spectrum(net, data, included);

  // Warm start (Mulayoff et al. 2021, App. XI; our method): balance each neuron's terms for u = 1 / sqrt(n):
  // e^{4 beta_i} = <A_i, 1 1^T> / <B_i, 1 1^T>.
  // The same Z0 gives the first dual bound, D(Z0) = 1 + (2/n^2) sum_i sqrt(1^T A_i 1 1^T B_i 1): the
  // per-implementation bound of Mulayoff et al. 2021, Lemma 4.
  Vec beta = Vec::Zero(k);
  const double n = static_cast<double>(data.n());
  double balanced_sum = 0.0;
  for (const Index i : free_neurons) {
    const double in = std::pow(factors.gated.col(i).sum(), 2) +
                      (data.X.transpose() * factors.gated.col(i)).squaredNorm();
    const double out = std::pow(factors.relu.col(i).sum(), 2);
    beta[i] = 0.25 * std::log(in / out);
    balanced_sum += std::sqrt(in * out);
  }
  const double uniform_dual = 1.0 + 2.0 * balanced_sum / (n * n);

  FlattestResult result;
  result.optimised_neurons = m;
  {
    // beta = 0 with every neuron's terms in: the Gauss-Newton sharpness of the given parameters.
    Eigen::ArrayXd all = Eigen::ArrayXd::Zero(k);
    for (Index i = 0; i < k; ++i) all[i] = factors.relu.col(i).maxCoeff() > 0.0 ? 1.0 : 0.0;
    result.initial_sharpness = RescaledSpectrum(net, data, all)(Vec::Zero(k), 1.0).lambda_max;
  }

  double mu = 1.0;
  Spectrum current = spectrum(beta, mu);
  result.warm_start_sharpness = current.lambda_max;
  mu = kInitialSmoothing * current.lambda_max;
  current = spectrum(beta, mu);

  Vec best_beta = beta;
  double best_value = current.lambda_max;
  double best_dual = uniform_dual;
  const auto restrict_to_free = [&](const Vec& full) {
    Vec g(m);
    for (Index f = 0; f < m; ++f) g[f] = full[free_neurons[static_cast<std::size_t>(f)]];
    return g;
  };
  const auto gap_closed = [&] { return best_value - best_dual <= options.tol * best_value; };

  std::deque<std::pair<Vec, Vec>> memory;
  DualView view = dual_view(current);
  best_dual = std::max(best_dual, view.dual);
  int iterations = 0;
  // Smallest useful smoothing: below it the smoothed and plain problems agree to rounding.
  const double min_mu = 1e-3 * options.tol * best_value;
  while (!gap_closed() && iterations < options.max_iter && mu >= min_mu && m > 0) {
    // Solved for this mu once the imbalance part of the gap, sum_i (sqrt<A_i,Z> - sqrt<B_i,Z>)^2 =
    // <K, Z> - D(Z), is below the part smoothing causes, lambda_max - <K, Z>.
    const double smoothing_gap = current.lambda_max - view.mean;
    const double imbalance_gap = view.mean - view.dual;
    if (imbalance_gap <= 0.5 * std::max(smoothing_gap, options.tol * best_value)) {
      mu /= kSmoothingDecrease;
      memory.clear();
      current = spectrum(beta, mu);
      view = dual_view(current);
      best_dual = std::max(best_dual, view.dual);
      continue;
    }
    ++iterations;
    const Vec gradient = restrict_to_free(view.gradient);
    Vec direction = detail::lbfgs_direction(gradient, memory);
    if (direction.dot(gradient) >= 0.0) {
      memory.clear();
      direction = -gradient;
    }
    const double largest = direction.lpNorm<Eigen::Infinity>();
    if (largest > kMaxLogScaleStep) direction *= kMaxLogScaleStep / largest;
    const double slope = direction.dot(gradient);

    double step = 1.0;
    bool accepted = false;
    Vec trial_beta = beta;
    Spectrum trial;
    for (int halving = 0; halving < kMaxHalvings; ++halving, step *= 0.5) {
      for (Index f = 0; f < m; ++f) {
        const Index i = free_neurons[static_cast<std::size_t>(f)];
        trial_beta[i] = beta[i] + step * direction[f];
      }
      trial = spectrum(trial_beta, mu);
      if (trial.smoothed <= current.smoothed + kArmijo * step * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      // No decrease at this smoothing within rounding: go on with a smaller mu.
      mu /= kSmoothingDecrease;
      memory.clear();
      current = spectrum(beta, mu);
      view = dual_view(current);
      best_dual = std::max(best_dual, view.dual);
      continue;
    }
    const DualView trial_view = dual_view(trial);
    Vec s = restrict_to_free(trial_beta - beta);
    Vec y = restrict_to_free(trial_view.gradient) - gradient;
    if (s.dot(y) > 1e-12 * s.norm() * y.norm()) {
      memory.emplace_back(std::move(s), std::move(y));
      if (memory.size() > static_cast<std::size_t>(kLbfgsMemory)) memory.pop_front();
    }
    beta = trial_beta;
    current = std::move(trial);
    view = trial_view;
    best_dual = std::max(best_dual, view.dual);
    if (current.lambda_max < best_value) {
      best_value = current.lambda_max;
      best_beta = beta;
    }
  }

  result.sharpness = best_value;
  result.lower_bound = best_dual;
  result.iterations = iterations;
  result.converged = gap_closed() || m == 0;
  if (m == 0) result.lower_bound = best_value;  // K is constant: nothing to optimise
  for (const Index i : free_neurons) scales[i] = std::exp(best_beta[i]);
  result.scales = scales;
  result.net = rescale_neurons(net, scales);
  return result;
}

}  // namespace relustab
