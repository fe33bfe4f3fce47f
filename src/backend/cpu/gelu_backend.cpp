// SPDX-License-Identifier: MIT
#include "gelu_backend.h"

#include "../../core/block_reduce.h"

#include <relustab/core/error.h>

#include <cmath>
#include <numbers>
#include <vector>

namespace relustab::cpu {
namespace {

/// Per-block quantities at the current parameters for the rows [begin, end) of the (sub)data set.
struct Activations {
  RowMatrix value;  ///< m x k, gelu(z_ji), z_ji = W1_i . x_j + b1_i
  RowMatrix slope;  ///< m x k, gelu'(z_ji)
  RowMatrix curve;  ///< m x k, gelu''(z_ji); filled only when the Hessian needs it
};

Activations activations(const ShallowReluNet& net, const Eigen::Ref<const RowMatrix>& X,
                        bool with_curve) {
  RowMatrix pre = X * net.W1().transpose();
  pre.rowwise() += net.b1().transpose();
  const double inv_sqrt2 = 1.0 / std::numbers::sqrt2;
  const double inv_sqrt_2pi = 0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2;
  Activations a;
  a.value.resize(pre.rows(), pre.cols());
  a.slope.resize(pre.rows(), pre.cols());
  if (with_curve) a.curve.resize(pre.rows(), pre.cols());
  for (Index j = 0; j < pre.rows(); ++j) {
    for (Index i = 0; i < pre.cols(); ++i) {
      const double z = pre(j, i);
      // erfc keeps Phi accurate in the far left tail, where 1 + erf(z/sqrt 2) would cancel.
      const double cdf = 0.5 * std::erfc(-z * inv_sqrt2);
      const double pdf = inv_sqrt_2pi * std::exp(-0.5 * z * z);
      a.value(j, i) = z * cdf;
      a.slope(j, i) = cdf + z * pdf;
      if (with_curve) a.curve(j, i) = pdf * (2.0 - z * z);
    }
  }
  return a;
}

/// Writes sum_j coef_j * grad f(x_j) + (second-order term) into `out`, given per-sample coefficients.
/// With M_ji = slope_ji * w2_i * coef_j + extra_ji, the W1 block is M^T X, the b1 block the column
/// sums of M; the w2 block is value^T coef + w2_extra; b2 the sum of coef. One routine for the
/// gradient (coef = r) and both curvature products (coef = J v), as in the ReLU back end.
void accumulate_transpose_jacobian(const ShallowReluNet& net, const Eigen::Ref<const RowMatrix>& X,
                                   const Activations& a, const Vec& coef, const RowMatrix* m_extra,
                                   const Vec* w2_extra, Vec& out) {
  const Index d = net.input_dim();
  const Index k = net.width();
  RowMatrix M = a.slope.array().colwise() * coef.array();
  M.array().rowwise() *= net.w2().transpose().array();
  if (m_extra != nullptr) M += *m_extra;
  out.resize(net.n_params());
  Eigen::Map<RowMatrix>(out.data(), k, d).noalias() = M.transpose() * X;
  out.segment(net.offset_b1(), k) = M.colwise().sum().transpose();
  out.segment(net.offset_w2(), k).noalias() = a.value.transpose() * coef;
  if (w2_extra != nullptr) out.segment(net.offset_w2(), k) += *w2_extra;
  out[net.offset_b2()] = coef.sum();
}

class CurvatureOperator final : public LinearOperator {
 public:
  /// Computes the activations (and, for the Hessian, the residuals) of every block once, on the
  /// blocks block_reduce will use, so a product costs matrix products only: the GeLU values need
  /// erfc and exp, which would otherwise dominate every product.
  CurvatureOperator(const ShallowReluNet& net, const Dataset& data, CurvatureKind kind,
                    const RunContext& context)
      : net_(net), data_(data), kind_(kind), context_(context) {
    const bool hessian = kind_ == CurvatureKind::Hessian;
    const Index n = data_.n();
    blocks_.resize(static_cast<size_t>(detail::block_count(n)));
    residuals_.resize(blocks_.size());
    detail::for_each_block(n, context_, [&](Index begin, Index end) {
      const size_t b = static_cast<size_t>(begin / detail::kSamplesPerBlock);
      blocks_[b] = activations(net_, data_.X.middleRows(begin, end - begin), hessian);
      if (hessian) {
        residuals_[b] = blocks_[b].value * net_.w2() + Vec::Constant(end - begin, net_.b2()) -
                        data_.y.segment(begin, end - begin);
      }
    });
  }

  Index size() const override { return net_.n_params(); }

  void apply(const Vec& v, Vec& out) const override {
    require(v.size() == net_.n_params(), "curvature operator: vector length mismatch");
    const Index n = data_.n();
    const ShallowReluNet direction(net_.input_dim(), net_.width(), v);
    detail::block_reduce(n, net_.n_params(), context_, out,
                         [&](Index begin, Index end, Vec& partial) {
                           apply_block(direction, begin, end, partial);
                         });
    out /= static_cast<double>(n);
  }

 private:
  void apply_block(const ShallowReluNet& direction, Index begin, Index end, Vec& partial) const {
    const auto X = data_.X.middleRows(begin, end - begin);
    const bool hessian = kind_ == CurvatureKind::Hessian;
    const size_t block = static_cast<size_t>(begin / detail::kSamplesPerBlock);
    const Activations& a = blocks_[block];
    // Z_ji = VW1_i . x_j + vb1_i: the directional derivative of neuron i's pre-activation.
    RowMatrix Z = X * direction.W1().transpose();
    Z.rowwise() += direction.b1().transpose();
    // J v per sample: sum_i [w2_i gelu'_ji Z_ji + gelu_ji vw2_i] + vb2.
    const Vec Jv = a.slope.cwiseProduct(Z) * net_.w2() + a.value * direction.w2() +
                   Vec::Constant(end - begin, direction.b2());
    if (!hessian) {
      accumulate_transpose_jacobian(net_, X, a, Jv, nullptr, nullptr, partial);
      return;
    }
    // Second-order term sum_j r_j Hess f_j v (see GeluBackend): the (W1_i, b1_i) entries get
    // r_j [w2_i gelu''_ji Z_ji + vw2_i gelu'_ji], the w2_i entry r_j gelu'_ji Z_ji.
    const Vec& r = residuals_[block];
    const RowMatrix slope_z = a.slope.cwiseProduct(Z);
    const Vec w2_extra = slope_z.transpose() * r;
    RowMatrix extra = a.curve.cwiseProduct(Z);
    extra.array().rowwise() *= net_.w2().transpose().array();
    extra.array() += a.slope.array().rowwise() * direction.w2().transpose().array();
    extra.array().colwise() *= r.array();
    accumulate_transpose_jacobian(net_, X, a, Jv, &extra, &w2_extra, partial);
  }

  const ShallowReluNet& net_;
  const Dataset& data_;
  CurvatureKind kind_;
  RunContext context_;
  std::vector<Activations> blocks_;  ///< per block of detail::kSamplesPerBlock samples
  std::vector<Vec> residuals_;       ///< per block; Hessian only
};

/// The checks every entry point needs before indexing: matching dimension, one target per sample,
/// and at least one sample (the loss divides by n).
void require_compatible(const ShallowReluNet& net, const Dataset& data) {
  require(data.dim() == net.input_dim(),
          "data: expected input dimension " + std::to_string(net.input_dim()) + " (the net's), got " +
              std::to_string(data.dim()));
  require(data.n() >= 1, "data: expected at least one sample");
  require(data.y.size() == data.n(), "data: expected " + std::to_string(data.n()) +
                                         " targets (one per sample), got " +
                                         std::to_string(data.y.size()));
}

}  // namespace

double GeluBackend::loss_and_grad(const ShallowReluNet& net, const Dataset& data,
                                  std::span<const Index> rows, Vec* grad) const {
  require_compatible(net, data);
  // A mini-batch is gathered into its own rows first; the full batch is used in place.
  RowMatrix gathered;
  Vec gathered_y;
  const RowMatrix* X = &data.X;
  const Vec* y = &data.y;
  if (!rows.empty()) {
    gathered.resize(static_cast<Index>(rows.size()), data.dim());
    gathered_y.resize(static_cast<Index>(rows.size()));
    for (size_t b = 0; b < rows.size(); ++b) {
      require(rows[b] >= 0 && rows[b] < data.n(),
              "rows: sample index " + std::to_string(rows[b]) + " out of range [0, " +
                  std::to_string(data.n()) + ")");
      gathered.row(static_cast<Index>(b)) = data.X.row(rows[b]);
      gathered_y[static_cast<Index>(b)] = data.y[rows[b]];
    }
    X = &gathered;
    y = &gathered_y;
  }
  const Index m = X->rows();
  // Slot n_params() of the reduced vector carries the sum of squared residuals.
  const Index p = net.n_params();
  Vec total;
  detail::block_reduce(m, p + 1, context_, total, [&](Index begin, Index end, Vec& partial) {
    const auto Xb = X->middleRows(begin, end - begin);
    const Activations a = activations(net, Xb, false);
    const Vec r = a.value * net.w2() + Vec::Constant(end - begin, net.b2()) -
                  y->segment(begin, end - begin);
    partial.resize(p + 1);
    if (grad != nullptr) {
      Vec g;
      accumulate_transpose_jacobian(net, Xb, a, r, nullptr, nullptr, g);
      partial.head(p) = g;
    } else {
      partial.head(p).setZero();
    }
    partial[p] = r.squaredNorm();
  });
  if (grad != nullptr) *grad = total.head(p) / static_cast<double>(m);
  return total[p] / (2.0 * static_cast<double>(m));
}

std::unique_ptr<LinearOperator> GeluBackend::curvature(const ShallowReluNet& net,
                                                       const Dataset& data,
                                                       CurvatureKind kind) const {
  require_compatible(net, data);
  return std::make_unique<CurvatureOperator>(net, data, kind, context_);
}

Matrix GeluBackend::dense_curvature(const ShallowReluNet& net, const Dataset& data,
                                   CurvatureKind kind) const {
  require_compatible(net, data);
  const Index n = data.n();
  const Index d = net.input_dim();
  const Index k = net.width();
  const bool hessian = kind == CurvatureKind::Hessian;
  const Activations a = activations(net, data.X, hessian);
  // Tangent features Phi (P x n), column j = grad f(x_j): W1_ic -> w2_i gelu'_ji x_jc,
  // b1_i -> w2_i gelu'_ji, w2_i -> gelu_ji, b2 -> 1.
  const RowMatrix gated_w2 = a.slope.array().rowwise() * net.w2().transpose().array();
  Matrix Phi(net.n_params(), n);
  for (Index i = 0; i < k; ++i) {
    for (Index c = 0; c < d; ++c) {
      Phi.row(i * d + c) = gated_w2.col(i).cwiseProduct(data.X.col(c)).transpose();
    }
  }
  Phi.middleRows(net.offset_b1(), k) = gated_w2.transpose();
  Phi.middleRows(net.offset_w2(), k) = a.value.transpose();
  Phi.row(net.offset_b2()).setOnes();
  const double inv_n = 1.0 / static_cast<double>(n);
  Matrix M = Matrix::Zero(net.n_params(), net.n_params());
  M.selfadjointView<Eigen::Lower>().rankUpdate(Phi, inv_n);
  M.triangularView<Eigen::StrictlyUpper>() = M.transpose();
  if (!hessian) return M;

  // The second-order term (1/n) sum_j r_j Hess f(x_j), neuron by neuron (see GeluBackend), with
  // x~_j = (x_j, 1) for the parameters (W1_i, b1_i): the (W1_i, b1_i) block
  // w2_i sum_j r_j gelu''_ji x~_j x~_j^T and the (w2_i, (W1_i, b1_i)) entries sum_j r_j gelu'_ji x~_j.
  const Vec r = a.value * net.w2() + Vec::Constant(n, net.b2()) - data.y;
  Matrix inputs(n, d + 1);
  inputs.leftCols(d) = data.X;
  inputs.col(d).setOnes();
  std::vector<Index> rows(static_cast<size_t>(d + 1));
  for (Index i = 0; i < k; ++i) {
    for (Index c = 0; c < d; ++c) rows[static_cast<size_t>(c)] = i * d + c;
    rows[static_cast<size_t>(d)] = net.offset_b1() + i;
    const Vec weight = net.w2()[i] * r.cwiseProduct(a.curve.col(i));
    const Matrix block = inputs.transpose() * (weight.asDiagonal() * inputs);
    const Vec cross = inputs.transpose() * r.cwiseProduct(a.slope.col(i));
    const Index w2_row = net.offset_w2() + i;
    // The same number into both mirror entries (the block's lower triangle), so M stays exactly
    // symmetric.
    for (Index p = 0; p <= d; ++p) {
      const Index row = rows[static_cast<size_t>(p)];
      for (Index q = 0; q < p; ++q) {
        const Index col = rows[static_cast<size_t>(q)];
        M(row, col) += inv_n * block(p, q);
        M(col, row) += inv_n * block(p, q);
      }
      M(row, row) += inv_n * block(p, p);
      M(row, w2_row) += inv_n * cross[p];
      M(w2_row, row) += inv_n * cross[p];
    }
  }
  return M;
}

}  // namespace relustab::cpu
