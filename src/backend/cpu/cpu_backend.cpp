// SPDX-License-Identifier: MIT
#include "cpu_backend.h"

#include "../../core/block_reduce.h"

#include <relustab/core/error.h>

namespace relustab::cpu {
namespace {

/// Per-block quantities at the current parameters: pre-activations' signs and values for the rows
/// [begin, end) of the (sub)data set.
struct Activations {
  RowMatrix active;  ///< m x k, 1 where W1_i . x_j + b1_i > 0 (relu'(0) = 0), else 0
  RowMatrix relu;    ///< m x k, relu(W1_i . x_j + b1_i)
};

Activations activations(const ShallowReluNet& net, const Eigen::Ref<const RowMatrix>& X) {
  RowMatrix pre = X * net.W1().transpose();
  pre.rowwise() += net.b1().transpose();
  Activations a;
  a.active = (pre.array() > 0.0).cast<double>();
  a.relu = pre.cwiseMax(0.0);
  return a;
}

/// Writes sum_j coef_j * grad f(x_j) + (second-order term) into `out`, given per-sample coefficients.
/// With M_ji = active_ji * (w2_i * coef_j + extra_ji), the W1 block is M^T X, the b1 block the column
/// sums of M; the w2 block is relu^T coef + w2_extra; b2 the sum of coef. This single routine serves
/// the gradient (coef = r) and both curvature products (coef = J v), keeping one copy of the layout.
void accumulate_transpose_jacobian(const ShallowReluNet& net, const Eigen::Ref<const RowMatrix>& X,
                                   const Activations& a, const Vec& coef, const RowMatrix* m_extra,
                                   const Vec* w2_extra, Vec& out) {
  const Index d = net.input_dim();
  const Index k = net.width();
  RowMatrix M = a.active.array().colwise() * coef.array();
  M.array().rowwise() *= net.w2().transpose().array();
  if (m_extra != nullptr) M += *m_extra;
  out.resize(net.n_params());
  Eigen::Map<RowMatrix>(out.data(), k, d).noalias() = M.transpose() * X;
  out.segment(net.offset_b1(), k) = M.colwise().sum().transpose();
  out.segment(net.offset_w2(), k).noalias() = a.relu.transpose() * coef;
  if (w2_extra != nullptr) out.segment(net.offset_w2(), k) += *w2_extra;
  out[net.offset_b2()] = coef.sum();
}

class CurvatureOperator final : public LinearOperator {
 public:
  CurvatureOperator(const ShallowReluNet& net, const Dataset& data, CurvatureKind kind, int threads)
      : net_(net), data_(data), kind_(kind), threads_(threads) {}

  Index size() const override { return net_.n_params(); }

  void apply(const Vec& v, Vec& out) const override {
    require(v.size() == net_.n_params(), "curvature operator: vector length mismatch");
    const Index n = data_.n();
    const ShallowReluNet direction(net_.input_dim(), net_.width(), v);
    detail::block_reduce(n, net_.n_params(), threads_, out,
                         [&](Index begin, Index end, Vec& partial) {
                           apply_block(direction, begin, end, partial);
                         });
    out /= static_cast<double>(n);
  }

 private:
  void apply_block(const ShallowReluNet& direction, Index begin, Index end, Vec& partial) const {
    const auto X = data_.X.middleRows(begin, end - begin);
    const Activations a = activations(net_, X);
    // Z_ji = VW1_i . x_j + vb1_i: the directional derivative of neuron i's pre-activation.
    RowMatrix Z = X * direction.W1().transpose();
    Z.rowwise() += direction.b1().transpose();
    // J v per sample: sum_i [w2_i a_ji Z_ji + relu_ji vw2_i] + vb2.
    const Vec Jv = a.active.cwiseProduct(Z) * net_.w2() + a.relu * direction.w2() +
                   Vec::Constant(end - begin, direction.b2());
    if (kind_ == CurvatureKind::GaussNewton) {
      accumulate_transpose_jacobian(net_, X, a, Jv, nullptr, nullptr, partial);
      return;
    }
    // Second-order term sum_j r_j Hess f_j v (SPEC.md 1.2): per neuron only the (w2_i, W1_i) and
    // (w2_i, b1_i) cross entries are non-zero.
    const Vec r = net_predict_rows(begin, end, a) - data_.y.segment(begin, end - begin);
    RowMatrix extra = a.active.array().colwise() * r.array();
    const Vec w2_extra = extra.cwiseProduct(Z).colwise().sum().transpose();
    extra.array().rowwise() *= direction.w2().transpose().array();
    accumulate_transpose_jacobian(net_, X, a, Jv, &extra, &w2_extra, partial);
  }

  Vec net_predict_rows(Index begin, Index end, const Activations& a) const {
    return a.relu * net_.w2() + Vec::Constant(end - begin, net_.b2());
  }

  const ShallowReluNet& net_;
  const Dataset& data_;
  CurvatureKind kind_;
  int threads_;
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

double CpuBackend::loss_and_grad(const ShallowReluNet& net, const Dataset& data,
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
  detail::block_reduce(m, p + 1, context_.threads, total, [&](Index begin, Index end, Vec& partial) {
    const auto Xb = X->middleRows(begin, end - begin);
    const Activations a = activations(net, Xb);
    const Vec r = a.relu * net.w2() + Vec::Constant(end - begin, net.b2()) -
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

std::unique_ptr<LinearOperator> CpuBackend::curvature(const ShallowReluNet& net,
                                                      const Dataset& data,
                                                      CurvatureKind kind) const {
  require_compatible(net, data);
  return std::make_unique<CurvatureOperator>(net, data, kind, context_.threads);
}

}  // namespace relustab::cpu
