// SPDX-License-Identifier: MIT
// Early-alignment diagnostics (Boursier and Flammarion 2025): neuron cosines and D_n against brute-force loops, the
// extremal vectors against the linear-teacher closed form, exhaustive sampling and stationarity.
#include <relustab/analysis/alignment.h>
#include <relustab/core/error.h>
#include <relustab/core/rng.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "dense_oracles.h"
#include "test_util.h"

namespace relustab {
namespace {

/// <w, (x_k) or (x_k, 1)> by a loop.
double pre(const Dataset& data, const Vec& w, Index k) {
  double z = w.size() == data.dim() + 1 ? w[data.dim()] : 0.0;
  for (Index c = 0; c < data.dim(); ++c) z += w[c] * data.X(k, c);
  return z;
}

/// D_n(w) = (1/n) sum_k 1{<w, x_k> > 0} y_k x_k (x_k with a trailing 1 when w has length d + 1).
Vec brute_field(const Dataset& data, const Vec& w) {
  Vec D = Vec::Zero(w.size());
  for (Index k = 0; k < data.n(); ++k) {
    if (!(pre(data, w, k) > 0.0)) continue;
    for (Index c = 0; c < data.dim(); ++c) D[c] += data.y[k] * data.X(k, c);
    if (w.size() == data.dim() + 1) D[data.dim()] += data.y[k];
  }
  return D / static_cast<double>(data.n());
}

/// G(w) = (1/n) sum_k y_k max(0, <w, x_k>).
double brute_objective(const Dataset& data, const Vec& w) {
  double sum = 0.0;
  for (Index k = 0; k < data.n(); ++k) sum += data.y[k] * std::max(0.0, pre(data, w, k));
  return sum / static_cast<double>(data.n());
}

double cosine(const Vec& a, const Vec& b) {
  double ab = 0.0, aa = 0.0, bb = 0.0;
  for (Index c = 0; c < a.size(); ++c) {
    ab += a[c] * b[c];
    aa += a[c] * a[c];
    bb += b[c] * b[c];
  }
  return aa == 0.0 ? 0.0 : ab / std::sqrt(aa * bb);
}

Vec random_unit(Index dim, Rng& rng) {
  Vec v(dim);
  for (Index c = 0; c < dim; ++c) v[c] = rng.normal();
  return v / v.norm();
}

/// x ~ N(0, I_d), y = <beta, x> + sigma N(0, 1): the linear teacher of Boursier and Flammarion 2025.
Dataset linear_teacher(Index n, const Vec& beta, double sigma, std::uint64_t seed) {
  Rng rng(seed);
  Dataset data;
  data.X.resize(n, beta.size());
  data.y.resize(n);
  for (Index k = 0; k < n; ++k) {
    for (Index c = 0; c < beta.size(); ++c) data.X(k, c) = rng.normal();
    data.y[k] = data.X.row(k).dot(beta.transpose()) + sigma * rng.normal();
  }
  return data;
}

/// (1/n) sum_k |y_k| ||x_k||: the scale of D_n.
double data_scale(const Dataset& data) {
  double sum = 0.0;
  for (Index k = 0; k < data.n(); ++k) sum += std::abs(data.y[k]) * data.X.row(k).norm();
  return sum / static_cast<double>(data.n());
}

/// min over lambda in [0, 1]^K of ||(I - w w^T) (D_off + sum_{k in K} lambda_k y_k x_k / n)||, K the
/// samples within 1e-9 ||x_k|| of their kink at w (no bias coordinate), D_off the sum over the samples
/// clearly active. The box-constrained least squares is solved by trying every face of the box:
/// each lambda_k at 0, at 1 or free (then by unconstrained least squares, kept if it lies in [0, 1]).
double clarke_tangential_norm(const Dataset& data, const Vec& w) {
  const double n = static_cast<double>(data.n());
  Vec D = Vec::Zero(w.size());
  std::vector<Index> kinks;
  for (Index k = 0; k < data.n(); ++k) {
    const double z = pre(data, w, k);
    if (std::abs(z) <= 1e-9 * data.X.row(k).norm()) {
      kinks.push_back(k);
    } else if (z > 0.0) {
      D += data.y[k] * data.X.row(k).transpose() / n;
    }
  }
  const Matrix P = Matrix::Identity(w.size(), w.size()) - w * w.transpose();
  const Index m = static_cast<Index>(kinks.size());
  Matrix A(w.size(), m);
  for (Index j = 0; j < m; ++j) A.col(j) = P * data.X.row(kinks[static_cast<size_t>(j)]).transpose() * data.y[kinks[static_cast<size_t>(j)]] / n;
  const Vec b = P * D;
  double best = INFINITY;
  Index faces = 1;
  for (Index j = 0; j < m; ++j) faces *= 3;
  for (Index f = 0; f < faces; ++f) {
    Vec lambda = Vec::Zero(m);
    std::vector<Index> free;
    Index code = f;
    for (Index j = 0; j < m; ++j, code /= 3) {
      if (code % 3 == 1) lambda[j] = 1.0;
      if (code % 3 == 2) free.push_back(j);
    }
    if (!free.empty()) {
      Matrix F(w.size(), static_cast<Index>(free.size()));
      for (size_t q = 0; q < free.size(); ++q) F.col(static_cast<Index>(q)) = A.col(free[q]);
      const Vec rhs = -(b + A * lambda);
      const Vec x = test::pivoted_qr_solve(F, rhs);
      bool inside = true;
      for (size_t q = 0; q < free.size(); ++q) {
        inside = inside && x[static_cast<Index>(q)] >= -1e-9 && x[static_cast<Index>(q)] <= 1.0 + 1e-9;
        lambda[free[q]] = x[static_cast<Index>(q)];
      }
      if (!inside) continue;
    }
    best = std::min(best, (b + A * lambda).norm());
  }
  return best;
}

TEST(NeuronAlignment, CosinesAndFractionsMatchBruteForce) {
  Rng rng(31);
  const Index d = 3;
  ShallowReluNet net = test::random_net(d, 12, rng);
  Vec beta(d);
  beta << 1.0, -2.0, 0.5;
  // Hand-made neurons: 0 along +beta with a > 0 (aligned, consistent); 1 along -beta with a > 0
  // (aligned, inconsistent); 2 along -beta with a < 0 (aligned, consistent); 3 has W1 = 0 (cosine 0);
  // 4 along +beta with a = 0 (aligned, no sign). The others are random.
  net.W1().row(0) = 2.0 * beta.transpose();
  net.w2()[0] = 0.7;
  net.W1().row(1) = -3.0 * beta.transpose();
  net.w2()[1] = 0.2;
  net.W1().row(2) = -0.5 * beta.transpose();
  net.w2()[2] = -1.1;
  net.W1().row(3).setZero();
  net.W1().row(4) = beta.transpose();
  net.w2()[4] = 0.0;
  for (const double threshold : {0.9, 0.3}) {
    SCOPED_TRACE("threshold " + std::to_string(threshold));
    AlignmentOptions options;
    options.threshold = threshold;
    const NeuronAlignment a = neuron_alignment(net, beta, options);
    ASSERT_EQ(a.cosine.size(), 12);
    double aligned = 0, consistent = 0, w_aligned = 0, w_consistent = 0, w_total = 0;
    for (Index i = 0; i < 12; ++i) {
      const Vec w1 = net.W1().row(i).transpose();
      const double c = cosine(w1, beta);
      const double a_i = net.w2()[i];
      const double s = a_i > 0 ? 1.0 : (a_i < 0 ? -1.0 : 0.0);
      EXPECT_NEAR(a.cosine[i], c, 1e-14) << "neuron " << i;
      EXPECT_NEAR(a.signed_cosine[i], s * c, 1e-14) << "neuron " << i;
      aligned += std::abs(c) >= threshold;
      consistent += s * c >= threshold;
      w_total += std::abs(a_i);
      w_aligned += std::abs(c) >= threshold ? std::abs(a_i) : 0.0;
      w_consistent += s * c >= threshold ? std::abs(a_i) : 0.0;
    }
    EXPECT_DOUBLE_EQ(a.cosine[0], 1.0);
    EXPECT_DOUBLE_EQ(a.cosine[1], -1.0);
    EXPECT_DOUBLE_EQ(a.signed_cosine[2], 1.0);
    EXPECT_EQ(a.cosine[3], 0.0);
    EXPECT_EQ(a.signed_cosine[4], 0.0);
    EXPECT_DOUBLE_EQ(a.fraction_aligned, aligned / 12.0);
    EXPECT_DOUBLE_EQ(a.fraction_sign_consistent, consistent / 12.0);
    EXPECT_NEAR(a.weighted_fraction_aligned, w_aligned / w_total, 1e-14);
    EXPECT_NEAR(a.weighted_fraction_sign_consistent, w_consistent / w_total, 1e-14);
    EXPECT_GE(a.fraction_aligned, 4.0 / 12.0);  // neurons 0, 1, 2, 4 at least
    EXPECT_LT(a.fraction_sign_consistent, a.fraction_aligned);  // neuron 1 and 4 are not consistent
  }
}

TEST(NeuronAlignment, WithTheInterceptTheBiasIsPartOfTheDirection) {
  Rng rng(32);
  const ShallowReluNet net = test::random_net(2, 6, rng);
  Vec beta(3);
  beta << 0.3, -1.0, 0.8;  // teacher slope (0.3, -1) and intercept 0.8
  const NeuronAlignment a = neuron_alignment(net, beta);
  for (Index i = 0; i < net.width(); ++i) {
    Vec dir(3);
    dir << net.W1()(i, 0), net.W1()(i, 1), net.b1()[i];
    EXPECT_NEAR(a.cosine[i], cosine(dir, beta), 1e-14) << "neuron " << i;
  }
  // Without the intercept the bias is ignored: another value.
  const NeuronAlignment plain = neuron_alignment(net, beta.head(2));
  EXPECT_GT((plain.cosine - a.cosine).norm(), 1e-3);
  EXPECT_NEAR(plain.cosine[0], cosine(net.W1().row(0).transpose(), beta.head(2)), 1e-14);
}

TEST(NeuronAlignment, WeightedFractionsAreUndefinedWithoutOutputWeights) {
  ShallowReluNet net(2, 3);
  net.W1().setOnes();
  Vec beta = Vec::Ones(2);
  const NeuronAlignment a = neuron_alignment(net, beta);
  EXPECT_EQ(a.fraction_aligned, 1.0);
  EXPECT_EQ(a.fraction_sign_consistent, 0.0);
  EXPECT_TRUE(std::isnan(a.weighted_fraction_aligned));
  EXPECT_TRUE(std::isnan(a.weighted_fraction_sign_consistent));
}

void expect_input_error(const std::function<void()>& call, const std::string& field) {
  try {
    call();
    ADD_FAILURE() << "expected InputError for " << field;
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(field + ":", 0), 0u) << e.what();
  }
}

TEST(NeuronAlignment, BadInputThrowsNamingTheField) {
  Rng rng(33);
  const ShallowReluNet net = test::random_net(3, 4, rng);
  expect_input_error([&] { (void)neuron_alignment(net, Vec::Ones(2)); }, "beta");
  expect_input_error([&] { (void)neuron_alignment(net, Vec::Ones(5)); }, "beta");
  expect_input_error([&] { (void)neuron_alignment(net, Vec::Zero(3)); }, "beta");
  Vec nan = Vec::Ones(3);
  nan[1] = NAN;
  expect_input_error([&] { (void)neuron_alignment(net, nan); }, "beta");
  for (const double threshold : {0.0, 1.5, -0.2, static_cast<double>(NAN)}) {
    AlignmentOptions options;
    options.threshold = threshold;
    expect_input_error([&] { (void)neuron_alignment(net, Vec::Ones(3), options); }, "threshold");
  }
}

TEST(AlignmentField, MatchesBruteForceLoopWithAndWithoutBias) {
  Rng rng(34);
  const Dataset data = linear_teacher(57, Vec::LinSpaced(4, -1.0, 2.0), 0.5, 35);
  for (const Index dim : {4, 5}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    for (int trial = 0; trial < 5; ++trial) {
      const Vec w = rng.normal() * random_unit(dim, rng) * 3.0;
      const Vec D = alignment_field(data, w);
      const Vec expected = brute_field(data, w);
      ASSERT_EQ(D.size(), dim);
      EXPECT_LE((D - expected).lpNorm<Eigen::Infinity>(), 1e-14 * (1.0 + expected.norm()));
      const double G = alignment_objective(data, w);
      EXPECT_NEAR(G, brute_objective(data, w), 1e-14 * (1.0 + std::abs(G)));
      // G is piecewise linear with gradient D_n: central differences are exact up to rounding
      // unless a sample's <w, x> changes sign within the step.
      for (Index c = 0; c < dim; ++c) {
        const double h = 1e-7;
        Vec plus = w, minus = w;
        plus[c] += h;
        minus[c] -= h;
        EXPECT_NEAR((brute_objective(data, plus) - brute_objective(data, minus)) / (2 * h), D[c], 1e-6);
      }
    }
  }
  // The indicator is strict: a sample exactly on the hyperplane <w, x> = 0 does not count.
  Dataset one{RowMatrix::Constant(1, 2, 1.0), Vec::Constant(1, 3.0), Vec()};
  Vec w(2);
  w << 1.0, -1.0;
  EXPECT_TRUE(alignment_field(one, w).isZero(0.0));
  w << 1.0, -0.5;
  EXPECT_EQ(alignment_field(one, w), Vec::Constant(2, 3.0));
}

TEST(AlignmentField, BadInputThrows) {
  const Dataset data = linear_teacher(10, Vec::Ones(3), 0.1, 36);
  expect_input_error([&] { (void)alignment_field(data, Vec::Ones(2)); }, "w");
  expect_input_error([&] { (void)alignment_objective(data, Vec::Ones(6)); }, "w");
  Vec nan = Vec::Ones(3);
  nan[0] = INFINITY;
  expect_input_error([&] { (void)alignment_field(data, nan); }, "w");
  Dataset short_y = data;
  short_y.y.resize(9);
  expect_input_error([&] { (void)alignment_field(short_y, Vec::Ones(3)); }, "data");
}

TEST(ExtremalVectors, LinearTeacherGivesPlusMinusBeta) {
  // Population D(w) = E[1{<w,x> > 0} x x^T] beta = beta / 2 for every w (Boursier and Flammarion 2025), so G's only
  // local extremisers on the sphere are +-beta/||beta|| with G = +-||beta|| / 2; at n = 20000 the
  // empirical ones are within O(sqrt(d / n)) of them.
  Vec beta(5);
  beta << 0.5, -1.0, 0.25, 2.0, -0.75;
  const Dataset data = linear_teacher(20000, beta, 0.5, 37);
  ExtremalOptions options;
  options.starts = 16;
  options.seed = 5;
  const ExtremalVectors e = extremal_vectors(data, options);
  ASSERT_FALSE(e.maximizers.empty());
  ASSERT_FALSE(e.minimizers.empty());
  const ExtremalVector& top = e.maximizers.front();
  const ExtremalVector& bottom = e.minimizers.front();
  EXPECT_GT(cosine(top.direction, beta), 0.99);
  EXPECT_LT(cosine(bottom.direction, beta), -0.99);
  EXPECT_NEAR(top.value, beta.norm() / 2.0, 0.05 * beta.norm());
  EXPECT_NEAR(bottom.value, -beta.norm() / 2.0, 0.05 * beta.norm());
  EXPECT_TRUE(top.stationary);
  EXPECT_TRUE(bottom.stationary);
  EXPECT_NEAR(top.direction.norm(), 1.0, 1e-14);
  EXPECT_NEAR(top.value, brute_objective(data, top.direction), 1e-12);
  // Every start ends at the same pair: a single basin each.
  EXPECT_EQ(e.maximizers.size(), 1u);
  EXPECT_EQ(e.minimizers.size(), 1u);
  EXPECT_EQ(top.starts, 16);
  // With a bias coordinate, w = (r u, b) with r^2 + b^2 = 1 and u a unit vector at angle psi to beta
  // gives, by Stein's lemma, G = ||beta|| r cos(psi) Phi(b / r) in the population. So the maximiser
  // is (cos(phi) beta/||beta||, sin(phi)) and the minimiser (-cos(phi) beta/||beta||, sin(phi)),
  // phi maximising h(phi) = cos(phi) Phi(tan(phi)) on (0, pi/2) (found here by a dense scan), with
  // G = +-||beta|| h(phi).
  auto h = [](double phi) { return std::cos(phi) * 0.5 * std::erfc(-std::tan(phi) / std::numbers::sqrt2); };
  double phi = 0.0;
  for (int s = 1; s < 100000; ++s) {
    const double candidate = 0.5 * std::numbers::pi * s / 100000.0;
    if (h(candidate) > h(phi)) phi = candidate;
  }
  ASSERT_GT(phi, 0.3);  // the bias matters: not (beta, 0)
  options.with_bias = true;
  const ExtremalVectors b = extremal_vectors(data, options);
  ASSERT_FALSE(b.maximizers.empty());
  ASSERT_FALSE(b.minimizers.empty());
  ASSERT_EQ(b.maximizers.front().direction.size(), 6);
  Vec up(6), down(6);
  up << std::cos(phi) * beta / beta.norm(), std::sin(phi);
  down << -std::cos(phi) * beta / beta.norm(), std::sin(phi);
  EXPECT_GT(cosine(b.maximizers.front().direction, up), 0.99);
  EXPECT_GT(cosine(b.minimizers.front().direction, down), 0.99);
  EXPECT_NEAR(b.maximizers.front().value, beta.norm() * h(phi), 0.05 * beta.norm());
  EXPECT_NEAR(b.minimizers.front().value, -beta.norm() * h(phi), 0.05 * beta.norm());
}

TEST(ExtremalVectors, InOneDimensionTheyArePlusAndMinusOne) {
  // d = 1 without bias: the sphere is {-1, +1}; both points are (trivially) local maximisers and
  // minimisers, G(+1) = (1/n) sum_{x>0} y x and G(-1) = -(1/n) sum_{x<0} y x.
  Rng rng(38);
  Dataset data;
  data.X.resize(30, 1);
  data.y.resize(30);
  for (Index k = 0; k < 30; ++k) {
    data.X(k, 0) = rng.uniform(-1.0, 1.0);
    data.y[k] = std::sin(3.0 * data.X(k, 0)) + 0.2;
  }
  double g_plus = 0.0, g_minus = 0.0;
  for (Index k = 0; k < 30; ++k) {
    if (data.X(k, 0) > 0) g_plus += data.y[k] * data.X(k, 0) / 30.0;
    if (data.X(k, 0) < 0) g_minus -= data.y[k] * data.X(k, 0) / 30.0;
  }
  ExtremalOptions options;
  options.starts = 10;
  const ExtremalVectors e = extremal_vectors(data, options);
  ASSERT_EQ(e.maximizers.size(), 2u);
  ASSERT_EQ(e.minimizers.size(), 2u);
  const double high = std::max(g_plus, g_minus);
  const double low = std::min(g_plus, g_minus);
  EXPECT_NEAR(e.maximizers[0].value, high, 1e-14);
  EXPECT_NEAR(e.maximizers[1].value, low, 1e-14);
  EXPECT_NEAR(e.minimizers[0].value, low, 1e-14);
  EXPECT_NEAR(e.minimizers[1].value, high, 1e-14);
  EXPECT_EQ(e.maximizers[0].direction[0], g_plus > g_minus ? 1.0 : -1.0);
  EXPECT_EQ(std::abs(e.maximizers[1].direction[0]), 1.0);
  EXPECT_EQ(e.maximizers[0].starts + e.maximizers[1].starts, 10);
  EXPECT_TRUE(e.maximizers[0].stationary);
}

TEST(ExtremalVectors, OneDimensionWithBiasMatchesADenseScanOfTheCircle) {
  // d = 1 with a bias: w = (cos t, sin t) acts on (x, 1). A scan of 10^5 angles bounds G's range;
  // the search must reach it, and each extremiser's value is G at its direction.
  Rng rng(39);
  Dataset data;
  data.X.resize(40, 1);
  data.y.resize(40);
  for (Index k = 0; k < 40; ++k) {
    data.X(k, 0) = rng.uniform(-1.0, 1.0);
    data.y[k] = std::sin(3.0 * data.X(k, 0)) + 0.1 * rng.normal();
  }
  ExtremalOptions options;
  options.with_bias = true;
  options.starts = 40;
  const ExtremalVectors e = extremal_vectors(data, options);
  ASSERT_FALSE(e.maximizers.empty());
  ASSERT_FALSE(e.minimizers.empty());
  double scan_max = -INFINITY, scan_min = INFINITY;
  for (int s = 0; s < 100000; ++s) {
    const double t = 2.0 * std::numbers::pi * s / 100000.0;
    Vec w(2);
    w << std::cos(t), std::sin(t);
    scan_max = std::max(scan_max, brute_objective(data, w));
    scan_min = std::min(scan_min, brute_objective(data, w));
  }
  EXPECT_GE(e.maximizers.front().value, scan_max - 1e-12);
  EXPECT_LE(e.minimizers.front().value, scan_min + 1e-12);
  // The scan's resolution (6e-5 rad) bounds how far above it the true maximum can be.
  EXPECT_LE(e.maximizers.front().value, scan_max + 1e-3);
  for (const ExtremalVector& v : e.maximizers) {
    EXPECT_NEAR(v.value, brute_objective(data, v.direction), 1e-14);
  }
  for (const ExtremalVector& v : e.minimizers) {
    EXPECT_NEAR(v.value, brute_objective(data, v.direction), 1e-14);
  }
  EXPECT_TRUE(e.maximizers.front().stationary);
  EXPECT_TRUE(e.minimizers.front().stationary);
}

TEST(ExtremalVectors, EndPointsAreStationaryLocalExtremaThatNoSampleBeats) {
  Vec beta(3);
  beta << 1.0, 0.5, -0.5;
  Dataset data = linear_teacher(300, beta, 1.0, 40);
  // A non-linear part gives G several local extremisers.
  for (Index k = 0; k < data.n(); ++k) data.y[k] += 2.0 * std::abs(data.X(k, 2)) - 1.5;
  ExtremalOptions options;
  options.starts = 64;
  options.seed = 41;
  const ExtremalVectors e = extremal_vectors(data, options);
  ASSERT_FALSE(e.maximizers.empty());
  ASSERT_FALSE(e.minimizers.empty());
  Index accounted = 0;
  for (const auto* list : {&e.maximizers, &e.minimizers}) {
    for (size_t r = 0; r < list->size(); ++r) {
      const ExtremalVector& v = (*list)[r];
      SCOPED_TRACE((list == &e.maximizers ? "maximiser " : "minimiser ") + std::to_string(r));
      EXPECT_NEAR(v.direction.norm(), 1.0, 1e-14);
      EXPECT_NEAR(v.value, brute_objective(data, v.direction), 1e-14);
      if (v.stationary) {
        EXPECT_LE(v.stationarity, 1e-10 * data_scale(data));
        // Clarke-stationary by brute force: some element of G's subdifferential is normal to the
        // sphere (on a kink, the sample's term may count with any weight in [0, 1]).
        EXPECT_LE(clarke_tangential_norm(data, v.direction), 1e-9 * data_scale(data));
      }
      accounted += v.starts;
    }
  }
  EXPECT_EQ(accounted + e.inactive_ascents + e.inactive_descents, 2 * options.starts);
  EXPECT_TRUE(e.maximizers.front().stationary);
  EXPECT_TRUE(e.minimizers.front().stationary);
  for (size_t r = 1; r < e.maximizers.size(); ++r) {
    EXPECT_LE(e.maximizers[r].value, e.maximizers[r - 1].value);
  }
  for (size_t r = 1; r < e.minimizers.size(); ++r) {
    EXPECT_GE(e.minimizers[r].value, e.minimizers[r - 1].value);
  }
  // Local: small moves along the sphere do not improve any stationary extremiser.
  Rng rng(42);
  for (const ExtremalVector& v : e.maximizers) {
    if (!v.stationary) continue;
    for (int trial = 0; trial < 50; ++trial) {
      Vec w = v.direction + 1e-4 * random_unit(3, rng);
      w /= w.norm();
      EXPECT_LE(brute_objective(data, w), v.value + 1e-14);
    }
  }
  for (const ExtremalVector& v : e.minimizers) {
    if (!v.stationary) continue;
    for (int trial = 0; trial < 50; ++trial) {
      Vec w = v.direction + 1e-4 * random_unit(3, rng);
      w /= w.norm();
      EXPECT_GE(brute_objective(data, w), v.value - 1e-14);
    }
  }
  // Global: 10^4 uniform random unit vectors never beat the best extremisers found.
  double sample_max = -INFINITY, sample_min = INFINITY;
  for (int s = 0; s < 10000; ++s) {
    const Vec w = random_unit(3, rng);
    const double g = brute_objective(data, w);
    sample_max = std::max(sample_max, g);
    sample_min = std::min(sample_min, g);
  }
  EXPECT_LE(sample_max, e.maximizers.front().value + 1e-14);
  EXPECT_GE(sample_min, e.minimizers.front().value - 1e-14);
  // ... and are close to them (the samples are dense enough on S^2 to come near).
  EXPECT_GT(sample_max, e.maximizers.front().value - 0.05);
}

TEST(ExtremalVectors, SameSeedSameResultAndOptionsAreChecked) {
  const Dataset data = linear_teacher(200, Vec::Ones(2), 1.0, 43);
  ExtremalOptions options;
  options.starts = 8;
  options.seed = 3;
  const ExtremalVectors a = extremal_vectors(data, options);
  const ExtremalVectors b = extremal_vectors(data, options);
  ASSERT_EQ(a.maximizers.size(), b.maximizers.size());
  for (size_t r = 0; r < a.maximizers.size(); ++r) {
    EXPECT_EQ(a.maximizers[r].direction, b.maximizers[r].direction);
    EXPECT_EQ(a.maximizers[r].value, b.maximizers[r].value);
  }
  auto with = [&](const std::function<void(ExtremalOptions&)>& spoil) {
    ExtremalOptions o;
    spoil(o);
    return o;
  };
  expect_input_error([&] { (void)extremal_vectors(data, with([](auto& o) { o.starts = 0; })); },
                     "starts");
  expect_input_error(
      [&] { (void)extremal_vectors(data, with([](auto& o) { o.max_iterations = 0; })); },
      "max_iterations");
  expect_input_error(
      [&] { (void)extremal_vectors(data, with([](auto& o) { o.gradient_tol = -1.0; })); },
      "gradient_tol");
  expect_input_error([&] { (void)extremal_vectors(data, with([](auto& o) { o.merge_tol = NAN; })); },
                     "merge_tol");
  const Dataset empty{RowMatrix(0, 2), Vec(0), Vec()};
  expect_input_error([&] { (void)extremal_vectors(empty); }, "data");
}

}  // namespace
}  // namespace relustab
