// SPDX-License-Identifier: MIT
// Back-propagation and Pearlmutter's R-operator for the two-hidden-layer ReLU net: the CPU back
// end's kernels for DeepReluNet.
//
// Per sample (one row of each n x width matrix below), with D_l = [Z_l > 0] (relu'(0) = 0):
//   Z1 = W1 x + b1,  A1 = relu(Z1),  Z2 = W2 A1 + b2,  A2 = relu(Z2),  f = w3 . A2 + b3,  r = f -
//   y.
// Back-propagation of a per-sample coefficient q (q = r gives the gradient, times 1/n):
//   d w3 = q A2,  d b3 = q,  G2 = D2 (q w3),  d W2 = G2 A1^T,  d b2 = G2,
//   G1 = D1 (W2^T G2),  d W1 = G1 x^T,  d b1 = G1.
// The R-operator R{.} = d/dt (.)(theta + t v) with v = (V1, c1, V2, c2, u3, c3), where relu'' = 0
// makes the masks D_l constant:
//   R{Z1} = V1 x + c1,  R{A1} = D1 R{Z1},  R{Z2} = W2 R{A1} + V2 A1 + c2,  R{A2} = D2 R{Z2},
//   R{f} = w3 . R{A2} + u3 . A2 + c3 = J v,  R{r} = J v,
// and applied to the back-propagation of q = r:
//   R{d w3} = A2 Jv + r R{A2},  R{d b3} = Jv,  R{G2} = D2 (Jv w3 + r u3),
//   R{d W2} = R{G2} A1^T + G2_r R{A1}^T,  R{d b2} = R{G2},  R{G1} = D1 (W2^T R{G2} + V2^T G2_r),
//   R{d W1} = R{G1} x^T,  R{d b1} = R{G1},
// with G2_r = D2 (r w3). That is H v. Dropping every term with r leaves the back-propagation of
// q = J v, i.e. J^T J v: the Gauss-Newton product.
#include "cpu_deep.h"

#include "cpu_common.h"

#include "../../core/block_reduce.h"

#include <relustab/core/error.h>

#include <string>

namespace relustab::cpu {
namespace {

using ConstRowRef = Eigen::Ref<const RowMatrix>;

void require_compatible(const DeepReluNet& net, const Dataset& data, const char* what) {
  require(net.n_params() >= 1, std::string(what) + ": the net is empty (width 0)");
  require(data.n() >= 1, std::string(what) + ": data: expected at least one sample");
  require(data.dim() == net.input_dim(), std::string(what) + ": data: expected input dimension " +
                                             std::to_string(net.input_dim()) +
                                             " (the net's), got " + std::to_string(data.dim()));
  require(data.y.size() == data.n(),
          std::string(what) + ": data: expected " + std::to_string(data.n()) +
              " targets (one per sample), got " + std::to_string(data.y.size()));
}

/// The forward pass at the current parameters for the rows of X: masks, activations, outputs.
struct Forward {
  RowMatrix D1;  ///< m x k1, 1 where Z1 > 0 (relu'(0) = 0), else 0
  RowMatrix A1;  ///< m x k1, relu(Z1)
  RowMatrix D2;  ///< m x k2
  RowMatrix A2;  ///< m x k2
  Vec f;         ///< m outputs
};

Forward forward(const DeepReluNet& net, const ConstRowRef& X) {
  Forward fw;
  RowMatrix Z1 = X * net.W1().transpose();
  Z1.rowwise() += net.b1().transpose();
  fw.D1 = (Z1.array() > 0.0).cast<double>();
  fw.A1 = Z1.cwiseMax(0.0);
  RowMatrix Z2 = fw.A1 * net.W2().transpose();
  Z2.rowwise() += net.b2().transpose();
  fw.D2 = (Z2.array() > 0.0).cast<double>();
  fw.A2 = Z2.cwiseMax(0.0);
  fw.f = fw.A2 * net.w3() + Vec::Constant(X.rows(), net.b3());
  return fw;
}

/// Rows [begin, begin + m) of a Forward, without copying.
struct ForwardRows {
  ConstRowRef D1, A1, D2, A2;
};

ForwardRows rows_of(const Forward& fw, Index begin, Index m) {
  return {fw.D1.middleRows(begin, m), fw.A1.middleRows(begin, m), fw.D2.middleRows(begin, m),
          fw.A2.middleRows(begin, m)};
}

/// The terms of H v that carry the residual r (see the top of the file); null for the gradient and
/// for the Gauss-Newton product.
struct ResidualTerms {
  const Vec& r;                  ///< m residuals
  const RowMatrix& A1_dot;       ///< R{A1}, m x k1
  const RowMatrix& A2_dot;       ///< R{A2}, m x k2
  const DeepReluNet& direction;  ///< v, for u3 and V2
};

/// Writes into `out` (length P) the back-propagation of the per-sample coefficients q, summed over
/// the m rows, plus the residual terms of the R-operator when `extra` is not null.
void back_propagate(const DeepReluNet& net, const ConstRowRef& X, const ForwardRows& fw,
                    const Vec& q, const ResidualTerms* extra, Vec& out) {
  const Index d = net.input_dim();
  const Index k1 = net.width1();
  const Index k2 = net.width2();
  out.resize(net.n_params());
  // G2 = D2 (q w3^T) [+ D2 (r u3^T)]: m x k2.
  RowMatrix G2 = q * net.w3().transpose();
  if (extra != nullptr) G2.noalias() += extra->r * extra->direction.w3().transpose();
  G2.array() *= fw.D2.array();
  out.segment(net.offset_w3(), k2).noalias() = fw.A2.transpose() * q;
  out[net.offset_b3()] = q.sum();
  Eigen::Map<RowMatrix> dW2(out.data() + net.offset_W2(), k2, k1);
  dW2.noalias() = G2.transpose() * fw.A1;
  out.segment(net.offset_b2(), k2) = G2.colwise().sum().transpose();
  RowMatrix G1 = G2 * net.W2();  // m x k1
  if (extra != nullptr) {
    out.segment(net.offset_w3(), k2).noalias() += extra->A2_dot.transpose() * extra->r;
    RowMatrix G2_r = extra->r * net.w3().transpose();
    G2_r.array() *= fw.D2.array();
    dW2.noalias() += G2_r.transpose() * extra->A1_dot;
    G1.noalias() += G2_r * extra->direction.W2();
  }
  G1.array() *= fw.D1.array();
  Eigen::Map<RowMatrix>(out.data(), k1, d).noalias() = G1.transpose() * X;
  out.segment(net.offset_b1(), k1) = G1.colwise().sum().transpose();
}

class DeepCurvatureOperator final : public LinearOperator {
 public:
  DeepCurvatureOperator(const DeepReluNet& net, const Dataset& data, CurvatureKind kind,
                        const RunContext& context)
      : net_(net),
        data_(data),
        kind_(kind),
        context_(context),
        forward_(forward(net, data.X)),
        residual_(forward_.f - data.y) {}

  Index size() const override { return net_.n_params(); }

  void apply(const Vec& v, Vec& out) const override {
    require(v.size() == net_.n_params(), "curvature operator: expected a vector of length " +
                                             std::to_string(net_.n_params()) + ", got " +
                                             std::to_string(v.size()));
    const Index n = data_.n();
    const DeepReluNet direction(net_.input_dim(), net_.width1(), net_.width2(), v);
    detail::block_reduce(n, net_.n_params(), context_, out,
                         [&](Index begin, Index end, Vec& partial, Index /*slot*/) {
                           apply_block(direction, begin, end - begin, partial);
                         });
    out /= static_cast<double>(n);
  }

 private:
  void apply_block(const DeepReluNet& v, Index begin, Index m, Vec& partial) const {
    const auto X = data_.X.middleRows(begin, m);
    const ForwardRows fw = rows_of(forward_, begin, m);
    // R{A1} = D1 (V1 x + c1), R{A2} = D2 (W2 R{A1} + V2 A1 + c2), J v = w3 . R{A2} + u3 . A2 + c3.
    RowMatrix A1_dot = X * v.W1().transpose();
    A1_dot.rowwise() += v.b1().transpose();
    A1_dot.array() *= fw.D1.array();
    RowMatrix A2_dot = A1_dot * net_.W2().transpose();
    A2_dot.noalias() += fw.A1 * v.W2().transpose();
    A2_dot.rowwise() += v.b2().transpose();
    A2_dot.array() *= fw.D2.array();
    Vec Jv = A2_dot * net_.w3();
    Jv.noalias() += fw.A2 * v.w3();
    Jv.array() += v.b3();
    if (kind_ == CurvatureKind::GaussNewton) {
      back_propagate(net_, X, fw, Jv, nullptr, partial);
      return;
    }
    const Vec r = residual_.segment(begin, m);
    const ResidualTerms extra{r, A1_dot, A2_dot, v};
    back_propagate(net_, X, fw, Jv, &extra, partial);
  }

  const DeepReluNet& net_;
  const Dataset& data_;
  CurvatureKind kind_;
  RunContext context_;
  Forward forward_;
  Vec residual_;
};

}  // namespace

double deep_relu_loss_and_grad(const DeepReluNet& net, const Dataset& data,
                               std::span<const Index> rows, Vec* grad,
                               const RunContext& context) {
  require_compatible(net, data, "deep_loss_and_grad");
  // A mini-batch is gathered into its own rows first; the full batch is used in place.
  RowMatrix gathered;
  Vec gathered_y;
  const BatchRows batch = gather_rows(data, rows, gathered, gathered_y);
  const RowMatrix* X = batch.X;
  const Vec* y = batch.y;
  const Index m = X->rows();
  // Slot P of the reduced vector carries the sum of squared residuals.
  const Index p = net.n_params();
  Vec total;
  detail::block_reduce(m, p + 1, context, total, [&](Index begin, Index end, Vec& partial, Index /*slot*/) {
    const auto Xb = X->middleRows(begin, end - begin);
    const Forward fw = forward(net, Xb);
    const Vec r = fw.f - y->segment(begin, end - begin);
    partial.resize(p + 1);
    if (grad != nullptr) {
      Vec g;
      back_propagate(net, Xb, rows_of(fw, 0, end - begin), r, nullptr, g);
      partial.head(p) = g;
    } else {
      partial.head(p).setZero();
    }
    partial[p] = r.squaredNorm();
  });
  if (grad != nullptr) *grad = total.head(p) / static_cast<double>(m);
  return total[p] / (2.0 * static_cast<double>(m));
}

std::unique_ptr<LinearOperator> deep_relu_curvature(const DeepReluNet& net, const Dataset& data,
                                                    CurvatureKind kind, const RunContext& context) {
  require_compatible(net, data, "deep_curvature");
  return std::make_unique<DeepCurvatureOperator>(net, data, kind, context);
}

}  // namespace relustab::cpu
