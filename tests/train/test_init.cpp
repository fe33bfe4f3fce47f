// SPDX-License-Identifier: MIT
// Initialisations: sample moments against the documented laws, exact balance, reproducible seeds,
// and the data-dependent knots (counted per gap between the inputs, against the documented draws).
#include <relustab/core/error.h>
#include <relustab/model/init.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace relustab {
namespace {

// Moment checks allow this many standard errors of the estimator: a correct law fails a given
// check with probability < 1e-6 (and the seeds are fixed, so a pass is reproducible).
constexpr double kSigmas = 5.0;

struct Moments {
  double mean = 0.0;
  double variance = 0.0;  // population normalisation 1/N; the 1/N vs 1/(N-1) gap is far below tolerance
  double kurtosis = 0.0;  // m4 / m2^2: 3 for a normal, 1.8 for a uniform
  Index count = 0;
};

Moments moments(const Eigen::Ref<const Vec>& values) {
  Moments m;
  m.count = values.size();
  m.mean = values.mean();
  const Vec centred = values.array() - m.mean;
  m.variance = centred.squaredNorm() / static_cast<double>(m.count);
  m.kurtosis = centred.array().pow(4).mean() / (m.variance * m.variance);
  return m;
}

/// Checks mean 0 and variance `variance` for i.i.d. draws with the given kurtosis, using the
/// standard errors sqrt(var/N) for the mean and var*sqrt((kurtosis - 1)/N) for the sample variance.
void expect_centred_law(const Eigen::Ref<const Vec>& values, double variance, double kurtosis,
                        const std::string& what) {
  const Moments m = moments(values);
  const double n = static_cast<double>(m.count);
  EXPECT_LT(std::abs(m.mean), kSigmas * std::sqrt(variance / n)) << what;
  EXPECT_LT(std::abs(m.variance / variance - 1.0), kSigmas * std::sqrt((kurtosis - 1.0) / n)) << what;
  // The sample kurtosis of a normal has standard error sqrt(24/N); for a uniform it is smaller.
  EXPECT_LT(std::abs(m.kurtosis - kurtosis), kSigmas * std::sqrt(24.0 / n)) << what;
}

Vec as_vector(const Eigen::Ref<const RowMatrix>& matrix) {
  Vec v(matrix.size());
  Index p = 0;
  for (Index i = 0; i < matrix.rows(); ++i) {
    for (Index c = 0; c < matrix.cols(); ++c) v[p++] = matrix(i, c);
  }
  return v;
}

constexpr double kNormalKurtosis = 3.0;
constexpr double kUniformKurtosis = 1.8;

TEST(Init, KaimingNormalMatchesItsLaw) {
  const Index d = 4;
  const Index k = 3000;
  Rng rng(11);
  const ShallowReluNet net = initialize(d, k, InitKind::KaimingNormal, 1.0, rng);
  expect_centred_law(as_vector(net.W1()), 2.0 / d, kNormalKurtosis, "W1");
  expect_centred_law(net.w2(), 2.0 / k, kNormalKurtosis, "w2");
  EXPECT_TRUE(net.b1().isZero(0.0));
  EXPECT_EQ(net.b2(), 0.0);
}

TEST(Init, TorchUniformMatchesItsLaw) {
  const Index d = 3;
  const Index k = 4000;
  Rng rng(12);
  const ShallowReluNet net = initialize(d, k, InitKind::TorchUniform, 1.0, rng);
  const double bound1 = 1.0 / std::sqrt(static_cast<double>(d));
  const double bound2 = 1.0 / std::sqrt(static_cast<double>(k));
  // U(-b, b) has variance b^2 / 3.
  expect_centred_law(as_vector(net.W1()), bound1 * bound1 / 3.0, kUniformKurtosis, "W1");
  expect_centred_law(net.b1(), bound1 * bound1 / 3.0, kUniformKurtosis, "b1");
  expect_centred_law(net.w2(), bound2 * bound2 / 3.0, kUniformKurtosis, "w2");
  EXPECT_LE(net.W1().cwiseAbs().maxCoeff(), bound1);
  EXPECT_LE(net.b1().cwiseAbs().maxCoeff(), bound1);
  EXPECT_LE(net.w2().cwiseAbs().maxCoeff(), bound2);
  EXPECT_LE(std::abs(net.b2()), bound2);
}

TEST(Init, ScaledMatchesItsLaw) {
  const double scale = 0.7;
  Rng rng(13);
  const ShallowReluNet net = initialize(2, 3000, InitKind::Scaled, scale, rng);
  expect_centred_law(net.theta(), scale * scale, kNormalKurtosis, "theta");
}

TEST(Init, SmallBalancedIsBalancedAndMatchesItsLaw) {
  const Index d = 2;
  const Index k = 4000;
  const double scale = 1e-3;
  Rng rng(14);
  const ShallowReluNet net = initialize(d, k, InitKind::SmallBalanced, scale, rng);
  const double stddev = scale / std::sqrt(static_cast<double>(k));
  expect_centred_law(as_vector(net.W1()), stddev * stddev, kNormalKurtosis, "W1");
  expect_centred_law(net.b1(), stddev * stddev, kNormalKurtosis, "b1");
  Index positive = 0;
  for (Index i = 0; i < k; ++i) {
    // The documented summation order (W1_i left to right, then b1_i) makes this exact.
    double squared_norm = 0.0;
    for (Index c = 0; c < d; ++c) squared_norm += net.W1()(i, c) * net.W1()(i, c);
    squared_norm += net.b1()[i] * net.b1()[i];
    ASSERT_EQ(std::abs(net.w2()[i]), std::sqrt(squared_norm)) << "neuron " << i;
    if (net.w2()[i] > 0) ++positive;
  }
  // Signs are fair coin flips: Binomial(k, 1/2) has standard deviation sqrt(k)/2.
  EXPECT_LT(std::abs(static_cast<double>(positive) - k / 2.0), kSigmas * std::sqrt(k) / 2.0);
  EXPECT_EQ(net.b2(), 0.0);
}

TEST(Init, SeedsReproduceAndDiffer) {
  for (const InitKind kind : {InitKind::TorchUniform, InitKind::KaimingNormal, InitKind::Scaled,
                              InitKind::SmallBalanced}) {
    Rng a(5);
    Rng b(5);
    Rng c(6);
    const ShallowReluNet na = initialize(3, 7, kind, 0.5, a);
    const ShallowReluNet nb = initialize(3, 7, kind, 0.5, b);
    const ShallowReluNet nc = initialize(3, 7, kind, 0.5, c);
    EXPECT_EQ(na.theta(), nb.theta()) << init_kind_name(kind);
    EXPECT_NE(na.theta(), nc.theta()) << init_kind_name(kind);
    EXPECT_EQ(na.input_dim(), 3);
    EXPECT_EQ(na.width(), 7);
  }
}

TEST(Init, DrawOrderIsTheDocumentedOne) {
  // Scaled: one normal per parameter in theta's storage order.
  Rng rng(21);
  Rng replay(21);
  const ShallowReluNet scaled = initialize(2, 3, InitKind::Scaled, 0.5, rng);
  for (Index p = 0; p < scaled.n_params(); ++p) EXPECT_EQ(scaled.theta()[p], 0.5 * replay.normal());
  // Kaiming: W1 row-major, then w2; nothing for the biases.
  Rng rng2(22);
  Rng replay2(22);
  const ShallowReluNet kaiming = initialize(2, 3, InitKind::KaimingNormal, 1.0, rng2);
  for (Index i = 0; i < 3; ++i) {
    for (Index c = 0; c < 2; ++c) EXPECT_EQ(kaiming.W1()(i, c), std::sqrt(2.0 / 2.0) * replay2.normal());
  }
  for (Index i = 0; i < 3; ++i) EXPECT_EQ(kaiming.w2()[i], std::sqrt(2.0 / 3.0) * replay2.normal());
  // Both generators are left in the same state: nothing else was drawn.
  EXPECT_EQ(rng.next_u64(), replay.next_u64());
  EXPECT_EQ(rng2.next_u64(), replay2.next_u64());
}

TEST(Init, NamesRoundTripAndUnknownNamesAreRejected) {
  for (const InitKind kind : {InitKind::TorchUniform, InitKind::KaimingNormal, InitKind::Scaled,
                              InitKind::SmallBalanced}) {
    EXPECT_EQ(parse_init_kind(init_kind_name(kind)), kind);
  }
  EXPECT_EQ(parse_init_kind("balanced"), InitKind::SmallBalanced);
  try {
    parse_init_kind("xavier");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("xavier"), std::string::npos) << message;
    EXPECT_NE(message.find("torch, kaiming, scaled, balanced"), std::string::npos) << message;
  }
}

TEST(Init, BadArgumentsThrowInputError) {
  Rng rng(1);
  EXPECT_THROW(initialize(0, 3, InitKind::TorchUniform, 1.0, rng), InputError);
  EXPECT_THROW(initialize(1, 0, InitKind::KaimingNormal, 1.0, rng), InputError);
  for (const double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    for (const InitKind kind : {InitKind::Scaled, InitKind::SmallBalanced}) {
      try {
        initialize(1, 3, kind, bad, rng);
        FAIL() << "expected InputError for scale " << bad;
      } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("init_scale"), std::string::npos) << e.what();
      }
    }
  }
  // The scale is ignored where the law has none.
  EXPECT_NO_THROW(initialize(1, 3, InitKind::TorchUniform, 0.0, rng));
}

/// The knot of neuron i, -b1_i / w1_i (d = 1).
double knot_of(const ShallowReluNet& net, Index i) { return -net.b1()[i] / net.W1()(i, 0); }

/// How many knots fall in each gap [points[g], points[g+1]) of the sorted distinct points.
std::vector<int> knots_per_gap(const ShallowReluNet& net, const std::vector<double>& points) {
  std::vector<int> counts(points.size() - 1, 0);
  for (Index i = 0; i < net.width(); ++i) {
    const double t = knot_of(net, i);
    for (std::size_t g = 0; g + 1 < points.size(); ++g) {
      // The knot is recovered from (w1, b1) up to rounding: allow an ulp-sized slack at the ends.
      const double slack = 1e-14 * (1.0 + std::abs(t));
      if (t >= points[g] - slack && t < points[g + 1] - slack) ++counts[g];
    }
  }
  return counts;
}

TEST(InitDataKnots, EveryGapGetsItsShareOfKnotsAndTheOutputLayerIsZero) {
  // Unsorted inputs with a repeated value: the gaps are those of the sorted distinct values.
  const Vec inputs = (Vec(8) << 0.4, -1.0, 0.1, 0.4, 2.0, -0.3, 1.2, 0.1).finished();
  const std::vector<double> points = {-1.0, -0.3, 0.1, 0.4, 1.2, 2.0};  // 5 gaps
  const double scale = 0.75;
  for (const Index k : {1, 3, 5, 6, 12, 23}) {
    SCOPED_TRACE("k = " + std::to_string(k));
    Rng rng(31 + static_cast<std::uint64_t>(k));
    const ShallowReluNet net = initialize_data_knots(inputs, k, scale, rng);
    ASSERT_EQ(net.input_dim(), 1);
    ASSERT_EQ(net.width(), k);
    const std::vector<int> counts = knots_per_gap(net, points);
    EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), 0), k) << "every knot lies in a gap";
    const int gaps = 5;
    for (const int c : counts) {
      EXPECT_GE(c, static_cast<int>(k) / gaps);
      EXPECT_LE(c, (static_cast<int>(k) + gaps - 1) / gaps);
    }
    for (Index i = 0; i < k; ++i) EXPECT_EQ(std::abs(net.W1()(i, 0)), scale);
    EXPECT_TRUE(net.w2().isZero(0.0));
    EXPECT_EQ(net.b2(), 0.0);
  }
}

TEST(InitDataKnots, KnotsAreUniformInTheirGapAndSignsAreFair) {
  // Two distinct inputs: one gap [a, b), every knot uniform on it; U(a, b) has mean (a + b) / 2,
  // variance (b - a)^2 / 12 and kurtosis 1.8.
  const double a = -0.5, b = 1.5;
  const Vec inputs = (Vec(3) << b, a, a).finished();
  const Index k = 4000;
  Rng rng(41);
  const ShallowReluNet net = initialize_data_knots(inputs, k, 1.0, rng);
  Vec centred_knots(k);
  Index positive = 0;
  for (Index i = 0; i < k; ++i) {
    centred_knots[i] = knot_of(net, i) - 0.5 * (a + b);
    if (net.W1()(i, 0) > 0.0) ++positive;
  }
  expect_centred_law(centred_knots, (b - a) * (b - a) / 12.0, kUniformKurtosis, "knots");
  EXPECT_LT(std::abs(static_cast<double>(positive) - k / 2.0), kSigmas * std::sqrt(k) / 2.0);
}

TEST(InitDataKnots, DrawOrderIsTheDocumentedOne) {
  const Vec inputs = (Vec(4) << 0.0, 1.0, 3.0, 7.0).finished();  // gaps [0,1), [1,3), [3,7)
  const double scale = 2.0;
  const Index k = 7;  // two full rounds of 3 gaps and one neuron of a third round
  Rng rng(51);
  const ShallowReluNet net = initialize_data_knots(inputs, k, scale, rng);
  Rng replay(51);
  const std::vector<double> points = {0.0, 1.0, 3.0, 7.0};
  std::vector<std::size_t> order(3);
  for (Index i = 0; i < k; ++i) {
    if (i % 3 == 0) {
      order = {0, 1, 2};
      for (std::size_t j = 2; j >= 1; --j) std::swap(order[j], order[replay.below(j + 1)]);
    }
    const std::size_t gap = order[static_cast<std::size_t>(i % 3)];
    const double knot = replay.uniform(points[gap], points[gap + 1]);
    const double w1 = replay.below(2) == 0 ? scale : -scale;
    EXPECT_EQ(net.W1()(i, 0), w1) << "neuron " << i;
    EXPECT_EQ(net.b1()[i], -w1 * knot) << "neuron " << i;
  }
  EXPECT_EQ(rng.next_u64(), replay.next_u64()) << "nothing else was drawn";
}

TEST(InitDataKnots, BadArgumentsThrowInputError) {
  Rng rng(1);
  const Vec two = (Vec(2) << 0.0, 1.0).finished();
  const auto message = [&](const Vec& inputs, Index k, double scale) {
    try {
      initialize_data_knots(inputs, k, scale, rng);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(two, 0, 1.0).find("width"), std::string::npos);
  EXPECT_NE(message(two, 3, 0.0).find("init_scale"), std::string::npos);
  EXPECT_NE(message(two, 3, std::nan("")).find("init_scale"), std::string::npos);
  EXPECT_NE(message((Vec(3) << 0.5, 0.5, 0.5).finished(), 3, 1.0).find("two distinct"),
            std::string::npos);
  EXPECT_NE(message(Vec(), 3, 1.0).find("two distinct"), std::string::npos);
  EXPECT_NE(message((Vec(2) << 0.0, std::numeric_limits<double>::infinity()).finished(), 3, 1.0)
                .find("finite"),
            std::string::npos);
}

}  // namespace
}  // namespace relustab
