// SPDX-License-Identifier: MIT
// Neuron-teacher cosines, the alignment field D_n and its extremal vectors on the sphere (Boursier and Flammarion 2025).
#include <relustab/analysis/alignment.h>

#include <relustab/core/error.h>
#include <relustab/core/format.h>
#include <relustab/core/rng.h>

#include <Eigen/QR>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

namespace relustab {
namespace {

/// D_n(w) and G(w) in one pass, without validation. w has length d (no bias) or d + 1 (x read as
/// (x, 1)). Returns G; writes D_n into `field`.
double field_and_objective(const Dataset& data, const Eigen::Ref<const Vec>& w, Vec& field) {
  const Index d = data.dim();
  const bool with_bias = w.size() == d + 1;
  Vec pre = data.X * w.head(d);
  if (with_bias) pre.array() += w[d];
  // Coefficient y_k on the samples where the neuron is strictly active (relu'(0) = 0), else 0.
  const Vec coef = (pre.array() > 0.0).select(data.y, 0.0);
  const double inv_n = 1.0 / static_cast<double>(data.n());
  field.resize(w.size());
  field.head(d).noalias() = data.X.transpose() * coef;
  if (with_bias) field[d] = coef.sum();
  field *= inv_n;
  return coef.dot(pre.cwiseMax(0.0)) * inv_n;
}

/// G(w) = (1/n) sum_k y_k relu(<w, x_k>) for rows x_k of X (already augmented when needed).
double alignment_objective_unchecked(const RowMatrix& X, const Vec& y, const Vec& w) {
  return (X * w).cwiseMax(0.0).dot(y) / static_cast<double>(y.size());
}

void require_field_input(const Dataset& data, const Eigen::Ref<const Vec>& w) {
  validate_dataset(data, "data");
  const Index d = data.dim();
  require(w.size() == d || w.size() == d + 1,
          "w: expected length " + std::to_string(d) + " (the input dimension) or " +
              std::to_string(d + 1) + " (with a bias coordinate), got " + std::to_string(w.size()));
  require(w.allFinite(), "w: expected finite entries (found NaN or infinity)");
}

/// Where one search from one start ended.
struct SearchEnd {
  Vec w;
  double value = 0.0;       ///< G(w)
  double stationarity = 0.0;
  bool stationary = false;
  bool inactive = false;
};

/// The active-set Riemannian ascent of F(w) = sum_k c_k relu(<w, x_k>) on the unit sphere, where
/// c_k = sign * y_k / n (sign -1 finds G's minimisers). See extremal_vectors for the method.
class SphereSearch {
 public:
  SphereSearch(const RowMatrix& X, const Vec& y, double sign, const ExtremalOptions& options,
               double tolerance)
      : X_(X), c_(sign * y / static_cast<double>(y.size())), options_(options), tol_(tolerance),
        row_norm_(X.rowwise().norm()) {}

  SearchEnd run(Vec w) {
    const Index n = X_.rows();
    side_.assign(static_cast<size_t>(n), 0);
    kinks_.clear();
    const Vec a0 = X_ * w;
    for (Index k = 0; k < n; ++k) side_[static_cast<size_t>(k)] = a0[k] > 0.0 ? 1 : -1;
    double value = objective(w);
    SearchEnd end;
    for (std::int64_t iteration = 0;; ++iteration) {
      const Vec D = face_field();
      const Matrix Q = face_normal_basis(w);
      const Vec t = D - Q * (Q.transpose() * D);
      const double t_norm = t.norm();
      if (t_norm <= tol_) {
        // KKT point of the face: check each kink's one-sided conditions, release the worst one.
        const auto [index, violation, to_side] = worst_kink(w, D, t);
        end.stationarity = std::max(t_norm, violation);
        if (violation <= tol_) {
          end.stationary = true;
          break;
        }
        if (iteration >= options_.max_iterations) break;
        side_[static_cast<size_t>(kinks_[index])] = to_side;
        kinks_.erase(kinks_.begin() + static_cast<std::ptrdiff_t>(index));
        continue;
      }
      end.stationarity = t_norm;
      if (iteration >= options_.max_iterations) break;
      const Vec u = t / t_norm;
      // First kink on the great circle cos(theta) w + sin(theta) u, theta in (0, pi]: with
      // alpha = s <w, x_k> (>= 0 on its side s) and beta = s <u, x_k>, the root of
      // alpha cos + beta sin is atan2(alpha, -beta).
      const Vec a = X_ * w;
      const Vec b = X_ * u;
      double first = std::numbers::pi;
      Index first_k = -1;
      for (Index k = 0; k < n; ++k) {
        const int s = side_[static_cast<size_t>(k)];
        if (s == 0) continue;
        const double root = std::atan2(std::max(s * a[k], 0.0), -s * b[k]);
        if (root < first) {
          first = root;
          first_k = k;
        }
      }
      // On the face F = <w, D> cos + ||t|| sin until the first kink: optimum at this angle.
      const double optimum = std::atan2(t_norm, w.dot(D));
      bool moved = false;
      double angle = optimum;
      for (int halving = 0; halving < kMaxHalvings && angle > first; ++halving, angle *= 0.5) {
        Vec trial = along(w, u, angle);
        const double trial_value = objective(trial);
        // Strictly better too: at tiny angles the Armijo term is below the rounding of F.
        if (trial_value >= value + kArmijo * angle * t_norm && trial_value > value) {
          w = std::move(trial);
          resign(w);
          value = objective(w);
          moved = true;
          break;
        }
      }
      if (moved) continue;
      if (optimum <= first || first_k < 0) {
        w = along(w, u, optimum);  // the face optimum comes before any kink: no side changes
      } else {
        w = along(w, u, first);
        side_[static_cast<size_t>(first_k)] = 0;
        kinks_.push_back(first_k);
        w = onto_face(w);
      }
      value = objective(w);
    }
    end.inactive = std::none_of(side_.begin(), side_.end(), [](int s) { return s > 0; });
    end.value = value;  // sign * G, turned back by the caller
    end.w = std::move(w);
    return end;
  }

 private:
  static constexpr double kArmijo = 1e-4;  // sufficient increase: F(theta) >= F + kArmijo theta ||t||
  static constexpr int kMaxHalvings = 50;  // then the step goes to the first kink instead

  double objective(const Vec& w) const { return (X_ * w).cwiseMax(0.0).dot(c_); }

  /// D_K: the gradient of F on the current face (samples on their positive side).
  Vec face_field() const {
    Vec D = Vec::Zero(X_.cols());
    for (Index k = 0; k < X_.rows(); ++k) {
      if (side_[static_cast<size_t>(k)] > 0) D += c_[k] * X_.row(k).transpose();
    }
    return D;
  }

  /// Orthonormal basis of span{w, x_k : k in K}: the directions the face's tangent space excludes.
  Matrix face_normal_basis(const Vec& w) const {
    Matrix N(X_.cols(), 1 + static_cast<Index>(kinks_.size()));
    N.col(0) = w;
    for (size_t j = 0; j < kinks_.size(); ++j) N.col(1 + static_cast<Index>(j)) = X_.row(kinks_[j]).transpose();
    Eigen::ColPivHouseholderQR<Matrix> qr(N);
    return qr.householderQ() * Matrix::Identity(X_.cols(), qr.rank());
  }

  struct Worst {
    size_t index = 0;
    double violation = 0.0;
    int to_side = 0;
  };

  /// The kink whose one-sided condition is most violated (violation times ||x_k||) and the side that
  /// improves F. The normal part of D on the kinks is sum mu_k x_k; crossing kink k to its negative
  /// side changes F at rate mu_k per unit of -<., x_k>, to its positive side at rate mu_k + c_k.
  Worst worst_kink(const Vec& w, const Vec& D, const Vec& t) const {
    Worst worst;
    if (kinks_.empty()) return worst;
    Matrix M(X_.cols(), static_cast<Index>(kinks_.size()));
    for (size_t j = 0; j < kinks_.size(); ++j) M.col(static_cast<Index>(j)) = X_.row(kinks_[j]).transpose();
    const Vec normal = D - w.dot(D) * w - t;
    const Vec mu = M.colPivHouseholderQr().solve(normal);
    for (size_t j = 0; j < kinks_.size(); ++j) {
      const Index k = kinks_[j];
      const double m = mu[static_cast<Index>(j)];
      const double to_negative = -m * row_norm_[k];
      const double to_positive = (m + c_[k]) * row_norm_[k];
      if (to_negative > worst.violation) worst = {j, to_negative, -1};
      if (to_positive > worst.violation) worst = {j, to_positive, 1};
    }
    return worst;
  }

  static Vec along(const Vec& w, const Vec& u, double angle) {
    Vec out = std::cos(angle) * w + std::sin(angle) * u;
    return out / out.norm();
  }

  /// w projected onto the kinks' hyperplanes and normalised (removes rounding drift).
  Vec onto_face(const Vec& w) const {
    if (kinks_.empty()) return w;
    Matrix M(X_.cols(), static_cast<Index>(kinks_.size()));
    for (size_t j = 0; j < kinks_.size(); ++j) M.col(static_cast<Index>(j)) = X_.row(kinks_[j]).transpose();
    Eigen::ColPivHouseholderQR<Matrix> qr(M);
    const Matrix Q = qr.householderQ() * Matrix::Identity(X_.cols(), qr.rank());
    Vec out = w - Q * (Q.transpose() * w);
    return out / out.norm();
  }

  /// After a free step: samples off the kinks take the side of their actual sign (strict: 0 is -).
  void resign(Vec& w) {
    w = onto_face(w);
    const Vec a = X_ * w;
    for (Index k = 0; k < X_.rows(); ++k) {
      int& s = side_[static_cast<size_t>(k)];
      if (s != 0) s = a[k] > 0.0 ? 1 : -1;
    }
  }

  const RowMatrix& X_;
  Vec c_;
  const ExtremalOptions& options_;
  double tol_;
  Vec row_norm_;
  std::vector<int> side_;     // +1 / -1: the sample's side; 0: on a kink held in the face
  std::vector<Index> kinks_;  // the samples held at <w, x_k> = 0
};

/// Merges end points within merge_tol into the best-valued one (sign * value largest), then sorts.
std::vector<ExtremalVector> merge(std::vector<SearchEnd>& ends, double sign, double merge_tol) {
  // Best first, so each cluster's representative is its best point.
  std::stable_sort(ends.begin(), ends.end(), [sign](const SearchEnd& a, const SearchEnd& b) {
    return sign * a.value > sign * b.value;
  });
  std::vector<ExtremalVector> found;
  for (const SearchEnd& end : ends) {
    if (end.inactive) continue;
    auto same = std::find_if(found.begin(), found.end(), [&](const ExtremalVector& e) {
      return (e.direction - end.w).norm() <= merge_tol;
    });
    if (same != found.end()) {
      ++same->starts;
      continue;
    }
    ExtremalVector e;
    e.direction = end.w;
    e.value = end.value;
    e.stationarity = end.stationarity;
    e.stationary = end.stationary;
    e.starts = 1;
    found.push_back(std::move(e));
  }
  return found;
}

}  // namespace

NeuronAlignment neuron_alignment(const ShallowReluNet& net, const Eigen::Ref<const Vec>& beta,
                                 const AlignmentOptions& options) {
  const Index d = net.input_dim();
  const Index k = net.width();
  require(k >= 1 && d >= 1, "net: expected a network with input_dim >= 1 and width >= 1");
  require(beta.size() == d || beta.size() == d + 1,
          "beta: expected length " + std::to_string(d) + " (the input dimension) or " +
              std::to_string(d + 1) + " (with the teacher's intercept), got " +
              std::to_string(beta.size()));
  require(beta.allFinite() && beta.norm() > 0.0, "beta: expected a finite, non-zero vector");
  require(options.threshold > 0.0 && options.threshold <= 1.0,
          "threshold: expected a number in (0, 1], got " + format_number(options.threshold));
  const bool with_bias = beta.size() == d + 1;
  const Vec unit_beta = beta / beta.norm();

  NeuronAlignment result;
  result.cosine.resize(k);
  result.signed_cosine.resize(k);
  Index aligned = 0;
  Index consistent = 0;
  double weight_total = 0.0;
  double weight_aligned = 0.0;
  double weight_consistent = 0.0;
  Vec direction(beta.size());
  for (Index i = 0; i < k; ++i) {
    direction.head(d) = net.W1().row(i).transpose();
    if (with_bias) direction[d] = net.b1()[i];
    const double norm = direction.norm();
    const double cosine = norm > 0.0 ? std::clamp(direction.dot(unit_beta) / norm, -1.0, 1.0) : 0.0;
    const double a = net.w2()[i];
    const double sign = a > 0.0 ? 1.0 : (a < 0.0 ? -1.0 : 0.0);
    result.cosine[i] = cosine;
    result.signed_cosine[i] = sign * cosine;
    const bool is_aligned = std::abs(cosine) >= options.threshold;
    const bool is_consistent = sign * cosine >= options.threshold;
    aligned += is_aligned ? 1 : 0;
    consistent += is_consistent ? 1 : 0;
    weight_total += std::abs(a);
    if (is_aligned) weight_aligned += std::abs(a);
    if (is_consistent) weight_consistent += std::abs(a);
  }
  result.fraction_aligned = static_cast<double>(aligned) / static_cast<double>(k);
  result.fraction_sign_consistent = static_cast<double>(consistent) / static_cast<double>(k);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  result.weighted_fraction_aligned = weight_total > 0.0 ? weight_aligned / weight_total : nan;
  result.weighted_fraction_sign_consistent =
      weight_total > 0.0 ? weight_consistent / weight_total : nan;
  return result;
}

Vec alignment_field(const Dataset& data, const Eigen::Ref<const Vec>& w) {
  require_field_input(data, w);
  Vec field;
  field_and_objective(data, w, field);
  return field;
}

double alignment_objective(const Dataset& data, const Eigen::Ref<const Vec>& w) {
  require_field_input(data, w);
  Vec field;
  return field_and_objective(data, w, field);
}

ExtremalVectors extremal_vectors(const Dataset& data, const ExtremalOptions& options) {
  validate_dataset(data, "data");
  require(options.starts >= 1,
          "starts: expected an integer >= 1, got " + std::to_string(options.starts));
  require(options.max_iterations >= 1,
          "max_iterations: expected an integer >= 1, got " + std::to_string(options.max_iterations));
  require(std::isfinite(options.gradient_tol) && options.gradient_tol >= 0.0,
          "gradient_tol: expected a finite number >= 0, got " + format_number(options.gradient_tol));
  require(std::isfinite(options.merge_tol) && options.merge_tol >= 0.0,
          "merge_tol: expected a finite number >= 0, got " + format_number(options.merge_tol));
  const Index d = data.dim();
  const Index dim = d + (options.with_bias ? 1 : 0);
  // The inputs as the neuron sees them: (x, 1) with a bias.
  RowMatrix X(data.n(), dim);
  X.leftCols(d) = data.X;
  if (options.with_bias) X.col(d).setOnes();
  const double scale =
      (data.y.cwiseAbs().array() * X.rowwise().norm().array()).sum() / static_cast<double>(data.n());
  const double tolerance = options.gradient_tol * scale;
  SphereSearch ascent(X, data.y, 1.0, options, tolerance);
  SphereSearch descent(X, data.y, -1.0, options, tolerance);

  Rng rng(options.seed);
  std::vector<SearchEnd> ascents;
  std::vector<SearchEnd> descents;
  ExtremalVectors result;
  for (Index s = 0; s < options.starts; ++s) {
    Vec start(dim);
    do {  // an all-zero draw has probability ~0, but would have no direction
      for (Index c = 0; c < dim; ++c) start[c] = rng.normal();
    } while (start.norm() == 0.0);
    start /= start.norm();
    ascents.push_back(ascent.run(start));
    descents.push_back(descent.run(start));
    // The searches report sign * G; G itself by the public formula (strict indicator).
    ascents.back().value = alignment_objective_unchecked(X, data.y, ascents.back().w);
    descents.back().value = alignment_objective_unchecked(X, data.y, descents.back().w);
    result.inactive_ascents += ascents.back().inactive ? 1 : 0;
    result.inactive_descents += descents.back().inactive ? 1 : 0;
  }
  result.maximizers = merge(ascents, 1.0, options.merge_tol);
  result.minimizers = merge(descents, -1.0, options.merge_tol);
  return result;
}

}  // namespace relustab
