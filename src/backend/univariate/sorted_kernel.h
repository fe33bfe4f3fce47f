// SPDX-License-Identifier: MIT
// The O(n + k) kernels of a univariate two-layer ReLU net over samples sorted by input.
//
// With the inputs sorted, neuron i (f_i(x) = w2_i relu(w1_i x + b1_i)) is active on a contiguous run
// of samples: a suffix when w1_i >= 0, a prefix when w1_i < 0. So the whole network is described by
// one count per neuron, and
//  * a sum over neurons of per-neuron linear functions, evaluated at every sample (the forward pass,
//    the Jacobian-vector product), is a prefix sum of a difference array with one entry per neuron;
//  * sums over each neuron's active samples of u_j and u_j x_j (the gradient, the transposed
//    Jacobian) are two lookups in the prefix sums of u and u x.
// The counts move little between GD steps, so they are checked at their old boundary (two
// comparisons per neuron) and searched for only where a knot crossed a sample. No knot is ever
// divided out (t = -b/w): activity is decided by the sign of w x + b computed exactly as the
// reference back end computes it (this file is compiled without FMA contraction), so a knot sitting
// exactly on a sample is off there (relu'(0) = 0), as everywhere else in relustab.
#pragma once

#include <relustab/core/types.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

namespace relustab::univariate {

/// Samples sorted by input; ties keep their original order.
struct SortedSamples {
  Index n = 0;
  std::vector<double> x_padded;  ///< n + 2 entries: -inf, the sorted inputs, +inf
  std::vector<double> y;         ///< targets in sorted order
  std::vector<Index> order;      ///< sorted position -> original row

  const double* x() const { return x_padded.data() + 1; }
};

inline SortedSamples sort_samples(std::span<const double> x, std::span<const double> y) {
  SortedSamples s;
  s.n = static_cast<Index>(x.size());
  s.order.resize(x.size());
  std::iota(s.order.begin(), s.order.end(), Index{0});
  std::stable_sort(s.order.begin(), s.order.end(),
                   [&](Index a, Index b) { return x[static_cast<size_t>(a)] < x[static_cast<size_t>(b)]; });
  constexpr double inf = std::numeric_limits<double>::infinity();
  s.x_padded.resize(x.size() + 2);
  s.y.resize(x.size());
  s.x_padded.front() = -inf;
  s.x_padded.back() = inf;
  for (size_t j = 0; j < x.size(); ++j) {
    s.x_padded[j + 1] = x[static_cast<size_t>(s.order[j])];
    s.y[j] = y[static_cast<size_t>(s.order[j])];
  }
  return s;
}

/// The parameters of a univariate net as four arrays (theta's own layout for d = 1).
struct NetView {
  Index k = 0;
  const double* w = nullptr;  ///< input weights W1 (k)
  const double* b = nullptr;  ///< hidden biases b1 (k)
  const double* v = nullptr;  ///< output weights w2 (k)
  double c = 0.0;             ///< output bias b2

  static NetView of(const double* theta, Index k) {
    return {k, theta, theta + k, theta + 2 * k, theta[3 * k]};
  }
};

/// Neuron i is on at sorted sample j iff w_i x_j + b_i > 0. The predicate is monotone in j (rounding is
/// monotone), so its on-set is the suffix [n - count, n) for w_i >= 0 and the prefix [0, count) for
/// w_i < 0 (w_i NaN: never on, count 0). The run's boundary is n - count or count respectively.
template <class Real>
bool is_prefix(Real w) {
  return w < Real(0);
}

template <class Real>
bool on(Real w, Real b, Real x) {
  return w * x + b > Real(0);
}

/// Whether q is the run boundary of the neuron (w, b): the samples on either side of it are off and on
/// as the run needs. xp is the padded inputs (xp[j + 1] is sample j; the +-inf sentinels confirm the
/// ends), q in [0, n].
template <class Real>
bool confirms_boundary(Real w, Real b, const Real* xp, Index q) {
  const bool prefix = is_prefix(w);
  const bool left_on = on(w, b, xp[q]);       // sample q - 1
  const bool right_on = on(w, b, xp[q + 1]);  // sample q
  return (left_on == prefix) & (right_on != prefix);
}

/// The run boundary of a neuron (the first sorted sample that is on for a suffix run, off for a prefix
/// run) by binary search, knowing it lies in [lo, hi]. The predicate "sample j lies before the
/// boundary" is monotone in j because rounding is monotone.
template <class Real>
Index boundary_between(Real w, Real b, const Real* x, Index lo, Index hi) {
  const bool prefix = is_prefix(w);
  while (lo < hi) {
    const Index mid = lo + (hi - lo) / 2;
    if (on(w, b, x[mid]) == prefix) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/// The same searched for from a guess q0 in [0, n]: a short walk from q0 (knots move little between
/// GD steps, so the boundary is usually a sample or two away), then a binary search of the side that
/// is left. Exact for any guess.
template <class Real>
Index boundary_near(Real w, Real b, const Real* x, Index n, Index q0) {
  const bool prefix = is_prefix(w);
  const auto before = [&](Index j) { return on(w, b, x[j]) == prefix; };
  constexpr int walk = 4;
  if (q0 < n && before(q0)) {
    Index lo = q0 + 1;
    for (int t = 0; t < walk && lo < n; ++t, ++lo) {
      if (!before(lo)) return lo;
    }
    return boundary_between(w, b, x, lo, n);
  }
  Index hi = q0;
  for (int t = 0; t < walk && hi > 0; ++t, --hi) {
    if (before(hi - 1)) return hi;
  }
  return boundary_between(w, b, x, Index{0}, hi);
}

/// Active count of one neuron by binary search over the sorted inputs.
inline Index search_count(double w, double b, const SortedSamples& s) {
  const Index q = boundary_between(w, b, s.x(), Index{0}, s.n);
  return is_prefix(w) ? q : s.n - q;
}

inline void search_counts(const NetView& net, const SortedSamples& s, Index* count) {
  for (Index i = 0; i < net.k; ++i) count[i] = search_count(net.w[i], net.b[i], s);
}

/// Per-neuron arrays (k each) of the kernels below. Besides scratch, each neuron's run in a form the
/// loops use without branches: its boundary q, `suffix` (1 for a suffix run, w >= 0; 0 for a prefix
/// run) and `sign` (+1 / -1). A sum over the run is suffix * total - sign * prefix(q), i.e.
/// total - prefix(q) or prefix(q); multiplying by 0 and +-1 is exact, so this rounds exactly like the
/// branch it replaces.
struct StepBuffers {
  std::vector<double> slope, offset, s0, s1;
  std::vector<Index> boundary;
  std::vector<double> suffix, prefix, sign;  ///< prefix = 1 - suffix
  std::vector<Index> confirmed;  ///< 1 where the previous count still holds

  void resize(Index k) {
    const auto m = static_cast<size_t>(k);
    for (auto* v : {&slope, &offset, &s0, &s1, &suffix, &prefix, &sign}) v->resize(m);
    boundary.resize(m);
    confirmed.resize(m);
  }
};

/// Fills the run form of `buffers` from up-to-date counts.
inline void set_runs(const NetView& net, const Index* __restrict count, Index n,
                     StepBuffers& buffers) {
  Index* __restrict q = buffers.boundary.data();
  double* __restrict suffix = buffers.suffix.data();
  double* __restrict prefix = buffers.prefix.data();
  double* __restrict sign = buffers.sign.data();
  for (Index i = 0; i < net.k; ++i) {
    const bool is_prefix_run = is_prefix(net.w[i]);
    q[i] = is_prefix_run ? count[i] : n - count[i];
    suffix[i] = is_prefix_run ? 0.0 : 1.0;
    prefix[i] = is_prefix_run ? 1.0 : 0.0;
    sign[i] = is_prefix_run ? -1.0 : 1.0;
  }
}

/// confirmed[i] = 1 iff count[i] is neuron i's active count: the samples on either side of its
/// boundary are off and on as a run with that count needs (xp[j + 1] is sample j; the +-inf
/// sentinels confirm the ends). Branch-free, and the pointers do not alias, so it vectorises with
/// gathers.
inline void confirm_counts(const double* __restrict w, const double* __restrict b,
                           const Index* __restrict count, const double* __restrict xp, Index n,
                           Index k, Index* __restrict confirmed) {
  for (Index i = 0; i < k; ++i) {
    const Index q = is_prefix(w[i]) ? count[i] : n - count[i];
    confirmed[i] = confirms_boundary(w[i], b[i], xp, q);
  }
}

/// Brings `count` (any values in [0, n], e.g. the previous step's) up to date for the net and sets
/// the run form of `buffers`. A count is kept when the samples on either side of its boundary
/// confirm it (the +-inf sentinels confirm the ends), otherwise searched for: exact for any input,
/// fast when few knots crossed a sample, as between two GD steps. The check is one branch-free loop
/// (vectorised with gathers); only unconfirmed neurons take the search, which starts at the old
/// boundary.
inline void update_counts(const NetView& net, const SortedSamples& s, Index* count,
                          StepBuffers& buffers) {
  confirm_counts(net.w, net.b, count, s.x_padded.data(), s.n, net.k, buffers.confirmed.data());
  const Index* confirmed = buffers.confirmed.data();
  for (Index i = 0; i < net.k; ++i) {
    if (confirmed[i] != 0) continue;
    const bool prefix = is_prefix(net.w[i]);
    const Index q = boundary_near(net.w[i], net.b[i], s.x(), s.n, prefix ? count[i] : s.n - count[i]);
    count[i] = prefix ? q : s.n - q;
  }
  set_runs(net, count, s.n, buffers);
}

/// Scratch arrays over samples; reused across calls so a GD step does not allocate.
struct Scratch {
  std::vector<double> diff_slope, diff_offset;  ///< n + 1 each: difference arrays over samples
  std::vector<double> sum_u, sum_ux;            ///< n + 1 each: prefix sums of u and u x
  std::vector<double> u;                        ///< n: per-sample values

  void resize(Index n) {
    const auto m = static_cast<size_t>(n + 1);
    for (auto* v : {&diff_slope, &diff_offset, &sum_u, &sum_ux}) v->resize(m);
    u.resize(static_cast<size_t>(n));
  }
};

/// sum_i a[i] * weight[i] in a fixed order, with four interleaved partial sums: one chain of k
/// dependent adds would cost k times the add latency.
inline double weighted_sum(const double* a, const double* weight, Index k) {
  double part[4] = {0.0, 0.0, 0.0, 0.0};
  Index i = 0;
  for (; i + 4 <= k; i += 4) {
    for (int l = 0; l < 4; ++l) part[l] += a[i + l] * weight[i + l];
  }
  for (; i < k; ++i) part[0] += a[i] * weight[i];
  return (part[0] + part[1]) + (part[2] + part[3]);
}

/// u_j = offset0 + sum over neurons i on at sample j of (slope_i x_j + offset_i), for all sorted j, in
/// O(n + k): each neuron's line enters the difference arrays where its run starts (+) or ends (-);
/// prefix runs start at sample 0, so they also form the base line. Needs the run form of `buffers`.
inline void sum_active_lines(const NetView& net, const StepBuffers& buffers, const double* slope,
                             const double* offset, double offset0, const SortedSamples& s,
                             Scratch& scratch) {
  const Index n = s.n, k = net.k;
  double* ds = scratch.diff_slope.data();
  double* doff = scratch.diff_offset.data();
  std::fill_n(ds, n + 1, 0.0);
  std::fill_n(doff, n + 1, 0.0);
  const Index* q = buffers.boundary.data();
  const double* sign = buffers.sign.data();
  for (Index i = 0; i < k; ++i) {
    ds[q[i]] += sign[i] * slope[i];
    doff[q[i]] += sign[i] * offset[i];
  }
  double line_slope = weighted_sum(slope, buffers.prefix.data(), k);
  double line_offset = weighted_sum(offset, buffers.prefix.data(), k);
  const double* x = s.x();
  double* u = scratch.u.data();
  for (Index j = 0; j < n; ++j) {
    line_slope += ds[j];
    line_offset += doff[j];
    u[j] = line_slope * x[j] + line_offset + offset0;
  }
}

/// Prefix sums of u and u x over the sorted samples (length n + 1, starting at 0).
inline void prefix_sums(const double* u, const SortedSamples& s, Scratch& scratch) {
  const double* x = s.x();
  double* su = scratch.sum_u.data();
  double* sux = scratch.sum_ux.data();
  double a = 0.0, ax = 0.0;
  su[0] = 0.0;
  sux[0] = 0.0;
  for (Index j = 0; j < s.n; ++j) {
    a += u[j];
    ax += u[j] * x[j];
    su[j + 1] = a;
    sux[j + 1] = ax;
  }
}

/// Over neuron i's active samples: sum u_j into s0[i] and sum u_j x_j into s1[i], from the prefix
/// sums in `scratch` and the run form of `buffers`.
inline void active_sums(Index k, const StepBuffers& buffers, Index n, const Scratch& scratch,
                        double* __restrict s0, double* __restrict s1) {
  const double* __restrict su = scratch.sum_u.data();
  const double* __restrict sux = scratch.sum_ux.data();
  const double total_u = su[n], total_ux = sux[n];
  const Index* __restrict q = buffers.boundary.data();
  const double* __restrict suffix = buffers.suffix.data();
  const double* __restrict sign = buffers.sign.data();
  for (Index i = 0; i < k; ++i) {
    s0[i] = suffix[i] * total_u - sign[i] * su[q[i]];
    s1[i] = suffix[i] * total_ux - sign[i] * sux[q[i]];
  }
}

/// The gradient of the loss from the residuals' active sums: W1, b1, w2 blocks and b2 (theta's
/// layout for d = 1), scaled by 1/n.
inline void gradient_from_sums(const NetView& net, const double* __restrict s0,
                               const double* __restrict s1, double total_r, double inv_n,
                               double* __restrict grad) {
  const Index k = net.k;
  const double* __restrict w = net.w;
  const double* __restrict b = net.b;
  const double* __restrict v = net.v;
  for (Index i = 0; i < k; ++i) {
    grad[i] = v[i] * s1[i] * inv_n;
    grad[k + i] = v[i] * s0[i] * inv_n;
    grad[2 * k + i] = (w[i] * s1[i] + b[i] * s0[i]) * inv_n;
  }
  grad[3 * k] = total_r * inv_n;
}

/// Loss 1/(2n) sum r_j^2 and, when `grad` is not null, its gradient in theta's layout (W1, b1, w2,
/// b2), with the run form of `buffers` up to date. Leaves the residuals in scratch.u.
inline double loss_and_grad(const NetView& net, const SortedSamples& s, Scratch& scratch,
                            StepBuffers& buffers, double* grad) {
  const Index n = s.n, k = net.k;
  double* __restrict slope = buffers.slope.data();
  double* __restrict offset = buffers.offset.data();
  const double* __restrict w = net.w;
  const double* __restrict b = net.b;
  const double* __restrict v = net.v;
  for (Index i = 0; i < k; ++i) {
    slope[i] = v[i] * w[i];
    offset[i] = v[i] * b[i];
  }
  sum_active_lines(net, buffers, slope, offset, net.c, s, scratch);
  double* r = scratch.u.data();  // residuals in place of the outputs
  double squares[2] = {0.0, 0.0};
  for (Index j = 0; j < n; ++j) {
    r[j] -= s.y[static_cast<size_t>(j)];
    squares[j & 1] += r[j] * r[j];
  }
  const double inv_n = 1.0 / static_cast<double>(n);
  if (grad != nullptr) {
    prefix_sums(r, s, scratch);
    double* s0 = buffers.s0.data();
    double* s1 = buffers.s1.data();
    active_sums(k, buffers, n, scratch, s0, s1);
    gradient_from_sums(net, s0, s1, scratch.sum_u[static_cast<size_t>(n)], inv_n, grad);
  }
  return (squares[0] + squares[1]) * 0.5 * inv_n;
}

}  // namespace relustab::univariate
