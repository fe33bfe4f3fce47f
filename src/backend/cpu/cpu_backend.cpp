// SPDX-License-Identifier: MIT
#include "cpu_backend.h"

#include "../../core/block_reduce.h"

#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>

namespace relustab::cpu {
namespace {

/// Writes relu(W1_i . x_j + b1_i) for the rows x_j of X into `relu` (m x k). Neuron i is active at
/// x_j iff entry (j, i) is > 0, i.e. iff its pre-activation is > 0 (relu'(0) = 0), so this one matrix
/// carries both the hidden outputs and the activity pattern. The pre-activation is a product then a
/// separate addition (no FMA), so for d = 1 it is w x + b rounded twice, as the univariate back end
/// computes it.
void hidden_relu(const ShallowReluNet& net, const Eigen::Ref<const RowMatrix>& X, RowMatrix& relu) {
  relu.resize(X.rows(), net.width());
  relu.noalias() = X * net.W1().transpose();
  relu.rowwise() += net.b1().transpose();
  relu = relu.cwiseMax(0.0);
}

/// Residuals f(x_j) - y_j of the block's rows from their hidden outputs.
Vec block_residuals(const ShallowReluNet& net, const RowMatrix& relu, const Eigen::Ref<const Vec>& y) {
  return relu * net.w2() + Vec::Constant(relu.rows(), net.b2()) - y;
}

/// Writes the parameter vector whose blocks are W1: M^T X, b1: the column sums of M, w2: `w2_part`,
/// b2: `b2_part` into `out` (length n_params). With M_ji = d(sum_j c_j f(x_j))/d pre_ji this is the
/// transposed Jacobian applied to c, plus whatever second-order terms M and w2_part carry. This one
/// routine serves the gradient and both curvature products, keeping one copy of the layout.
void write_parameter_vector(const ShallowReluNet& net, const Eigen::Ref<const RowMatrix>& X,
                            const RowMatrix& M, const Vec& w2_part, double b2_part,
                            Eigen::Ref<Vec> out) {
  const Index d = net.input_dim();
  const Index k = net.width();
  Eigen::Map<RowMatrix>(out.data(), k, d).noalias() = M.transpose() * X;
  out.segment(net.offset_b1(), k) = M.colwise().sum().transpose();
  out.segment(net.offset_w2(), k) = w2_part;
  out[net.offset_b2()] = b2_part;
}

/// The direction v of a curvature product, read in place through the parameter layout.
struct Direction {
  Eigen::Map<const RowMatrix> W1;
  Eigen::Map<const Vec> b1, w2;
  double b2;
  Direction(const ShallowReluNet& net, const Vec& v)
      : W1(v.data(), net.width(), net.input_dim()), b1(v.data() + net.offset_b1(), net.width()),
        w2(v.data() + net.offset_w2(), net.width()), b2(v[net.offset_b2()]) {}
};

/// The curvature operator keeps what does not depend on the direction v (the hidden outputs, which
/// also give the activity pattern, and the residuals: one n x k matrix and n numbers), computed once
/// per block at construction, so each apply() costs two matrix products per block instead of three.
/// It also keeps its block buffers from one product to the next.
class CurvatureOperator final : public LinearOperator {
 public:
  CurvatureOperator(const ShallowReluNet& net, const Dataset& data, CurvatureKind kind,
                    const RunContext& context)
      : net_(net), data_(data), kind_(kind), context_(context),
        relu_(data.n(), net.width()), residual_(data.n()) {
    detail::for_each_block(data_.n(), context_, [&](Index begin, Index end) {
      const Index m = end - begin;
      RowMatrix relu;
      hidden_relu(net_, data_.X.middleRows(begin, m), relu);
      residual_.segment(begin, m) = block_residuals(net_, relu, data_.y.segment(begin, m));
      relu_.middleRows(begin, m) = relu;
    });
  }

  Index size() const override { return net_.n_params(); }

  void apply(const Vec& v, Vec& out) const override {
    require(v.size() == net_.n_params(), "curvature operator: vector length mismatch");
    const Index n = data_.n();
    const Direction direction(net_, v);
    detail::BufferLease lease(buffers_mutex_, buffers_);
    detail::BlockBuffers& buffers = lease.get();
    detail::block_reduce(
        n, net_.n_params(), context_, out,
        [&](Index begin, Index end, Vec& partial) {
          RowMatrix& scratch = buffers.scratch[static_cast<size_t>(begin / detail::kSamplesPerBlock)];
          apply_block(direction, begin, end, scratch, partial);
        },
        &buffers);
    out /= static_cast<double>(n);
  }

 private:
  /// sum over the block's samples j of grad f_j (grad f_j . v) [+ r_j Hess f_j v for the Hessian]
  /// (Mulayoff et al. 2021, eqs. 26-28). Per neuron the only non-zero entries of Hess f_j couple w2_i with W1_i (value
  /// 1{active} x_j) and with b1_i (value 1{active}). `G` is an m x k scratch matrix.
  void apply_block(const Direction& direction, Index begin, Index end, RowMatrix& G,
                   Vec& partial) const {
    const Index m = end - begin;
    const Index k = net_.width();
    const auto X = data_.X.middleRows(begin, m);
    const auto relu = relu_.middleRows(begin, m);
    const auto r = residual_.segment(begin, m);
    const bool hessian = kind_ == CurvatureKind::Hessian;
    // G_ji = 1{active_ji} (VW1_i . x_j + vb1_i): the directional derivative of neuron i's output.
    G.resize(m, k);
    G.noalias() = X * direction.W1.transpose();
    G.rowwise() += direction.b1.transpose();
    G = (relu.array() > 0.0).select(G, 0.0);
    // J v per sample: sum_i [w2_i G_ji + relu_ji vw2_i] + vb2.
    const Vec Jv = G * net_.w2() + relu * direction.w2 + Vec::Constant(m, direction.b2);
    // w2 entries: sum_j relu_ji (J v)_j, and for the Hessian the cross term sum_j r_j G_ji.
    Vec w2_part = relu.transpose() * Jv;
    if (hessian) w2_part.noalias() += G.transpose() * r;
    // M_ji = 1{active_ji} (w2_i (J v)_j [+ r_j vw2_i]), in G's storage.
    RowMatrix& M = G;
    const auto w2 = net_.w2();
    for (Index j = 0; j < m; ++j) {
      const double jv = Jv[j];
      const double rj = hessian ? r[j] : 0.0;
      for (Index i = 0; i < k; ++i) {
        M(j, i) = relu(j, i) > 0.0 ? w2[i] * jv + rj * direction.w2[i] : 0.0;
      }
    }
    partial.resize(net_.n_params());
    write_parameter_vector(net_, X, M, w2_part, Jv.sum(), partial);
  }

  const ShallowReluNet& net_;
  const Dataset& data_;
  CurvatureKind kind_;
  RunContext context_;
  RowMatrix relu_;  ///< n x k hidden outputs; > 0 exactly where a neuron is active
  Vec residual_;    ///< n residuals f(x_j) - y_j
  mutable std::mutex buffers_mutex_;
  mutable detail::BlockBuffers buffers_;
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
  detail::BufferLease lease(buffers_mutex_, buffers_);
  detail::BlockBuffers& buffers = lease.get();
  detail::block_reduce(
      m, p + 1, context_, total,
      [&](Index begin, Index end, Vec& partial) {
        const auto Xb = X->middleRows(begin, end - begin);
        // The block's hidden outputs, then (for the gradient) M in the same storage.
        RowMatrix& relu = buffers.scratch[static_cast<size_t>(begin / detail::kSamplesPerBlock)];
        hidden_relu(net, Xb, relu);
        const Vec r = block_residuals(net, relu, y->segment(begin, end - begin));
        partial.resize(p + 1);
        partial[p] = r.squaredNorm();
        if (grad == nullptr) {
          partial.head(p).setZero();
          return;
        }
        // sum_j r_j grad f_j: w2 entries relu^T r; M_ji = 1{active_ji} w2_i r_j.
        const Vec w2_part = relu.transpose() * r;
        RowMatrix& M = relu;
        const auto w2 = net.w2();
        for (Index j = 0; j < M.rows(); ++j) {
          for (Index i = 0; i < M.cols(); ++i) M(j, i) = M(j, i) > 0.0 ? w2[i] * r[j] : 0.0;
        }
        write_parameter_vector(net, Xb, M, w2_part, r.sum(), partial.head(p));
      },
      &buffers);
  if (grad != nullptr) *grad = total.head(p) / static_cast<double>(m);
  return total[p] / (2.0 * static_cast<double>(m));
}

std::unique_ptr<LinearOperator> CpuBackend::curvature(const ShallowReluNet& net,
                                                      const Dataset& data,
                                                      CurvatureKind kind) const {
  require_compatible(net, data);
  return std::make_unique<CurvatureOperator>(net, data, kind, context_);
}

Matrix CpuBackend::dense_curvature(const ShallowReluNet& net, const Dataset& data,
                                  CurvatureKind kind) const {
  require_compatible(net, data);
  // The explicit ReLU formulas (relu'(0) = 0 like the operator): an independent route to its matrix.
  return kind == CurvatureKind::Hessian ? dense_hessian(net, data) : gauss_newton_matrix(net, data);
}

}  // namespace relustab::cpu
