// SPDX-License-Identifier: MIT
// Seeded data generators: sample moments against the laws' closed forms, reproducibility, grids, targets at
// known points and the built-in demo data set's recipe.
#include <relustab/data/generators.h>

#include "io/io_test_util.h"

#include <gtest/gtest.h>

#include <numbers>

namespace relustab {
namespace {

using testing::same_bits;

constexpr Index kDraws = 20000;
// Sample statistics of kDraws i.i.d. draws must lie within this many standard errors of the truth.
// At 5 standard errors a false alarm has probability ~6e-7 per check (and the seeds are fixed anyway).
constexpr double kSigmas = 5.0;

struct Moments {
  double mean, variance, mean_abs;
};
Moments sample_moments(const Eigen::Ref<const Vec>& x) {
  const double n = static_cast<double>(x.size());
  const double mean = x.mean();
  return {mean, (x.array() - mean).square().sum() / (n - 1.0), x.cwiseAbs().mean()};
}

/// Checks mean, variance and E|X| of the columns of X against the law's exact values. mu4 is the fourth
/// central moment, which sets the standard error of the sample variance: sqrt((mu4 - var^2) / n).
void expect_moments(const RowMatrix& X, double mean, double variance, double mu4, double mean_abs,
                    double var_abs) {
  const double n = static_cast<double>(X.rows());
  for (Index j = 0; j < X.cols(); ++j) {
    SCOPED_TRACE(::testing::Message() << "column " << j);
    const Moments m = sample_moments(X.col(j));
    EXPECT_NEAR(m.mean, mean, kSigmas * std::sqrt(variance / n));
    EXPECT_NEAR(m.variance, variance, kSigmas * std::sqrt((mu4 - variance * variance) / n));
    EXPECT_NEAR(m.mean_abs, mean_abs, kSigmas * std::sqrt(var_abs / n));
  }
}

TEST(Generators, UniformMomentsAndRange) {
  Rng rng(1);
  const double lo = 2.0, hi = 5.0;
  const RowMatrix X = sample_inputs(InputLaw::Uniform, kDraws, 2, rng, lo, hi);
  ASSERT_EQ(X.rows(), kDraws);
  ASSERT_EQ(X.cols(), 2);
  EXPECT_GE(X.minCoeff(), lo);
  EXPECT_LE(X.maxCoeff(), hi);
  // U[a, b]: mean (a+b)/2, variance (b-a)^2/12, fourth central moment (b-a)^4/80; all positive so |X| = X.
  const double width = hi - lo;
  expect_moments(X, 3.5, width * width / 12.0, std::pow(width, 4) / 80.0, 3.5, width * width / 12.0);
}

TEST(Generators, GaussianMoments) {
  Rng rng(2);
  const RowMatrix X = sample_inputs(InputLaw::Gaussian, kDraws, 2, rng);
  // N(0, 1): mu4 = 3, E|X| = sqrt(2/pi), Var|X| = 1 - 2/pi.
  expect_moments(X, 0.0, 1.0, 3.0, std::sqrt(2.0 / std::numbers::pi), 1.0 - 2.0 / std::numbers::pi);
  // Independent coordinates: the sample correlation has standard error 1/sqrt(n).
  const double correlation = (X.col(0).array() * X.col(1).array()).mean();
  EXPECT_NEAR(correlation, 0.0, kSigmas / std::sqrt(static_cast<double>(kDraws)));
}

TEST(Generators, LaplaceHasUnitVariance) {
  Rng rng(3);
  const RowMatrix X = sample_inputs(InputLaw::Laplace, kDraws, 2, rng);
  // Laplace(0, b) with b = 1/sqrt 2: variance 2b^2 = 1, mu4 = 24 b^4 = 6, E|X| = b, Var|X| = b^2 = 1/2.
  // E|X| = 0.707 separates it from a Gaussian (0.798) by far more than 5 standard errors (0.025).
  const double b = 1.0 / std::sqrt(2.0);
  expect_moments(X, 0.0, 1.0, 6.0, b, 0.5);
}

TEST(Generators, GridHasExactEndpointsAndEvenSpacing) {
  Rng rng(4);
  const RowMatrix X = sample_inputs(InputLaw::Grid, 7, 1, rng, -1.0, 2.0);
  ASSERT_EQ(X.rows(), 7);
  EXPECT_EQ(X(0, 0), -1.0);
  EXPECT_EQ(X(6, 0), 2.0);
  for (Index i = 0; i < 7; ++i) EXPECT_NEAR(X(i, 0), -1.0 + 0.5 * static_cast<double>(i), 1e-15);
  // Draws nothing: the generator is where it started.
  Rng fresh(4);
  EXPECT_EQ(rng.next_u64(), fresh.next_u64());

  RELUSTAB_EXPECT_INPUT_ERROR(sample_inputs(InputLaw::Grid, 7, 2, rng), "grid", "d = 1");
  RELUSTAB_EXPECT_INPUT_ERROR(sample_inputs(InputLaw::Grid, 1, 1, rng), "grid", "n >= 2");
}

TEST(Generators, SameSeedSameBitsDifferentSeedDifferentDraws) {
  for (const InputLaw law : {InputLaw::Uniform, InputLaw::Gaussian, InputLaw::Laplace}) {
    Rng a(42), b(42), c(43);
    const RowMatrix xa = sample_inputs(law, 50, 3, a);
    const RowMatrix xb = sample_inputs(law, 50, 3, b);
    const RowMatrix xc = sample_inputs(law, 50, 3, c);
    EXPECT_TRUE(same_bits(xa.reshaped<Eigen::RowMajor>(), xb.reshaped<Eigen::RowMajor>()));
    EXPECT_GT((xa - xc).cwiseAbs().minCoeff(), 0.0);  // every entry differs
  }
  // The label noise and the random teacher direction follow the seed the same way.
  const RowMatrix X = RowMatrix::Zero(30, 1);
  const Target sin3;
  Rng a(5), b(5), c(6);
  const Dataset da = make_dataset(X, sin3, 0.5, a);
  const Dataset db = make_dataset(X, sin3, 0.5, b);
  const Dataset dc = make_dataset(X, sin3, 0.5, c);
  EXPECT_TRUE(same_bits(da.y, db.y));
  EXPECT_GT((da.y - dc.y).cwiseAbs().minCoeff(), 0.0);
  EXPECT_TRUE(same_bits(parse_target("linear", 4, a).beta, parse_target("linear", 4, b).beta));
  EXPECT_GT((parse_target("linear", 4, a).beta - parse_target("linear", 4, c).beta).cwiseAbs().minCoeff(), 0.0);
}

TEST(Generators, InvalidArgumentsAreInputErrors) {
  Rng rng(8);
  RELUSTAB_EXPECT_INPUT_ERROR(sample_inputs(InputLaw::Uniform, 0, 1, rng), "n >= 1");
  RELUSTAB_EXPECT_INPUT_ERROR(sample_inputs(InputLaw::Gaussian, 5, 0, rng), "d >= 1");
  RELUSTAB_EXPECT_INPUT_ERROR(sample_inputs(InputLaw::Uniform, 5, 1, rng, 1.0, 1.0), "lo < hi");
  RELUSTAB_EXPECT_INPUT_ERROR(sample_inputs(InputLaw::Uniform, 5, 1, rng, 0.0, INFINITY), "lo < hi");
  RELUSTAB_EXPECT_INPUT_ERROR(parse_input_law("normal"), "'normal'", "uniform, gaussian, laplace or grid");
  EXPECT_EQ(parse_input_law("laplace"), InputLaw::Laplace);
  EXPECT_EQ(parse_input_law("grid"), InputLaw::Grid);
  RELUSTAB_EXPECT_INPUT_ERROR(parse_target("sine", 1, rng), "'sine'", "sin3");
  RELUSTAB_EXPECT_INPUT_ERROR(parse_target("sin3", 2, rng), "sin3", "dimension 1");
  RELUSTAB_EXPECT_INPUT_ERROR(parse_target("table", 1, rng), "table");
  const RowMatrix X = RowMatrix::Zero(3, 1);
  Target zero;
  zero.kind = Target::Kind::Zero;
  RELUSTAB_EXPECT_INPUT_ERROR(make_dataset(X, zero, -0.1, rng), "sigma", ">= 0");
  RELUSTAB_EXPECT_INPUT_ERROR(make_dataset(RowMatrix(0, 1), zero, 0.1, rng), "n >= 1");
  Target table;
  table.kind = Target::Kind::Table;
  table.table_x = {0.0, 0.0};
  table.table_y = {1.0, 2.0};
  RELUSTAB_EXPECT_INPUT_ERROR(table.evaluate(X), "strictly increasing");
  table.table_y = {1.0};
  RELUSTAB_EXPECT_INPUT_ERROR(table.evaluate(X), "same non-zero length");
}

TEST(Generators, TargetsAtKnownPoints) {
  Rng rng(9);
  const auto at = [](const Target& t, double x) { return t(Vec::Constant(1, x)); };
  const Target sin3 = parse_target("sin3", 1, rng);
  EXPECT_NEAR(at(sin3, std::numbers::pi / 6.0), 1.0, 1e-15);  // sin(pi/2)
  EXPECT_EQ(at(sin3, 0.0), 0.0);
  const Target cubic = parse_target("cubic", 1, rng);
  EXPECT_EQ(at(cubic, 2.0), 6.0);
  EXPECT_EQ(at(cubic, -1.0), 0.0);
  const Target abs = parse_target("abs", 1, rng);
  EXPECT_EQ(at(abs, -0.75), 0.75);
  const Target tent = parse_target("tent", 1, rng);
  EXPECT_EQ(at(tent, 0.0), 1.0);
  EXPECT_EQ(at(tent, 0.25), 0.5);
  EXPECT_EQ(at(tent, -0.5), 0.0);
  EXPECT_EQ(at(tent, 0.9), 0.0);
  const Target saw = parse_target("sawtooth", 1, rng);
  // Zig-zag through (-1, 0), (-0.5, 1), (0, 0), (0.5, 1), (1, 0).
  EXPECT_EQ(at(saw, -1.0), 0.0);
  EXPECT_EQ(at(saw, -0.5), 1.0);
  EXPECT_EQ(at(saw, -0.25), 0.5);
  EXPECT_EQ(at(saw, 0.0), 0.0);
  EXPECT_EQ(at(saw, 0.5), 1.0);
  EXPECT_EQ(at(saw, 0.75), 0.5);
  EXPECT_EQ(at(saw, 1.0), 0.0);
  // Its only kinks are -0.5, 0, 0.5: the second difference vanishes away from them.
  for (const double x : {-0.8, -0.3, 0.2, 0.7, 1.5}) {
    const double h = 0.01;
    EXPECT_NEAR(at(saw, x + h) - 2.0 * at(saw, x) + at(saw, x - h), 0.0, 1e-14) << x;
  }
  const Target zero = parse_target("zero", 4, rng);
  EXPECT_EQ(zero(Vec::Constant(4, 3.0)), 0.0);

  const Target linear1 = parse_target("linear", 1, rng);
  EXPECT_EQ(at(linear1, -2.5), -2.5);  // beta = e_1
  const Target linear = parse_target("linear", 5, rng);
  ASSERT_EQ(linear.beta.size(), 5);
  EXPECT_NEAR(linear.beta.norm(), 1.0, 1e-15);
  const Vec x{{1.0, -2.0, 0.5, 3.0, 0.0}};
  EXPECT_EQ(linear(x), linear.beta.dot(x));
  RELUSTAB_EXPECT_INPUT_ERROR(linear(Vec::Ones(3)), "beta of length 3");

  Target table;
  table.kind = Target::Kind::Table;
  table.table_x = {-1.0, 0.0, 2.0};
  table.table_y = {4.0, 0.0, 1.0};
  EXPECT_EQ(at(table, -3.0), 4.0);  // constant outside
  EXPECT_EQ(at(table, 5.0), 1.0);
  EXPECT_EQ(at(table, 0.0), 0.0);
  EXPECT_EQ(at(table, -0.25), 1.0);
  EXPECT_EQ(at(table, 1.0), 0.5);
  const RowMatrix X{{-3.0}, {-0.25}, {1.0}};
  EXPECT_TRUE(same_bits(table.evaluate(X), Vec{{4.0, 1.0, 0.5}}));
}

TEST(Generators, MakeDatasetAddsGaussianNoiseOfTheGivenSigma) {
  Rng rng(10);
  const RowMatrix X = sample_inputs(InputLaw::Uniform, kDraws, 1, rng);
  Target sin3;
  const double sigma = 0.3;
  const Dataset data = make_dataset(X, sin3, sigma, rng);
  ASSERT_TRUE(data.has_clean());
  for (Index i = 0; i < data.n(); i += 997) EXPECT_EQ(data.y_clean[i], std::sin(3.0 * X(i, 0)));
  // Residuals are N(0, sigma^2): mu4 = 3 sigma^4, E|e| = sigma sqrt(2/pi).
  const RowMatrix residual = data.y - data.y_clean;
  const double s2 = sigma * sigma;
  expect_moments(residual, 0.0, s2, 3.0 * s2 * s2, sigma * std::sqrt(2.0 / std::numbers::pi),
                 s2 * (1.0 - 2.0 / std::numbers::pi));

  Rng quiet(11);
  const Dataset clean = make_dataset(X, sin3, 0.0, quiet);
  EXPECT_TRUE(same_bits(clean.y, clean.y_clean));
}

TEST(Generators, BuiltinDemoDatasetFollowsItsRecipe) {
  const Dataset data = builtin_demo_dataset();
  ASSERT_EQ(data.n(), 20);
  ASSERT_EQ(data.dim(), 1);
  ASSERT_TRUE(data.has_clean());
  const double spacing = 2.0 / 20.0;
  for (Index i = 0; i < 20; ++i) {
    const double center = -1.0 + (static_cast<double>(i) + 0.5) * spacing;
    EXPECT_LE(std::abs(data.X(i, 0) - center), spacing / 4.0) << i;
    EXPECT_EQ(data.y_clean[i], std::sin(3.0 * data.X(i, 0)));
    if (i > 0) {
      EXPECT_GT(data.X(i, 0), data.X(i - 1, 0));
    }
  }
  EXPECT_GT(data.X(0, 0), -1.0);
  EXPECT_LT(data.X(19, 0), 1.0);
  // The jitter really is there (not the bare midpoints).
  EXPECT_GT((data.X.col(0) - Vec::LinSpaced(20, -0.95, 0.95)).cwiseAbs().maxCoeff(), spacing / 20.0);
  // Noise of sigma 0.3: with 20 residuals, the sample standard deviation is within a factor 2 of it with
  // overwhelming probability (chi-square with 19 degrees of freedom).
  const double residual_sd = std::sqrt((data.y - data.y_clean).squaredNorm() / 20.0);
  EXPECT_GT(residual_sd, 0.15);
  EXPECT_LT(residual_sd, 0.6);
  // Fixed seed: identical on every call.
  const Dataset again = builtin_demo_dataset();
  EXPECT_TRUE(same_bits(again.X.col(0), data.X.col(0)));
  EXPECT_TRUE(same_bits(again.y, data.y));
}

}  // namespace
}  // namespace relustab
