// SPDX-License-Identifier: MIT
// The flattest implementation over all implementations of a univariate net's function: a convex
// search over how each knot's slope is split between the two sides, with a global dual certificate
// (see flattest_over_implementations in the header).
#include <relustab/analysis/flattest.h>

#include "lbfgs.h"

#include <relustab/core/error.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace relustab {
namespace {

/// Compensating pairs sit this fraction of the data range beyond each edge (ours): as close to the
/// edge as the limit allows, far enough (~1e-9 L) that rounding cannot move a sample across them.
constexpr double kEdgeOffset = 1e-9;
/// Rounding thresholds tried on the joint optimum (ours): a share below rho |s_t| is moved to the
/// knot's other side; 0 keeps every share (two neurons for most knots).
constexpr std::array<double, 5> kRoundingShares = {0.2, 0.05, 0.01, 1e-3, 0.0};
/// Candidates within this relative value of the best count as ties, decided by fewer neurons (ours).
constexpr double kTieTolerance = 1e-6;
/// Warm start: share given to the side a knot does not prefer, so that every slope starts non-zero
/// (a slope at exactly 0 is a stationary point of c^2 / b in c).
constexpr double kMinShare = 0.05;

// Smoothing and L-BFGS settings: those of flattest_implementation (lbfgs.h), and the last level.
using detail::kArmijo;
using detail::kInitialSmoothing;
using detail::kLbfgsMemory;
using detail::kMaxHalvings;
using detail::kMaxLogScaleStep;
using detail::kSmoothingDecrease;
using detail::kSoftmaxCutoff;
constexpr double kFinalSmoothing = 1e-7;  ///< relative to lambda_max: the last level
constexpr int kIterationsPerLevel = 3000;
/// Golden-section steps for Lambda(Z) on one gap: the bracket shrinks by 0.618^200.
constexpr int kGoldenSteps = 200;
/// Rounds of column generation over compensating pairs (ours).
constexpr int kPairRounds = 5;

/// f(x) = constant + slope_left x + sum_t jumps_t (x - knots_t)_+, knots increasing and distinct.
struct Canonical {
  double constant = 0.0;
  double slope_left = 0.0;
  std::vector<double> knots;
  std::vector<double> jumps;
};

Canonical canonical_form(const ShallowReluNet& net) {
  Canonical c;
  c.constant = net.b2();
  std::map<double, double> jumps;
  for (Index i = 0; i < net.width(); ++i) {
    const double w1 = net.W1()(i, 0), b1 = net.b1()[i], w2 = net.w2()[i];
    if (w1 == 0.0) {
      c.constant += w2 * std::max(b1, 0.0);
      continue;
    }
    const double knot = -b1 / w1;
    const double jump = w2 * std::abs(w1);
    jumps[knot] += jump;
    if (w1 < 0.0) {  // jump (t - x)_+ = jump (x - t)_+ - jump x + jump t
      c.slope_left -= jump;
      c.constant += jump * knot;
    }
  }
  for (const auto& [knot, jump] : jumps) {
    if (jump == 0.0) continue;
    c.knots.push_back(knot);
    c.jumps.push_back(jump);
  }
  return c;
}

/// One neuron of an implementation: slope * relu(side (x - knot)), side = +1 (right-facing) or -1.
struct Neuron {
  double knot;
  int side;
  double slope;
};

/// Unit-slope features of the neuron relu(side (x - knot)) at the samples: its gate 1{z > 0} and
/// value z_+ with z = side (x_j - knot), the pre-activation of the net built from it.
void unit_features(const Vec& x, double knot, int side, Eigen::Ref<Vec> gate, Eigen::Ref<Vec> value) {
  for (Index j = 0; j < x.size(); ++j) {
    const double z = side > 0 ? x[j] - knot : knot - x[j];
    gate[j] = z > 0.0 ? 1.0 : 0.0;
    value[j] = std::max(z, 0.0);
  }
}

/// The data-side quantities every bound needs: x, M = x x^T + 1 1^T, the sorted distinct inputs.
struct DataView {
  Vec x;
  Matrix M;
  std::vector<double> distinct;
  double n = 0.0;
};

/// w(Z) = sqrt(<A, Z> <B, Z>) of the unit-slope neuron (knot, side).
double side_weight(const DataView& d, const Matrix& Z, double knot, int side) {
  Vec gate(d.x.size()), value(d.x.size());
  unit_features(d.x, knot, side, gate, value);
  const double a = gate.dot((Z.cwiseProduct(d.M)) * gate);
  const double b = value.dot(Z * value);
  return std::sqrt(std::max(a, 0.0) * std::max(b, 0.0));
}

/// On an interval where the activation sets are fixed, w_R(tau) + w_L(tau) = sqrt(aR qR(tau)) +
/// sqrt(aL qL(tau)) with quadratics q(tau) = p0 - 2 p1 tau + p2 tau^2: a sum of Euclidean norms of
/// affine functions of tau, hence convex.
struct GapWeight {
  double aR = 0.0, r0 = 0.0, r1 = 0.0, r2 = 0.0;
  double aL = 0.0, l0 = 0.0, l1 = 0.0, l2 = 0.0;
  double operator()(double tau) const {
    const double qR = r0 - 2.0 * r1 * tau + r2 * tau * tau;
    const double qL = l0 - 2.0 * l1 * tau + l2 * tau * tau;
    return std::sqrt(std::max(aR * qR, 0.0)) + std::sqrt(std::max(aL * qL, 0.0));
  }
};

/// The gap weight for activation masks gateR (x_j > tau) and gateL (x_j < tau).
GapWeight gap_weight(const DataView& d, const Matrix& Z, const Vec& gateR, const Vec& gateL) {
  const Matrix ZM = Z.cwiseProduct(d.M);
  GapWeight w;
  const Vec xR = gateR.cwiseProduct(d.x), xL = gateL.cwiseProduct(d.x);
  // right: r = gateR o (x - tau); left: r = gateL o (tau - x): the same quadratic in tau.
  w.aR = gateR.dot(ZM * gateR);
  w.r0 = xR.dot(Z * xR);
  w.r1 = xR.dot(Z * gateR);
  w.r2 = gateR.dot(Z * gateR);
  w.aL = gateL.dot(ZM * gateL);
  w.l0 = xL.dot(Z * xL);
  w.l1 = xL.dot(Z * gateL);
  w.l2 = gateL.dot(Z * gateL);
  return w;
}

/// min of a convex function on [lo, hi] by golden-section search, and where.
std::pair<double, double> convex_minimum(const GapWeight& f, double lo, double hi) {
  const double ratio = 0.5 * (std::sqrt(5.0) - 1.0);
  double a = lo, b = hi;
  double c = b - ratio * (b - a), e = a + ratio * (b - a);
  double fc = f(c), fe = f(e);
  for (int step = 0; step < kGoldenSteps && b - a > 0.0; ++step) {
    if (fc <= fe) {
      b = e;
      e = c;
      fe = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = e;
      fc = fe;
      e = a + ratio * (b - a);
      fe = f(e);
    }
  }
  std::pair<double, double> best{f(lo), lo};
  for (const auto& [value, tau] : {std::pair{f(hi), hi}, std::pair{fc, c}, std::pair{fe, e}}) {
    if (value < best.first) best = {value, tau};
  }
  return best;
}

/// Lambda(Z) = inf over every tau of w_R(tau) + w_L(tau): the most a unit of linear term can be
/// worth (a cancelling pair at tau carries it at that cost); `where` gets a tau that attains it.
double pair_cost(const DataView& d, const Matrix& Z, double* where = nullptr) {
  const Index n = d.x.size();
  double best = std::numeric_limits<double>::infinity(), best_tau = d.distinct.front();
  const auto consider = [&](double value, double tau) {
    if (value < best) {
      best = value;
      best_tau = tau;
    }
  };
  for (const double u : d.distinct) consider(side_weight(d, Z, u, 1) + side_weight(d, Z, u, -1), u);
  Vec gateR(n), gateL(n);
  const std::size_t p = d.distinct.size();
  for (std::size_t g = 0; g + 1 < p; ++g) {  // open gap (u_g, u_{g+1})
    for (Index j = 0; j < n; ++j) {
      gateR[j] = d.x[j] > d.distinct[g] ? 1.0 : 0.0;
      gateL[j] = d.x[j] <= d.distinct[g] ? 1.0 : 0.0;
    }
    const GapWeight w = gap_weight(d, Z, gateR, gateL);
    const auto [value, tau] = convex_minimum(w, d.distinct[g], d.distinct[g + 1]);
    // The ends of an open gap are limits (a knot there is on a sample: counted above).
    if (tau > d.distinct[g] && tau < d.distinct[g + 1]) consider(value, tau);
    else best = std::min(best, value);
  }
  // Outside the data only the side facing the data is active: sqrt(a q(tau)), q minimal at p1/p2.
  const Vec ones = Vec::Ones(n), none = Vec::Zero(n);
  const GapWeight left = gap_weight(d, Z, ones, none), right = gap_weight(d, Z, none, ones);
  const double tauR = left.r2 > 0.0 ? std::min(left.r1 / left.r2, d.distinct.front())
                                    : d.distinct.front();
  const double tauL = right.l2 > 0.0 ? std::max(right.l1 / right.l2, d.distinct.back())
                                     : d.distinct.back();
  if (tauR < d.distinct.front()) consider(left(tauR), tauR);
  else best = std::min(best, left(tauR));
  if (tauL > d.distinct.back()) consider(right(tauL), tauL);
  else best = std::min(best, right(tauL));
  if (where != nullptr) *where = best_tau;
  return best;
}

/// The certified lower bound at Z (see the header): (1/n)[1^T Z 1 + 2 max_lambda phi(lambda)].
double global_dual(const DataView& d, const Matrix& Z, const Canonical& f) {
  const double cap = pair_cost(d, Z);
  const std::size_t m = f.knots.size();
  std::vector<double> right(m), left(m);
  for (std::size_t t = 0; t < m; ++t) {
    right[t] = std::abs(f.jumps[t]) * side_weight(d, Z, f.knots[t], 1);
    left[t] = std::abs(f.jumps[t]) * side_weight(d, Z, f.knots[t], -1);
  }
  const auto phi = [&](double lambda) {
    double value = -lambda * f.slope_left;
    for (std::size_t t = 0; t < m; ++t) value += std::min(right[t], left[t] - lambda * f.jumps[t]);
    return value;
  };
  // phi is concave and piecewise linear: its maximum on [-cap, cap] is at an end or a breakpoint.
  double best = std::max(phi(-cap), phi(cap));
  for (std::size_t t = 0; t < m; ++t) {
    const double breakpoint = (left[t] - right[t]) / f.jumps[t];
    if (std::abs(breakpoint) <= cap) best = std::max(best, phi(breakpoint));
  }
  return (Z.sum() + 2.0 * best) / d.n;
}

/// The Gauss-Newton Gram matrix (1/n) Phi^T Phi of a univariate net at the samples.
Matrix gram_matrix(const ShallowReluNet& net, const DataView& d) {
  const Index n = d.x.size(), k = net.width();
  Matrix gated(n, k), relu(n, k);
  for (Index i = 0; i < k; ++i) {
    for (Index j = 0; j < n; ++j) {
      const double z = net.W1()(i, 0) * d.x[j] + net.b1()[i];
      gated(j, i) = z > 0.0 ? net.w2()[i] : 0.0;
      relu(j, i) = std::max(z, 0.0);
    }
  }
  Matrix K = (gated * gated.transpose()).cwiseProduct(d.M) + relu * relu.transpose();
  K.array() += 1.0;
  return K / d.n;
}

/// The best of the global dual over softmax-weighted top eigenspaces of K at several smoothings
/// (the rescaling step's certificate lives at one of them).
double dual_from_gram(const DataView& d, const Matrix& K, const Canonical& f) {
  Eigen::SelfAdjointEigenSolver<Matrix> solver(K);
  if (solver.info() != Eigen::Success) return 0.0;
  const Vec& values = solver.eigenvalues();
  const double top = values[values.size() - 1];
  double best = 0.0;
  for (const double relative : {1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8}) {
    const double mu = relative * top;
    const Eigen::ArrayXd weights = ((values.array() - top) / mu).max(-700.0).exp();
    const Matrix Z = solver.eigenvectors() * (weights / weights.sum()).matrix().asDiagonal() *
                     solver.eigenvectors().transpose();
    best = std::max(best, global_dual(d, Z, f));
  }
  return best;
}

/// The candidate neurons of the joint search: per site (a knot of f, or a compensating pair with
/// jump 0) its right- and left-facing neuron; only those active on some sample are variables, a
/// dead one's slope is the site's jump minus the other's.
struct Site {
  double knot = 0.0;
  double jump = 0.0;
  Index right = -1;  ///< variable index of the right-facing neuron, -1 if dead on the data
  Index left = -1;
};

struct Candidates {
  std::vector<Site> sites;
  std::vector<Neuron> neurons;  ///< the variables (slope = warm start)
  Matrix E;                     ///< linear constraints E c = e on the variables' slopes
  Vec e;
};

/// Sites: f's knots, the two compensating pairs at the edges, then the pairs in `pairs`.
Candidates make_candidates(const Canonical& f, const DataView& d, const std::vector<double>& pairs) {
  const double lo = d.distinct.front(), hi = d.distinct.back();
  const double range = hi - lo;
  Candidates c;
  for (std::size_t t = 0; t < f.knots.size(); ++t) c.sites.push_back({f.knots[t], f.jumps[t]});
  c.sites.push_back({lo - kEdgeOffset * range, 0.0});
  c.sites.push_back({hi + kEdgeOffset * range, 0.0});
  for (const double tau : pairs) c.sites.push_back({tau, 0.0});
  for (Site& s : c.sites) {
    if (hi > s.knot) {
      s.right = static_cast<Index>(c.neurons.size());
      c.neurons.push_back({s.knot, 1, 0.0});
    }
    if (lo < s.knot) {
      s.left = static_cast<Index>(c.neurons.size());
      c.neurons.push_back({s.knot, -1, 0.0});
    }
  }
  const Index m = static_cast<Index>(c.neurons.size());
  Index rows = 1;
  for (const Site& s : c.sites) rows += (s.right >= 0 && s.left >= 0) ? 1 : 0;
  c.E = Matrix::Zero(rows, m);
  c.e = Vec::Zero(rows);
  Index row = 0;
  // Slope at -infinity: minus the sum of left-facing slopes, dead ones (jump - right) included.
  double slope_rhs = f.slope_left;
  for (const Site& s : c.sites) {
    if (s.right >= 0 && s.left >= 0) {
      c.E(row, s.right) = 1.0;
      c.E(row, s.left) = 1.0;
      c.e[row++] = s.jump;
    }
    if (s.left >= 0) {
      c.E(rows - 1, s.left) = -1.0;
    } else {
      c.E(rows - 1, s.right) = 1.0;
      slope_rhs += s.jump;
    }
  }
  c.e[rows - 1] = slope_rhs;
  return c;
}

/// The implementation given by the variables' slopes: every site's neurons (dead ones included) and
/// the output bias that makes it f.
std::vector<Neuron> implementation(const Candidates& cand, const Vec& slopes) {
  std::vector<Neuron> out;
  for (const Site& s : cand.sites) {
    const double right = s.right >= 0 ? slopes[s.right] : s.jump - slopes[s.left];
    const double left = s.left >= 0 ? slopes[s.left] : s.jump - slopes[s.right];
    if (right != 0.0) out.push_back({s.knot, 1, right});
    if (left != 0.0) out.push_back({s.knot, -1, left});
  }
  return out;
}

ShallowReluNet build_net(const std::vector<Neuron>& neurons, const Canonical& f) {
  ShallowReluNet net(1, static_cast<Index>(std::max<std::size_t>(neurons.size(), 1)));
  net.theta().setZero();
  // left (t - x)_+ = left (x - t)_+ - left x + left t: the constant left t is taken out of b2.
  double constant = f.constant;
  for (std::size_t i = 0; i < neurons.size(); ++i) {
    const Neuron& u = neurons[i];
    const Index k = static_cast<Index>(i);
    net.W1()(k, 0) = u.side;
    net.b1()[k] = -u.side * u.knot;
    net.w2()[k] = u.slope;
    if (u.side < 0) constant -= u.slope * u.knot;
  }
  net.b2() = constant;
  return net;
}

/// Smoothed lambda_max of K(c, beta) with its gradient in (c, beta).
struct JointEval {
  double lambda_max = 0.0;
  double smoothed = 0.0;
  Vec grad_slopes;
  Vec grad_scales;
  Matrix Z;
};

class JointProblem {
 public:
  JointProblem(const DataView& d, const std::vector<Neuron>& neurons) : d_(d) {
    const Index n = d.x.size(), m = static_cast<Index>(neurons.size());
    gate_.resize(n, m);
    value_.resize(n, m);
    for (Index i = 0; i < m; ++i) {
      const Neuron& u = neurons[static_cast<std::size_t>(i)];
      unit_features(d.x, u.knot, u.side, gate_.col(i), value_.col(i));
    }
  }

  /// Energies <A_i, Z>, <B_i, Z> of the unit-slope neurons.
  std::pair<Vec, Vec> energies(const Matrix& Z) const {
    const Matrix ZM = Z.cwiseProduct(d_.M);
    const Vec in = (gate_.transpose() * ZM * gate_).diagonal();
    const Vec out = (value_.transpose() * Z * value_).diagonal();
    return {in, out};
  }

  JointEval operator()(const Vec& slopes, const Vec& beta, double mu) const {
    const Eigen::ArrayXd down = slopes.array() * (-beta.array()).exp();
    const Eigen::ArrayXd up = beta.array().exp();
    const Matrix G = gate_ * down.matrix().asDiagonal();
    const Matrix R = value_ * up.matrix().asDiagonal();
    Matrix K = (G * G.transpose()).cwiseProduct(d_.M) + R * R.transpose();
    K.array() += 1.0;
    K /= d_.n;
    Eigen::SelfAdjointEigenSolver<Matrix> solver(K);
    require(solver.info() == Eigen::Success, "flattest_over_implementations: eigensolver failed");
    const Vec& all = solver.eigenvalues();
    const Index size = all.size();
    JointEval ev;
    ev.lambda_max = all[size - 1];
    Index kept = 1;
    while (kept < size && all[size - 1 - kept] >= ev.lambda_max - kSoftmaxCutoff * mu) ++kept;
    const Eigen::ArrayXd shifted = ((all.tail(kept).array() - ev.lambda_max) / mu).exp();
    ev.smoothed = ev.lambda_max + mu * std::log(shifted.sum());
    const Matrix U = solver.eigenvectors().rightCols(kept);
    ev.Z = U * (shifted / shifted.sum()).matrix().asDiagonal() * U.transpose();
    // Inner products with the gated features x o (gate u), gate u, and the values.
    const Matrix gated = gate_.transpose() * U;                         // m x kept
    const Matrix weighted = gate_.transpose() * d_.x.asDiagonal() * U;  // m x kept
    const Matrix valued = value_.transpose() * U;
    const Vec p = shifted / shifted.sum();
    const Vec in = (gated.array().square().matrix() + weighted.array().square().matrix()) * p;
    const Vec out = valued.array().square().matrix() * p;
    const Eigen::ArrayXd e2 = (-2.0 * beta.array()).exp();
    ev.grad_slopes = (2.0 / d_.n) * (slopes.array() * e2 * in.array()).matrix();
    ev.grad_scales = (2.0 / d_.n) * (up.square() * out.array() -
                                     slopes.array().square() * e2 * in.array()).matrix();
    return ev;
  }

 private:
  const DataView& d_;
  Matrix gate_, value_;
};

/// Rounds the joint optimum: a share below rho |s| moves to the other side of its site, and the
/// linear term this changes is rebalanced on the site split the most (or a compensating pair).
Vec round_slopes(const Candidates& cand, const Vec& slopes, double rho, Index left_pair,
                 Index right_pair) {
  Vec c = slopes;
  double scale = 0.0;
  for (const Site& s : cand.sites) scale = std::max(scale, std::abs(s.jump));
  for (std::size_t k = 0; k < cand.sites.size(); ++k) {
    const Site& s = cand.sites[k];
    const double threshold = rho * (s.jump != 0.0 ? std::abs(s.jump) : scale);
    if (s.right >= 0 && s.left >= 0) {
      if (std::abs(c[s.left]) <= threshold) {
        c[s.right] += c[s.left];
        c[s.left] = 0.0;
      } else if (std::abs(c[s.right]) <= threshold) {
        c[s.left] += c[s.right];
        c[s.right] = 0.0;
      }
    } else {
      const Index active = s.right >= 0 ? s.right : s.left;
      if (std::abs(c[active]) <= threshold) c[active] = 0.0;
      else if (std::abs(s.jump - c[active]) <= threshold) c[active] = s.jump;
    }
  }
  const Index last = cand.E.rows() - 1;
  const double violation = cand.e[last] - cand.E.row(last).dot(c);
  if (violation == 0.0) return c;
  // The site with the largest smaller share takes the change (keeping its jump).
  double best_share = 0.0;
  const Site* target = nullptr;
  for (const Site& s : cand.sites) {
    if (s.right < 0 || s.left < 0) continue;
    const double share = std::min(std::abs(c[s.right]), std::abs(c[s.left]));
    if (share > best_share) {
      best_share = share;
      target = &s;
    }
  }
  if (target != nullptr) {
    // E(last, left) = -1: moving v from left to right changes the row by +v.
    c[target->left] -= violation;
    c[target->right] += violation;
    return c;
  }
  // No split site: the compensating pair that is already in use, else the left one.
  const Index pair = c[right_pair] != 0.0 && c[left_pair] == 0.0 ? right_pair : left_pair;
  c[pair] += violation / cand.E(last, pair);
  return c;
}

struct Candidate {
  double value = std::numeric_limits<double>::infinity();
  double bound = 0.0;
  std::vector<Neuron> neurons;  ///< empty for the given net
  ShallowReluNet net;
};

/// One round of the search over the candidates `cand`: the joint smoothed minimisation over slopes
/// and log-scales, then rounding, building and rescaling (see the header). Updates the best
/// implementation, the certified lower bound and the last dual matrix; returns the iterations used.
int search_round(const Canonical& f, const DataView& d, const Dataset& data,
                 const FlattestAllOptions& options, const Candidates& cand, int budget,
                 Candidate& best, Index& best_neurons, double& lower, Matrix& last_Z) {
  const Matrix uniform = Matrix::Constant(data.n(), data.n(), 1.0 / d.n);
  const Index m = static_cast<Index>(cand.neurons.size());
  const Index left_pair = cand.sites[f.knots.size()].right;  // the edge pairs follow the knots
  const Index right_pair = cand.sites[f.knots.size() + 1].left;

  // Warm start: each knot leans to the side with the smaller one-sided weight at Z = 1 1^T / n
  // (which minimises its term of the u = 1/sqrt(n) bound), by at most 1 - kMinShare.
  Vec slopes = Vec::Zero(m);
  for (const Site& s : cand.sites) {
    if (s.jump == 0.0) continue;
    if (s.right >= 0 && s.left >= 0) {
      const double wR = side_weight(d, uniform, s.knot, 1), wL = side_weight(d, uniform, s.knot, -1);
      const double share_left = std::clamp(wR / (wR + wL), kMinShare, 1.0 - kMinShare);
      slopes[s.left] = share_left * s.jump;
      slopes[s.right] = s.jump - slopes[s.left];
    } else {
      slopes[s.right >= 0 ? s.right : s.left] = kMinShare * s.jump;
    }
  }
  // Onto the constraints by the least-norm correction, then coordinates in their null space.
  const Matrix EEt = cand.E * cand.E.transpose();
  const Eigen::LDLT<Matrix> normal(EEt);
  slopes += cand.E.transpose() * normal.solve(cand.e - cand.E * slopes);
  const Index rank = cand.E.rows();
  const Eigen::HouseholderQR<Matrix> qr(cand.E.transpose());
  const Matrix Q = qr.householderQ();
  const Matrix null_basis = Q.rightCols(m - rank);
  const Vec base = slopes;

  const JointProblem problem(d, cand.neurons);
  Vec beta(m);
  {
    const auto [in, out] = problem.energies(uniform);
    for (Index i = 0; i < m; ++i) {
      const double ratio = slopes[i] * slopes[i] * in[i] / out[i];
      beta[i] = ratio > 0.0 ? std::clamp(0.25 * std::log(ratio), -30.0, 30.0) : -30.0;
    }
  }
  Vec z = Vec::Zero(m - rank);
  const auto slopes_of = [&](const Vec& zz) -> Vec { return base + null_basis * zz; };

  JointEval current = problem(slopes, beta, 1.0);
  double mu = kInitialSmoothing * current.lambda_max;
  const double final_mu = kFinalSmoothing * current.lambda_max;
  current = problem(slopes, beta, mu);
  Vec best_z = z, best_beta = beta;
  double best_joint = current.lambda_max;
  int iterations = 0;
  const Index dim = (m - rank) + m;
  const auto stack = [&](const JointEval& ev) {
    Vec g(dim);
    g << null_basis.transpose() * ev.grad_slopes, ev.grad_scales;
    return g;
  };
  while (mu >= final_mu && iterations < budget) {
    std::deque<std::pair<Vec, Vec>> memory;
    Vec gradient = stack(current);
    for (int level_step = 0; level_step < kIterationsPerLevel && iterations < budget;
         ++level_step) {
      ++iterations;
      Vec direction = detail::lbfgs_direction(gradient, memory);
      if (direction.dot(gradient) >= 0.0) {
        memory.clear();
        direction = -gradient;
      }
      const double largest = direction.tail(m).lpNorm<Eigen::Infinity>();
      if (largest > kMaxLogScaleStep) direction *= kMaxLogScaleStep / largest;
      const double slope = direction.dot(gradient);
      double step = 1.0;
      bool accepted = false;
      Vec trial_z, trial_beta;
      JointEval trial;
      for (int halving = 0; halving < kMaxHalvings; ++halving, step *= 0.5) {
        trial_z = z + step * direction.head(m - rank);
        trial_beta = beta + step * direction.tail(m);
        trial = problem(slopes_of(trial_z), trial_beta, mu);
        if (trial.smoothed <= current.smoothed + kArmijo * step * slope) {
          accepted = true;
          break;
        }
      }
      if (!accepted) break;
      const Vec trial_gradient = stack(trial);
      Vec s(dim);
      s << trial_z - z, trial_beta - beta;
      Vec y = trial_gradient - gradient;
      const double decrease = current.smoothed - trial.smoothed;
      if (s.dot(y) > 1e-12 * s.norm() * y.norm()) {
        memory.emplace_back(std::move(s), std::move(y));
        if (memory.size() > static_cast<std::size_t>(kLbfgsMemory)) memory.pop_front();
      }
      z = trial_z;
      beta = trial_beta;
      current = std::move(trial);
      gradient = trial_gradient;
      if (current.lambda_max < best_joint) {
        best_joint = current.lambda_max;
        best_z = z;
        best_beta = beta;
      }
      if (decrease <= 1e-15 * current.smoothed) break;  // stalled at this smoothing
    }
    lower = std::max(lower, global_dual(d, current.Z, f));
    last_Z = current.Z;
    mu /= kSmoothingDecrease;
    current = problem(slopes_of(z), beta, mu);
  }

  // Round, build, rescale; keep the best (fewest neurons among near-ties).
  const Vec joint_slopes = slopes_of(best_z);
  for (const double rho : kRoundingShares) {
    const Vec rounded = round_slopes(cand, joint_slopes, rho, left_pair, right_pair);
    std::vector<Neuron> neurons = implementation(cand, rounded);
    if (neurons.empty()) continue;
    const ShallowReluNet built = build_net(neurons, f);
    const FlattestResult flat = flattest_implementation(built, data, options.rescaling);
    lower = std::max(lower, dual_from_gram(d, gram_matrix(flat.net, d), f));
    const Index count = static_cast<Index>(neurons.size());

    const bool better = flat.sharpness < best.value * (1.0 - kTieTolerance);
    const bool tie_fewer = flat.sharpness <= best.value * (1.0 + kTieTolerance) && count < best_neurons;
    if (better || tie_fewer) {
      best = {flat.sharpness, flat.lower_bound, std::move(neurons), flat.net};
      best_neurons = count;
    }
  }

  return iterations;
}

}  // namespace

FlattestAllResult flattest_over_implementations(const ShallowReluNet& net, const Dataset& data,
                                                const FlattestAllOptions& options) {
  const std::string where = "flattest_over_implementations: ";
  require_relu(net, "flattest_over_implementations");
  require(net.width() >= 1, where + "the net is empty (width 0)");
  require(net.input_dim() == 1,
          where + "expected a net with input dimension 1, got " + std::to_string(net.input_dim()) +
              " (moving a neuron to its other side is implemented for d = 1 only)");
  validate_dataset(data, where + "data");
  require(data.dim() == 1, where + "data: expected input dimension 1 (the net's), got " +
                               std::to_string(data.dim()));
  require(options.tol > 0.0 && options.max_iter >= 0, where + "expected tol > 0 and max_iter >= 0");

  DataView d;
  d.x = data.X.col(0);
  d.n = static_cast<double>(data.n());
  d.M = d.x * d.x.transpose();
  d.M.array() += 1.0;
  d.distinct.assign(d.x.data(), d.x.data() + d.x.size());
  std::sort(d.distinct.begin(), d.distinct.end());
  d.distinct.erase(std::unique(d.distinct.begin(), d.distinct.end()), d.distinct.end());
  require(d.distinct.size() >= 2, where + "data: expected at least two distinct inputs");

  const Canonical f = canonical_form(net);
  FlattestAllResult result;

  // The given net, rescaled: the baseline and the first candidate.
  const FlattestResult given = flattest_implementation(net, data, options.rescaling);
  result.rescaling_sharpness = given.sharpness;
  result.rescaling_lower_bound = given.lower_bound;
  Candidate best{given.sharpness, given.lower_bound, {}, given.net};
  Index best_neurons = net.width();

  const Matrix uniform = Matrix::Constant(data.n(), data.n(), 1.0 / d.n);
  double lower = std::max(global_dual(d, uniform, f), dual_from_gram(d, gram_matrix(given.net, d), f));

  // Column generation (ours): after each round, the compensating pair that is cheapest at the last
  // dual matrix (the tau attaining Lambda(Z)) joins the candidates, up to kPairRounds times.
  std::vector<double> pairs;
  int iterations = 0;
  for (int round = 0; round <= kPairRounds; ++round) {
    Matrix last_Z = uniform;
    iterations += search_round(f, d, data, options, make_candidates(f, d, pairs),
                               options.max_iter - iterations, best, best_neurons, lower, last_Z);
    double tau = 0.0;
    pair_cost(d, last_Z, &tau);
    const double range = d.distinct.back() - d.distinct.front();
    bool known = std::abs(tau - (d.distinct.front() - kEdgeOffset * range)) <= kEdgeOffset * range ||
                 std::abs(tau - (d.distinct.back() + kEdgeOffset * range)) <= kEdgeOffset * range;
    for (const double p : pairs) known = known || p == tau;
    for (const double t : f.knots) known = known || t == tau;
    if (known || best.value - lower <= options.tol * best.value) break;
    pairs.push_back(tau);
  }
  result.iterations = iterations;

  result.sharpness = best.value;
  result.net_lower_bound = best.bound;
  result.lower_bound = lower;
  result.certified = best.value - lower <= options.tol * best.value;
  result.net = best.net;
  result.neurons = best.neurons.empty() ? net.width() : static_cast<Index>(best.neurons.size());
  result.extra_neurons = std::max<Index>(0, result.neurons - net.width());

  // Describe the implementation per knot (from the given net's neurons when it is the best).
  std::vector<Neuron> described = best.neurons;
  if (described.empty()) {
    for (Index i = 0; i < net.width(); ++i) {
      const double w1 = net.W1()(i, 0);
      if (w1 != 0.0 && net.w2()[i] != 0.0) {
        described.push_back({-net.b1()[i] / w1, w1 > 0.0 ? 1 : -1, net.w2()[i] * std::abs(w1)});
      }
    }
  }
  std::map<double, KnotShare> shares;
  for (std::size_t t = 0; t < f.knots.size(); ++t) shares[f.knots[t]] = {f.knots[t], f.jumps[t]};
  for (const Neuron& u : described) {
    auto it = shares.find(u.knot);
    if (it == shares.end()) {  // a compensating pair
      result.compensation_knot = u.knot;
      if (u.side > 0) result.compensation_slope = u.slope;
      continue;
    }
    (u.side > 0 ? it->second.right : it->second.left) += u.slope;
  }
  for (const auto& [knot, share] : shares) {
    result.knots.push_back(share);
    if (share.right != 0.0 && share.left != 0.0) ++result.split_knots;
  }
  return result;
}

}  // namespace relustab
