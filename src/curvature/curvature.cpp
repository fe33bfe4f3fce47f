// SPDX-License-Identifier: MIT
// Dense curvature matrices of ReLU nets built from explicit formulas (Mulayoff et al. 2021, eqs. 26-28), and the sharpness
// drivers, which work with any back end.
#include <relustab/curvature/curvature.h>

#include <relustab/core/error.h>

#include <string>
#include <type_traits>

namespace relustab {
namespace {

void require_compatible(const ShallowReluNet& net, const Dataset& data, const char* what) {
  require_relu(net, what);  // the closed forms below are those of ReLU nets
  require(net.n_params() >= 1, std::string(what) + ": the net is empty (width 0)");
  require(data.n() >= 1, std::string(what) + ": expected a data set with at least one sample");
  require(data.dim() == net.input_dim(), std::string(what) + ": data: expected input dimension " +
                                             std::to_string(net.input_dim()) + " (the net's), got " +
                                             std::to_string(data.dim()));
  require(data.y.size() == data.n(), std::string(what) + ": data: expected " +
                                         std::to_string(data.n()) + " targets, got " +
                                         std::to_string(data.y.size()));
}

/// Pre-activations W1_i . x_j + b1_i, n x k. Neuron i counts as active at x_j when this is > 0
/// (relu'(0) = 0: a neuron exactly at a kink is off, README.md "Conventions").
RowMatrix pre_activations(const ShallowReluNet& net, const Dataset& data) {
  RowMatrix pre = data.X * net.W1().transpose();
  pre.rowwise() += net.b1().transpose();
  return pre;
}

void require_pattern(const ShallowReluNet& net, const Dataset& data,
                     const ActivationPattern& pattern, const char* what) {
  require(pattern.rows() == data.n() && pattern.cols() == net.width(),
          std::string(what) + ": expected an activation pattern of " + std::to_string(data.n()) +
              " x " + std::to_string(net.width()) + " (samples x neurons), got " +
              std::to_string(pattern.rows()) + " x " + std::to_string(pattern.cols()));
}

void require_dense_max(const SharpnessOptions& options) {
  require(options.dense_max >= 0, "dense_max: expected an integer >= 0, got " +
                                      std::to_string(options.dense_max));
}

/// One extreme eigenpair of the back end's curvature matrix of `kind`. The dense matrix comes from
/// the back end (Backend::dense_curvature), which knows its activation, and the dense eigenpair's
/// residual is measured with the back end's operator, so a dense matrix that is not the operator's
/// would show there.
template <class Net>
EigenResult curvature_extreme(const Backend& backend, const Net& net, const Dataset& data,
                              CurvatureKind kind, const SharpnessOptions& options, Which which) {
  require_activation_match(backend, net);
  require_dense_max(options);
  const bool small = net.n_params() <= options.dense_max;
  const auto op = backend.curvature(net, data, kind);
  const auto dense = [&] {
    EigenResult result = dense_extreme_eigenpair(backend.dense_curvature(net, data, kind), which);
    Vec applied;
    op->apply(result.vector, applied);
    result.residual = (applied - result.value * result.vector).norm();
    return result;
  };
  if (small && !backend.cheap_curvature_products()) return dense();
  EigenResult result = lanczos(*op, which, options.lanczos);
  // With cheap products Lanczos comes first even for small nets; the dense solver stays the
  // fallback for the rare case it does not reach the tolerance.
  if (!result.converged && small) return dense();
  return result;
}

}  // namespace

ActivationPattern activation_pattern(const ShallowReluNet& net, const Dataset& data) {
  require_compatible(net, data, "activation_pattern");
  return pre_activations(net, data).array() > 0.0;
}

Matrix tangent_features(const ShallowReluNet& net, const Dataset& data) {
  return tangent_features(net, data, activation_pattern(net, data));
}

Matrix gauss_newton_matrix(const ShallowReluNet& net, const Dataset& data) {
  return gauss_newton_matrix(net, data, activation_pattern(net, data));
}

Matrix dense_hessian(const ShallowReluNet& net, const Dataset& data) {
  return dense_hessian(net, data, activation_pattern(net, data));
}

Matrix tangent_features(const ShallowReluNet& net, const Dataset& data,
                        const ActivationPattern& pattern) {
  require_compatible(net, data, "tangent_features");
  require_pattern(net, data, pattern, "tangent_features");
  const Index n = data.n();
  const Index d = net.input_dim();
  const Index k = net.width();
  const RowMatrix pre = pre_activations(net, data);
  Matrix Phi = Matrix::Zero(net.n_params(), n);
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < k; ++i) {
      if (pattern(j, i)) {
        // d f / d W1_ic = w2_i x_jc, d f / d b1_i = w2_i and d f / d w2_i = z_ij on the active
        // side; 0 otherwise.
        for (Index c = 0; c < d; ++c) Phi(i * d + c, j) = net.w2()[i] * data.X(j, c);
        Phi(net.offset_b1() + i, j) = net.w2()[i];
        Phi(net.offset_w2() + i, j) = pre(j, i);
      }
    }
    Phi(net.offset_b2(), j) = 1.0;
  }
  return Phi;
}

Matrix gauss_newton_matrix(const ShallowReluNet& net, const Dataset& data,
                           const ActivationPattern& pattern) {
  require_compatible(net, data, "gauss_newton_matrix");
  const Matrix Phi = tangent_features(net, data, pattern);
  Matrix G = Matrix::Zero(Phi.rows(), Phi.rows());
  G.selfadjointView<Eigen::Lower>().rankUpdate(Phi, 1.0 / static_cast<double>(data.n()));
  G.triangularView<Eigen::StrictlyUpper>() = G.transpose();
  return G;
}

Matrix dense_hessian(const ShallowReluNet& net, const Dataset& data,
                     const ActivationPattern& pattern) {
  require_compatible(net, data, "dense_hessian");
  const Index n = data.n();
  const Index d = net.input_dim();
  const Index k = net.width();
  Matrix H = gauss_newton_matrix(net, data, pattern);
  // Second-order term (1/n) sum_j r_j Hess_theta f(x_j) (Mulayoff et al. 2021, eqs. 26-28): per neuron, the only non-zero
  // entries couple w2_i with W1_i (value 1{active} x_j) and with b1_i (value 1{active}). The
  // residuals are the mode's: f(x_j) sums z_ij over the neurons the pattern switches on.
  const RowMatrix pre = pre_activations(net, data);
  const RowMatrix mode_relu = pattern.select(pre.array(), 0.0).matrix();
  const Vec residual = mode_relu * net.w2() + Vec::Constant(n, net.b2()) - data.y;
  const double inv_n = 1.0 / static_cast<double>(n);
  for (Index i = 0; i < k; ++i) {
    const Index w2_row = net.offset_w2() + i;
    const Index b1_row = net.offset_b1() + i;
    double b1_entry = 0.0;
    Vec w1_entries = Vec::Zero(d);
    for (Index j = 0; j < n; ++j) {
      if (pattern(j, i)) {
        b1_entry += residual[j];
        w1_entries += residual[j] * data.X.row(j).transpose();
      }
    }
    H(w2_row, b1_row) += inv_n * b1_entry;
    H(b1_row, w2_row) += inv_n * b1_entry;
    for (Index c = 0; c < d; ++c) {
      H(w2_row, i * d + c) += inv_n * w1_entries[c];
      H(i * d + c, w2_row) += inv_n * w1_entries[c];
    }
  }
  return H;
}

Matrix gram_matrix(const ShallowReluNet& net, const Dataset& data) {
  require_compatible(net, data, "gram_matrix");
  const Index n = data.n();
  // K_jl = (1/n) [1 + sum_i (w2_i^2 a_ij a_il (x_j . x_l + 1) + relu_ij relu_il)] (Mulayoff et al. 2021, eqs. 26-28),
  // assembled from n x k factors rather than from Phi, so it is an independent route to the spectrum.
  const RowMatrix pre = pre_activations(net, data);
  const RowMatrix gated_w2 =
      (pre.array() > 0.0).cast<double>().rowwise() * net.w2().transpose().array();
  const RowMatrix relu = pre.cwiseMax(0.0);
  Matrix inputs_kernel = data.X * data.X.transpose();
  inputs_kernel.array() += 1.0;
  Matrix K = (gated_w2 * gated_w2.transpose()).cwiseProduct(inputs_kernel) +
             relu * relu.transpose();
  K.array() += 1.0;
  K /= static_cast<double>(n);
  return K;
}

namespace {

/// Phi Phi^T / n of a ReLU net through its n x n Gram form K = Phi^T Phi / n (n <= dense_max),
/// else Lanczos on the back end's Gauss-Newton operator.
EigenResult relu_gram_gn_sharpness(const Backend& backend, const ShallowReluNet& net,
                                   const Dataset& data, const SharpnessOptions& options) {
  const auto op = backend.curvature(net, data, CurvatureKind::GaussNewton);
  if (data.n() > options.dense_max) return lanczos(*op, Which::LargestAlgebraic, options.lanczos);

  // Phi Phi^T / n and K = Phi^T Phi / n share their non-zero eigenvalues: if K u = lambda u then
  // (Phi Phi^T / n)(Phi u) = lambda (Phi u). lambda_max > 0 always (the b2 row of Phi is all ones,
  // so K >= 11^T / n), hence Phi u != 0.
  const EigenResult gram = dense_extreme_eigenpair(gram_matrix(net, data), Which::LargestAlgebraic);
  EigenResult result;
  result.value = gram.value;
  result.vector = tangent_features(net, data) * gram.vector;
  result.vector /= result.vector.norm();
  Vec applied;
  op->apply(result.vector, applied);
  result.residual = (applied - result.value * result.vector).norm();
  result.converged = gram.converged;
  result.iterations = 0;
  return result;
}

/// The Gauss-Newton sharpness of either net type. Shallow ReLU nets use the Gram form when
/// n <= options.dense_max; everything else is curvature_extreme on the Gauss-Newton matrix.
template <class Net>
EigenResult gn_sharpness_of(const Backend& backend, const Net& net, const Dataset& data,
                            const SharpnessOptions& options) {
  require_activation_match(backend, net);
  require_dense_max(options);
  if constexpr (std::is_same_v<Net, ShallowReluNet>) {
    // The Gram form is assembled from the ReLU closed forms (gram_matrix, tangent_features).
    if (backend.activation() == Activation::Relu) return relu_gram_gn_sharpness(backend, net, data, options);
  }
  return curvature_extreme(backend, net, data, CurvatureKind::GaussNewton, options,
                           Which::LargestAlgebraic);
}

}  // namespace

EigenResult sharpness(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                      const SharpnessOptions& options) {
  return curvature_extreme(backend, net, data, CurvatureKind::Hessian, options,
                           Which::LargestAlgebraic);
}

EigenResult min_hessian_eigenvalue(const Backend& backend, const ShallowReluNet& net,
                                   const Dataset& data, const SharpnessOptions& options) {
  return curvature_extreme(backend, net, data, CurvatureKind::Hessian, options,
                           Which::SmallestAlgebraic);
}

EigenResult gn_sharpness(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                         const SharpnessOptions& options) {
  return gn_sharpness_of(backend, net, data, options);
}

EigenResult sharpness(const Backend& backend, const DeepReluNet& net, const Dataset& data,
                      const SharpnessOptions& options) {
  return curvature_extreme(backend, net, data, CurvatureKind::Hessian, options,
                           Which::LargestAlgebraic);
}

EigenResult min_hessian_eigenvalue(const Backend& backend, const DeepReluNet& net,
                                   const Dataset& data, const SharpnessOptions& options) {
  return curvature_extreme(backend, net, data, CurvatureKind::Hessian, options,
                           Which::SmallestAlgebraic);
}

EigenResult gn_sharpness(const Backend& backend, const DeepReluNet& net, const Dataset& data,
                         const SharpnessOptions& options) {
  return gn_sharpness_of(backend, net, data, options);
}

}  // namespace relustab
