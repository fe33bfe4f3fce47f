// SPDX-License-Identifier: MIT
#include "univariate_backend.h"

#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>

#include <algorithm>
#include <string>

namespace relustab::univariate {
namespace {

/// Called every GD step: the messages are built only on failure.
void require_univariate(const ShallowReluNet& net, const Dataset& data) {
  if (net.input_dim() != 1) {
    throw InputError("backend univariate: expected a net with input dimension 1, got " +
                     std::to_string(net.input_dim()) + " (use the cpu back end)");
  }
  if (data.dim() != 1) {
    throw InputError("data: expected input dimension 1 (the net's), got " +
                     std::to_string(data.dim()));
  }
  if (data.n() < 1) throw InputError("data: expected at least one sample");
  if (data.y.size() != data.n()) {
    throw InputError("data: expected " + std::to_string(data.n()) +
                     " targets (one per sample), got " + std::to_string(data.y.size()));
  }
}

bool same_values(const std::vector<double>& cached, const double* values, Index n) {
  return static_cast<Index>(cached.size()) == n &&
         std::equal(cached.begin(), cached.end(), values);
}

/// Exact Hessian- or Gauss-Newton-vector products at a fixed point, O(n + k) per product.
///
/// With direction (dw, db, dv, dc) and u_j = (J d)_j = sum_{i on at j} [v_i (dw_i x_j + db_i) +
/// dv_i (w_i x_j + b_i)] + dc, the Gauss-Newton product is J^T u / n: per neuron v_i S1(u),
/// v_i S0(u), w_i S1(u) + b_i S0(u), and sum u, where S0, S1 sum u_j and u_j x_j over the neuron's
/// active samples. The Hessian adds sum_j r_j Hess f_j d, whose only non-zero entries couple v_i
/// with (w_i, b_i): dv_i S1(r), dv_i S0(r) and dw_i S1(r) + db_i S0(r) (Mulayoff et al. 2021, eqs. 26-28).
class SortedCurvature final : public LinearOperator {
 public:
  SortedCurvature(const ShallowReluNet& net, SortedSamples samples, CurvatureKind kind)
      : theta_(net.theta()), net_(NetView::of(theta_.data(), net.width())),
        samples_(std::move(samples)), kind_(kind) {
    const Index k = net_.k;
    std::vector<Index> counts(static_cast<size_t>(k));
    search_counts(net_, samples_, counts.data());
    scratch_.resize(samples_.n);
    buffers_.resize(k);
    set_runs(net_, counts.data(), samples_.n, buffers_);
    residual_s0_.resize(static_cast<size_t>(k));
    residual_s1_.resize(static_cast<size_t>(k));
    if (kind_ == CurvatureKind::Hessian) {
      loss_and_grad(net_, samples_, scratch_, buffers_, nullptr);
      prefix_sums(scratch_.u.data(), samples_, scratch_);
      active_sums(k, buffers_, samples_.n, scratch_, residual_s0_.data(), residual_s1_.data());
    }
  }

  Index size() const override { return theta_.size(); }

  void apply(const Vec& direction, Vec& out) const override {
    require(direction.size() == theta_.size(), "curvature operator: vector length mismatch");
    const Index k = net_.k, n = samples_.n;
    const NetView d = NetView::of(direction.data(), k);
    double* slope = buffers_.slope.data();
    double* offset = buffers_.offset.data();
    for (Index i = 0; i < k; ++i) {
      slope[i] = net_.v[i] * d.w[i] + d.v[i] * net_.w[i];
      offset[i] = net_.v[i] * d.b[i] + d.v[i] * net_.b[i];
    }
    sum_active_lines(net_, buffers_, slope, offset, d.c, samples_, scratch_);
    prefix_sums(scratch_.u.data(), samples_, scratch_);
    double* s0 = buffers_.s0.data();
    double* s1 = buffers_.s1.data();
    active_sums(k, buffers_, n, scratch_, s0, s1);
    out.resize(theta_.size());
    const double inv_n = 1.0 / static_cast<double>(n);
    const bool hessian = kind_ == CurvatureKind::Hessian;
    for (Index i = 0; i < k; ++i) {
      double gw = net_.v[i] * s1[i], gb = net_.v[i] * s0[i];
      double gv = net_.w[i] * s1[i] + net_.b[i] * s0[i];
      if (hessian) {
        gw += d.v[i] * residual_s1_[static_cast<size_t>(i)];
        gb += d.v[i] * residual_s0_[static_cast<size_t>(i)];
        gv += d.w[i] * residual_s1_[static_cast<size_t>(i)] +
              d.b[i] * residual_s0_[static_cast<size_t>(i)];
      }
      out[i] = gw * inv_n;
      out[k + i] = gb * inv_n;
      out[2 * k + i] = gv * inv_n;
    }
    out[3 * k] = scratch_.sum_u[static_cast<size_t>(n)] * inv_n;
  }

 private:
  Vec theta_;  // a copy: the operator stays valid when the caller's net changes
  NetView net_;
  SortedSamples samples_;
  CurvatureKind kind_;
  std::vector<double> residual_s0_, residual_s1_;
  // apply() is logically const; its scratch makes one operator unsafe to share between threads.
  mutable Scratch scratch_;
  mutable StepBuffers buffers_;
};

}  // namespace

const SortedSamples& UnivariateBackend::sorted(const Dataset& data) const {
  const Index n = data.n();
  if (!same_values(source_x_, data.X.data(), n) || !same_values(source_y_, data.y.data(), n)) {
    source_x_.assign(data.X.data(), data.X.data() + n);
    source_y_.assign(data.y.data(), data.y.data() + n);
    samples_ = sort_samples(source_x_, source_y_);
    counts_.clear();  // the counts refer to the old samples
    scratch_.resize(n);
  }
  return samples_;
}

double UnivariateBackend::loss_and_grad(const ShallowReluNet& net, const Dataset& data,
                                        std::span<const Index> rows, Vec* grad) const {
  require_univariate(net, data);
  const Index k = net.width();
  const NetView view = NetView::of(net.theta().data(), k);
  if (grad != nullptr) grad->resize(net.n_params());
  double* g = grad != nullptr ? grad->data() : nullptr;

  if (!rows.empty()) {
    // A mini-batch: sort its samples (with repetitions) and search every count; nothing is cached.
    std::vector<double> x(rows.size()), y(rows.size());
    for (size_t b = 0; b < rows.size(); ++b) {
      require(rows[b] >= 0 && rows[b] < data.n(),
              "rows: sample index " + std::to_string(rows[b]) + " out of range [0, " +
                  std::to_string(data.n()) + ")");
      x[b] = data.X(rows[b], 0);
      y[b] = data.y[rows[b]];
    }
    const SortedSamples batch = sort_samples(x, y);
    std::vector<Index> counts(static_cast<size_t>(k));
    search_counts(view, batch, counts.data());
    Scratch scratch;
    scratch.resize(batch.n);
    StepBuffers buffers;
    buffers.resize(k);
    set_runs(view, counts.data(), batch.n, buffers);
    return univariate::loss_and_grad(view, batch, scratch, buffers, g);
  }

  const std::lock_guard lock(mutex_);
  const SortedSamples& samples = sorted(data);
  if (static_cast<Index>(counts_.size()) != k) {
    counts_.assign(static_cast<size_t>(k), 0);  // any counts in [0, n] are a valid start
    buffers_.resize(k);
  }
  update_counts(view, samples, counts_.data(), buffers_);
  return univariate::loss_and_grad(view, samples, scratch_, buffers_, g);
}

std::unique_ptr<LinearOperator> UnivariateBackend::curvature(const ShallowReluNet& net,
                                                             const Dataset& data,
                                                             CurvatureKind kind) const {
  require_univariate(net, data);
  SortedSamples samples;
  {
    const std::lock_guard lock(mutex_);
    samples = sorted(data);
  }
  return std::make_unique<SortedCurvature>(net, std::move(samples), kind);
}

Matrix UnivariateBackend::dense_curvature(const ShallowReluNet& net, const Dataset& data,
                                         CurvatureKind kind) const {
  require_univariate(net, data);
  // The explicit ReLU formulas (relu'(0) = 0 like the operator): an independent route to its matrix.
  return kind == CurvatureKind::Hessian ? dense_hessian(net, data) : gauss_newton_matrix(net, data);
}

}  // namespace relustab::univariate
