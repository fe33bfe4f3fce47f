// SPDX-License-Identifier: MIT
// The CPU back end over an activation policy A (see cpu_backend.h for the formulas). For ReLU the
// slope is read off the hidden value (relu'(z) = 1{relu(z) > 0}), so one n x k matrix carries both
// the hidden outputs and the activity pattern; other activations keep their slopes beside it.
#include "cpu_backend.h"

#include "cpu_common.h"
#include "cpu_deep.h"

#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>

#include <vector>

namespace relustab::cpu {
namespace {

/// s x with s a slope: exactly 0 where the slope is 0 (an inactive ReLU neuron contributes nothing,
/// whatever x is, also when x is not finite), else s x (exactly x where s = 1).
inline double gate(double s, double x) { return s == 0.0 ? 0.0 : s * x; }

/// Writes act(W1_i . x_j + b1_i) for the rows x_j of X into `value` (m x k) and, when A's slope is
/// not a function of the value, act' into `slope`. The pre-activation is a product then a separate
/// addition (no FMA), so for d = 1 it is w x + b rounded twice, as the univariate back end computes
/// it.
template <class A>
void hidden(const ShallowReluNet& net, const Eigen::Ref<const RowMatrix>& X, RowMatrix& value,
            RowMatrix* slope) {
  value.resize(X.rows(), net.width());
  value.noalias() = X * net.W1().transpose();
  value.rowwise() += net.b1().transpose();
  if constexpr (A::kSlopeFromValue) {
    value = value.unaryExpr([](double z) { return A::value(z); });
  } else {
    slope->resize(value.rows(), value.cols());
    for (Index j = 0; j < value.rows(); ++j) {
      for (Index i = 0; i < value.cols(); ++i) {
        const ActivationDerivatives a = A::derivatives(value(j, i));
        value(j, i) = a.value;
        (*slope)(j, i) = a.slope;
      }
    }
  }
}

/// act'(z_ji) from the block's value matrix (or its slope matrix).
template <class A, class Value, class Slope>
inline double slope_at(const Value& value, const Slope& slope, Index j, Index i) {
  if constexpr (A::kSlopeFromValue) {
    return A::slope_from_value(value(j, i));
  } else {
    return slope(j, i);
  }
}

/// Residuals f(x_j) - y_j of the block's rows from their hidden outputs.
Vec block_residuals(const ShallowReluNet& net, const Eigen::Ref<const RowMatrix>& value,
                    const Eigen::Ref<const Vec>& y) {
  return value * net.w2() + Vec::Constant(value.rows(), net.b2()) - y;
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

/// The curvature operator keeps what does not depend on the direction v (the hidden outputs, the
/// slopes unless they follow from the outputs, the second derivatives where the Hessian needs them,
/// and the residuals), computed once per block at construction, so each apply() costs two matrix
/// products per block instead of three (and no activation function calls). It also keeps its block
/// buffers from one product to the next.
template <class A>
class CurvatureOperator final : public LinearOperator {
 public:
  CurvatureOperator(const ShallowReluNet& net, const Dataset& data, CurvatureKind kind,
                    const RunContext& context)
      : net_(net), data_(data), kind_(kind), context_(context),
        value_(data.n(), net.width()), residual_(data.n()) {
    const bool curve = A::kHasCurvature && kind_ == CurvatureKind::Hessian;
    if constexpr (!A::kSlopeFromValue) slope_.resize(data.n(), net.width());
    if (curve) curve_.resize(data.n(), net.width());
    detail::for_each_block(data_.n(), context_, [&](Index begin, Index end) {
      const Index m = end - begin;
      const auto X = data_.X.middleRows(begin, m);
      RowMatrix value;
      RowMatrix slope;
      hidden<A>(net_, X, value, &slope);
      residual_.segment(begin, m) = block_residuals(net_, value, data_.y.segment(begin, m));
      value_.middleRows(begin, m) = value;
      if constexpr (!A::kSlopeFromValue) slope_.middleRows(begin, m) = slope;
      if (curve) {
        // The second derivatives at the pre-activations, recomputed from the inputs.
        RowMatrix pre = X * net_.W1().transpose();
        pre.rowwise() += net_.b1().transpose();
        curve_.middleRows(begin, m) = pre.unaryExpr([](double z) { return A::curve(z); });
      }
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
        [&](Index begin, Index end, Vec& partial, Index slot) {
          apply_block(direction, begin, end, buffers.scratch[static_cast<size_t>(slot)], partial);
        },
        &buffers);
    out /= static_cast<double>(n);
  }

 private:
  /// sum over the block's samples j of grad f_j (grad f_j . v) [+ r_j Hess f_j v for the Hessian]
  /// (cpu_backend.h). `G` is an m x k scratch matrix.
  void apply_block(const Direction& direction, Index begin, Index end, RowMatrix& G,
                   Vec& partial) const {
    const Index m = end - begin;
    const Index k = net_.width();
    const auto X = data_.X.middleRows(begin, m);
    const auto value = value_.middleRows(begin, m);
    const auto slope = slope_.middleRows(A::kSlopeFromValue ? 0 : begin, A::kSlopeFromValue ? 0 : m);
    const auto r = residual_.segment(begin, m);
    const bool hessian = kind_ == CurvatureKind::Hessian;
    // Z_ji = VW1_i . x_j + vb1_i, the directional derivative of neuron i's pre-activation.
    G.resize(m, k);
    G.noalias() = X * direction.W1.transpose();
    G.rowwise() += direction.b1.transpose();
    // The second-derivative term needs Z itself; G becomes s Z below.
    RowMatrix curve_z;
    if (A::kHasCurvature && hessian) curve_z = curve_.middleRows(begin, m).cwiseProduct(G);
    // G_ji = s_ji Z_ji: the directional derivative of neuron i's output.
    for (Index j = 0; j < m; ++j) {
      for (Index i = 0; i < k; ++i) G(j, i) = gate(slope_at<A>(value, slope, j, i), G(j, i));
    }
    // J v per sample: sum_i [w2_i G_ji + act_ji vw2_i] + vb2.
    const Vec Jv = G * net_.w2() + value * direction.w2 + Vec::Constant(m, direction.b2);
    // w2 entries: sum_j act_ji (J v)_j, and for the Hessian the cross term sum_j r_j G_ji.
    Vec w2_part = value.transpose() * Jv;
    if (hessian) w2_part.noalias() += G.transpose() * r;
    // M_ji = s_ji (w2_i (J v)_j [+ r_j vw2_i]) [+ r_j w2_i c_ji Z_ji], in G's storage.
    RowMatrix& M = G;
    const auto w2 = net_.w2();
    for (Index j = 0; j < m; ++j) {
      const double jv = Jv[j];
      const double rj = hessian ? r[j] : 0.0;
      for (Index i = 0; i < k; ++i) {
        M(j, i) = gate(slope_at<A>(value, slope, j, i), w2[i] * jv + rj * direction.w2[i]);
        if constexpr (A::kHasCurvature) {
          if (hessian) M(j, i) += rj * w2[i] * curve_z(j, i);
        }
      }
    }
    partial.resize(net_.n_params());
    write_parameter_vector(net_, X, M, w2_part, Jv.sum(), partial);
  }

  const ShallowReluNet& net_;
  const Dataset& data_;
  CurvatureKind kind_;
  RunContext context_;
  RowMatrix value_;  ///< n x k hidden outputs (for ReLU > 0 exactly where a neuron is active)
  RowMatrix slope_;  ///< n x k slopes; empty when they follow from value_
  RowMatrix curve_;  ///< n x k second derivatives; Hessian of activations with curvature only
  Vec residual_;     ///< n residuals f(x_j) - y_j
  mutable std::mutex buffers_mutex_;
  mutable detail::BlockBuffers buffers_;
};

void require_compatible(const ShallowReluNet& net, const Dataset& data) {
  require_data_for(net.input_dim(), data);
}

/// Phi Phi^T / n plus, for the Hessian, (1/n) sum_j r_j Hess f(x_j), by explicit formulas in A's
/// value, slope and second derivative: an independent route to the operator's matrix.
template <class A>
Matrix explicit_dense_curvature(const ShallowReluNet& net, const Dataset& data, CurvatureKind kind) {
  const Index n = data.n();
  const Index d = net.input_dim();
  const Index k = net.width();
  const bool hessian = kind == CurvatureKind::Hessian;
  RowMatrix pre = data.X * net.W1().transpose();
  pre.rowwise() += net.b1().transpose();
  RowMatrix value(n, k), slope(n, k), curve(n, k);
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < k; ++i) {
      const ActivationDerivatives a = A::derivatives(pre(j, i));
      value(j, i) = a.value;
      slope(j, i) = a.slope;
      curve(j, i) = a.curve;
    }
  }
  // Tangent features Phi (P x n), column j = grad f(x_j): W1_ic -> w2_i s_ji x_jc,
  // b1_i -> w2_i s_ji, w2_i -> act_ji, b2 -> 1.
  const RowMatrix gated_w2 = slope.array().rowwise() * net.w2().transpose().array();
  Matrix Phi(net.n_params(), n);
  for (Index i = 0; i < k; ++i) {
    for (Index c = 0; c < d; ++c) {
      Phi.row(i * d + c) = gated_w2.col(i).cwiseProduct(data.X.col(c)).transpose();
    }
  }
  Phi.middleRows(net.offset_b1(), k) = gated_w2.transpose();
  Phi.middleRows(net.offset_w2(), k) = value.transpose();
  Phi.row(net.offset_b2()).setOnes();
  const double inv_n = 1.0 / static_cast<double>(n);
  Matrix M = Matrix::Zero(net.n_params(), net.n_params());
  M.selfadjointView<Eigen::Lower>().rankUpdate(Phi, inv_n);
  M.triangularView<Eigen::StrictlyUpper>() = M.transpose();
  if (!hessian) return M;

  // The second-order term neuron by neuron, with x~_j = (x_j, 1) for the parameters (W1_i, b1_i):
  // the (W1_i, b1_i) block w2_i sum_j r_j c_ji x~_j x~_j^T and the (w2_i, (W1_i, b1_i)) entries
  // sum_j r_j s_ji x~_j.
  const Vec r = value * net.w2() + Vec::Constant(n, net.b2()) - data.y;
  Matrix inputs(n, d + 1);
  inputs.leftCols(d) = data.X;
  inputs.col(d).setOnes();
  std::vector<Index> rows(static_cast<size_t>(d + 1));
  for (Index i = 0; i < k; ++i) {
    for (Index c = 0; c < d; ++c) rows[static_cast<size_t>(c)] = i * d + c;
    rows[static_cast<size_t>(d)] = net.offset_b1() + i;
    const Vec weight = net.w2()[i] * r.cwiseProduct(curve.col(i));
    const Matrix block = inputs.transpose() * (weight.asDiagonal() * inputs);
    const Vec cross = inputs.transpose() * r.cwiseProduct(slope.col(i));
    const Index w2_row = net.offset_w2() + i;
    // The same number into both mirror entries, so M stays exactly symmetric.
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

}  // namespace

template <class A>
double CpuBackend<A>::loss_and_grad(const ShallowReluNet& net, const Dataset& data,
                                    std::span<const Index> rows, Vec* grad) const {
  require_compatible(net, data);
  // A mini-batch is gathered into its own rows first; the full batch is used in place.
  RowMatrix gathered;
  Vec gathered_y;
  const BatchRows batch = gather_rows(data, rows, gathered, gathered_y);
  const RowMatrix* X = batch.X;
  const Vec* y = batch.y;
  const Index m = X->rows();
  // Slot n_params() of the reduced vector carries the sum of squared residuals.
  const Index p = net.n_params();
  Vec total;
  CpuBufferLease lease(buffers_mutex_, buffers_);
  CpuBuffers& buffers = lease.get();
  if constexpr (!A::kSlopeFromValue) {
    buffers.slopes.resize(static_cast<size_t>(detail::reduction_slots(m, context_)));
  }
  detail::block_reduce(
      m, p + 1, context_, total,
      [&](Index begin, Index end, Vec& partial, Index slot) {
        const auto Xb = X->middleRows(begin, end - begin);
        // The block's hidden outputs, then (for the gradient) M in the same storage.
        RowMatrix& value = buffers.blocks.scratch[static_cast<size_t>(slot)];
        RowMatrix no_slope;
        RowMatrix* slope = A::kSlopeFromValue ? &no_slope : &buffers.slopes[static_cast<size_t>(slot)];
        hidden<A>(net, Xb, value, slope);
        const Vec r = block_residuals(net, value, y->segment(begin, end - begin));
        partial.resize(p + 1);
        partial[p] = r.squaredNorm();
        if (grad == nullptr) {
          partial.head(p).setZero();
          return;
        }
        // sum_j r_j grad f_j: w2 entries act^T r; M_ji = s_ji w2_i r_j.
        const Vec w2_part = value.transpose() * r;
        RowMatrix& M = value;
        const auto w2 = net.w2();
        for (Index j = 0; j < M.rows(); ++j) {
          for (Index i = 0; i < M.cols(); ++i) {
            M(j, i) = gate(slope_at<A>(M, *slope, j, i), w2[i] * r[j]);
          }
        }
        write_parameter_vector(net, Xb, M, w2_part, r.sum(), partial.head(p));
      },
      &buffers.blocks);
  if (grad != nullptr) *grad = total.head(p) / static_cast<double>(m);
  return total[p] / (2.0 * static_cast<double>(m));
}

template <class A>
std::unique_ptr<LinearOperator> CpuBackend<A>::curvature(const ShallowReluNet& net,
                                                         const Dataset& data,
                                                         CurvatureKind kind) const {
  require_compatible(net, data);
  return std::make_unique<CurvatureOperator<A>>(net, data, kind, context_);
}

template <class A>
Matrix CpuBackend<A>::dense_curvature(const ShallowReluNet& net, const Dataset& data,
                                      CurvatureKind kind) const {
  require_compatible(net, data);
  if constexpr (A::kind == Activation::Relu) {
    // The closed forms of ReLU nets (relu'(0) = 0 like the operator); they refuse other nets.
    return kind == CurvatureKind::Hessian ? dense_hessian(net, data) : gauss_newton_matrix(net, data);
  } else {
    return explicit_dense_curvature<A>(net, data, kind);
  }
}

template <class A>
double CpuBackend<A>::loss_and_grad(const DeepReluNet& net, const Dataset& data,
                                    std::span<const Index> rows, Vec* grad) const {
  if constexpr (A::kind != Activation::Relu) {
    return Backend::loss_and_grad(net, data, rows, grad);  // refuses
  } else {
    return deep_relu_loss_and_grad(net, data, rows, grad, context_);
  }
}

template <class A>
std::unique_ptr<LinearOperator> CpuBackend<A>::curvature(const DeepReluNet& net,
                                                         const Dataset& data,
                                                         CurvatureKind kind) const {
  if constexpr (A::kind != Activation::Relu) {
    return Backend::curvature(net, data, kind);  // refuses
  } else {
    return deep_relu_curvature(net, data, kind, context_);
  }
}

template class CpuBackend<ReluActivation>;
template class CpuBackend<GeluActivation>;

}  // namespace relustab::cpu
