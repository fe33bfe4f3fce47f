// SPDX-License-Identifier: MIT
// Several extreme eigenpairs, Hutchinson's trace and stochastic Lanczos quadrature against dense
// eigendecompositions, exact traces and variances, and dense matrix powers.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/spectrum.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "dense_oracles.h"
#include "test_util.h"

namespace relustab {
namespace {

/// Lanczos stopping tolerance: residual <= kSpectrumTol * max(1, |lambda|).
constexpr double kSpectrumTol = 1e-10;
/// Eigenvalue error for a residual r: |lambda - lambda_true| <= r (Bauer-Fike for symmetric A); kSpectrumTol
/// plus rounding of O(1..100) spectra gives this relative bound.
constexpr double kPairValueRelTol = 1e-9;
/// A residual re-measured with the dense matrix instead of the operator: rounding of the two
/// products (P <= 60 terms of O(10) size).
constexpr double kRemeasureAbsTol = 1e-11;

/// A LinearOperator for a dense matrix (the virtual-interface path of the functions under test).
class DenseOperator : public LinearOperator {
 public:
  explicit DenseOperator(Matrix A) : A_(std::move(A)) {}
  Index size() const override { return A_.rows(); }
  void apply(const Vec& in, Vec& out) const override { out = A_ * in; }

 private:
  Matrix A_;
};

/// An operator of the concept that records every vector it is applied to (the SLQ start vectors
/// are the first product of each probe).
struct RecordingOperator {
  const Matrix* A;
  mutable std::vector<Vec> inputs;
  Index size() const { return A->rows(); }
  void apply(const Vec& in, Vec& out) const {
    inputs.push_back(in);
    out = *A * in;
  }
};

LanczosOptions options_with(int max_basis) {
  LanczosOptions o;
  o.tol = kSpectrumTol;
  o.max_iter = 5000;
  o.max_basis = max_basis;
  return o;
}

/// Checks k pairs against the dense eigendecomposition of A: values, residuals re-measured with A,
/// and the eigenvector angle by Davis-Kahan (sin <= residual / gap to the rest of the spectrum).
void expect_matches_dense(const std::vector<EigenResult>& pairs, const Matrix& A, Which which,
                          int k) {
  const test::SymmetricEigen dense = test::symmetric_eigen(A);
  const Index n = A.rows();
  ASSERT_EQ(static_cast<int>(pairs.size()), k);
  const double scale = std::max(1.0, dense.values.cwiseAbs().maxCoeff());
  for (int i = 0; i < k; ++i) {
    const EigenResult& r = pairs[static_cast<std::size_t>(i)];
    const Index index = which == Which::LargestAlgebraic ? n - 1 - i : i;
    const double exact = dense.values[index];
    SCOPED_TRACE("pair " + std::to_string(i) + ", exact value " + std::to_string(exact));
    EXPECT_TRUE(r.converged);
    EXPECT_NEAR(r.value, exact, kPairValueRelTol * scale);
    EXPECT_NEAR(r.vector.norm(), 1.0, 1e-13);
    const double remeasured = (A * r.vector - r.value * r.vector).norm();
    EXPECT_NEAR(r.residual, remeasured, kRemeasureAbsTol);
    EXPECT_LE(remeasured, kSpectrumTol * std::max(1.0, std::abs(r.value)) + kRemeasureAbsTol);
    double gap = std::numeric_limits<double>::infinity();
    for (Index j = 0; j < n; ++j)
      if (j != index) gap = std::min(gap, std::abs(dense.values[j] - exact));
    if (gap > 1e-6 * scale) {
      const double cosine = std::abs(r.vector.dot(dense.vectors.col(index)));
      const double sine = std::sqrt(std::max(0.0, 1.0 - cosine * cosine));
      EXPECT_LE(sine, 2.0 * remeasured / gap + 1e-7);
    }
  }
}

Vec spread_spectrum(Index n, double low, double high, Rng& rng) {
  Vec s(n);
  for (Index i = 0; i < n; ++i) s[i] = rng.uniform(low, high);
  return s;
}

TEST(ExtremeEigenpairs, TopKOfAKnownSpectrumWithRestarts) {
  Rng rng(31);
  Vec spectrum = spread_spectrum(60, -3.0, 3.0, rng);
  spectrum.head(5) << 10.0, 9.0, 8.5, 7.0, -6.0;
  const Matrix A = test::symmetric_with_spectrum(spectrum, rng);
  const DenseOperator op(A);
  for (int k : {1, 2, 4}) {
    SCOPED_TRACE("k = " + std::to_string(k));
    const std::vector<EigenResult> top =
        extreme_eigenpairs(op, Which::LargestAlgebraic, k, options_with(10));
    expect_matches_dense(top, A, Which::LargestAlgebraic, k);
    EXPECT_GT(top.front().restarts, 0);  // the basis of max(10, 2k) vectors filled up
    EXPECT_LE(top.front().basis, std::max(10, 2 * k));
  }
  expect_matches_dense(extreme_eigenpairs(op, Which::SmallestAlgebraic, 3, options_with(10)), A,
                       Which::SmallestAlgebraic, 3);
}

TEST(ExtremeEigenpairs, ClusteredTop) {
  Rng rng(32);
  Vec spectrum = spread_spectrum(50, -1.0, 4.0, rng);
  spectrum.head(4) << 5.0, 5.0 - 1e-3, 5.0 - 2e-3, 5.0 - 3e-3;
  const Matrix A = test::symmetric_with_spectrum(spectrum, rng);
  RecordingOperator op{&A, {}};  // the concept's path
  for (int max_basis : {8, 40}) {
    SCOPED_TRACE("max_basis = " + std::to_string(max_basis));
    expect_matches_dense(extreme_eigenpairs(op, Which::LargestAlgebraic, 4, options_with(max_basis)),
                         A, Which::LargestAlgebraic, 4);
  }
}

TEST(ExtremeEigenpairs, WholeSpectrumOfASmallOperator) {
  Rng rng(33);
  Vec spectrum(7);
  spectrum << -2.0, -1.0, 0.0, 0.5, 1.5, 2.5, 3.0;
  const Matrix A = test::symmetric_with_spectrum(spectrum, rng);
  expect_matches_dense(extreme_eigenpairs(DenseOperator(A), Which::LargestAlgebraic, 7), A,
                       Which::LargestAlgebraic, 7);
}

TEST(ExtremeEigenpairs, OnePairIsLanczosBitForBit) {
  Rng rng(34);
  const Matrix A = test::symmetric_with_spectrum(spread_spectrum(80, -5.0, 5.0, rng), rng);
  const DenseOperator op(A);
  for (const LanczosOptions& o : {LanczosOptions{}, options_with(6)}) {
    for (Which which : {Which::LargestAlgebraic, Which::SmallestAlgebraic}) {
      const EigenResult single = lanczos(op, which, o);
      const EigenResult first = extreme_eigenpairs(op, which, 1, o).front();
      EXPECT_EQ(first.value, single.value);
      EXPECT_EQ(first.residual, single.residual);
      EXPECT_EQ(first.converged, single.converged);
      EXPECT_EQ(first.iterations, single.iterations);
      EXPECT_EQ(first.restarts, single.restarts);
      EXPECT_EQ(first.basis, single.basis);
      EXPECT_TRUE(first.vector == single.vector);
    }
  }
}

class SpectrumOfNetHessian : public ::testing::TestWithParam<Index> {};

TEST_P(SpectrumOfNetHessian, TopKMatchesTheDenseHessian) {
  const Index d = GetParam();
  Rng rng(700 + static_cast<std::uint64_t>(d));
  const ShallowReluNet net = test::random_net(d, 8, rng);
  const Dataset data = test::random_dataset(net, 30, rng);
  // The closed-form dense Hessian (curvature.h), independent of the back end's products.
  const Matrix H = dense_hessian(net, data);
  const auto backend = make_backend(resolve_backend_name("auto", d));
  const auto op = backend->curvature(net, data, CurvatureKind::Hessian);
  ASSERT_EQ(op->size(), H.rows());
  expect_matches_dense(extreme_eigenpairs(*op, Which::LargestAlgebraic, 4, options_with(12)), H,
                       Which::LargestAlgebraic, 4);
  expect_matches_dense(extreme_eigenpairs(*op, Which::SmallestAlgebraic, 2, options_with(12)), H,
                       Which::SmallestAlgebraic, 2);
  // The trace and the density's mean against the dense matrix's trace.
  TraceOptions t;
  t.samples = 300;
  const TraceEstimate trace = hutchinson_trace(*op, t);
  EXPECT_LE(std::abs(trace.value - H.trace()), 4.0 * trace.standard_error);
}
INSTANTIATE_TEST_SUITE_P(InputDims, SpectrumOfNetHessian, ::testing::Values(Index{1}, Index{3}),
                         [](const auto& param_info) { return test::dim_label(param_info.param); });

TEST(HutchinsonTrace, ExactForADiagonalMatrix) {
  Rng rng(41);
  const Vec diagonal = spread_spectrum(25, -4.0, 9.0, rng);
  const DenseOperator op(Matrix(diagonal.asDiagonal()));
  TraceOptions o;
  o.samples = 37;
  const TraceEstimate trace = hutchinson_trace(op, o);
  EXPECT_NEAR(trace.value, diagonal.sum(), 1e-13 * diagonal.cwiseAbs().sum());
  EXPECT_EQ(trace.standard_error, 0.0);  // every probe gives z^T D z = trace D
  EXPECT_EQ(trace.samples, 37);
}

TEST(HutchinsonTrace, DenseMatrixWithinItsStandardErrorWhichMatchesTheExactVariance) {
  Rng rng(42);
  const Matrix A = test::symmetric_with_spectrum(spread_spectrum(30, -2.0, 5.0, rng), rng);
  const double off_diagonal_squares = A.squaredNorm() - A.diagonal().squaredNorm();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    TraceOptions o;
    o.samples = 400;
    o.seed = seed;
    const TraceEstimate trace = hutchinson_trace(DenseOperator(A), o);
    const double exact_error = std::sqrt(2.0 * off_diagonal_squares / o.samples);
    SCOPED_TRACE("seed " + std::to_string(seed));
    EXPECT_LE(std::abs(trace.value - A.trace()), 4.0 * trace.standard_error);
    EXPECT_NEAR(trace.standard_error, exact_error, 0.3 * exact_error);
  }
}

TEST(HutchinsonTrace, SeededAndOneSampleHasNoStandardError) {
  Rng rng(43);
  const Matrix A = test::symmetric_with_spectrum(spread_spectrum(10, -1.0, 1.0, rng), rng);
  RecordingOperator op{&A, {}};
  TraceOptions o;
  o.samples = 1;
  const TraceEstimate one = hutchinson_trace(op, o);
  ASSERT_EQ(op.inputs.size(), 1u);
  const Vec& z = op.inputs.front();
  EXPECT_EQ(z.cwiseAbs(), Vec::Ones(10));  // a Rademacher probe
  EXPECT_NEAR(one.value, z.dot(A * z), 1e-14);
  EXPECT_TRUE(std::isnan(one.standard_error));
  o.samples = 20;
  EXPECT_EQ(hutchinson_trace(op, o).value, hutchinson_trace(op, o).value);
  TraceOptions other = o;
  other.seed = o.seed + 1;
  EXPECT_NE(hutchinson_trace(op, o).value, hutchinson_trace(op, other).value);
}

/// v^T A^p v / ||v||^2 for p = 0..count-1 by repeated dense products.
std::vector<double> moments(const Matrix& A, const Vec& v, int count) {
  std::vector<double> result;
  Vec power = v;
  for (int p = 0; p < count; ++p) {
    result.push_back(v.dot(power) / v.squaredNorm());
    power = A * power;
  }
  return result;
}

TEST(SpectralDensity, GaussQuadratureIsExactUpToDegreeTwoStepsMinusOne) {
  Rng rng(51);
  const Matrix A = test::symmetric_with_spectrum(spread_spectrum(40, -2.0, 3.0, rng), rng);
  const double norm = test::symmetric_eigenvalues(A).cwiseAbs().maxCoeff();
  for (int steps : {1, 3, 6}) {
    SCOPED_TRACE("steps = " + std::to_string(steps));
    RecordingOperator op{&A, {}};
    DensityOptions o;
    o.probes = 1;
    o.steps = steps;
    const SpectralDensity density = spectral_density(op, o);
    ASSERT_EQ(static_cast<int>(op.inputs.size()), steps);  // no breakdown on a generic spectrum
    ASSERT_EQ(density.nodes.size(), static_cast<std::size_t>(steps));
    const Vec& v = op.inputs.front();  // the normalised Rademacher start vector
    EXPECT_NEAR((v.cwiseAbs() * std::sqrt(40.0) - Vec::Ones(40)).cwiseAbs().maxCoeff(), 0.0, 1e-15);
    const std::vector<double> exact = moments(A, v, 2 * steps);
    for (int p = 0; p < 2 * steps; ++p) {
      double quadrature = 0.0;
      for (std::size_t i = 0; i < density.nodes.size(); ++i)
        quadrature += density.weights[i] * std::pow(density.nodes[i], p);
      EXPECT_NEAR(quadrature, exact[static_cast<std::size_t>(p)], 1e-10 * std::pow(norm, p))
          << "p = " << p;
    }
  }
}

TEST(SpectralDensity, WeightsSumToOneAndNodesLieInTheSpectrum) {
  Rng rng(52);
  const Matrix A = test::symmetric_with_spectrum(spread_spectrum(50, -3.0, 7.0, rng), rng);
  const Vec eigenvalues = test::symmetric_eigenvalues(A);
  DensityOptions o;
  o.probes = 7;
  o.steps = 12;
  const SpectralDensity density = spectral_density(DenseOperator(A), o);
  EXPECT_EQ(density.nodes.size(), 7u * 12u);
  EXPECT_EQ(density.probe_steps, std::vector<int>(7, 12));
  double total = 0.0;
  for (std::size_t i = 0; i < density.nodes.size(); ++i) {
    EXPECT_GE(density.weights[i], 0.0);
    EXPECT_GE(density.nodes[i], eigenvalues[0] - 1e-12);
    EXPECT_LE(density.nodes[i], eigenvalues[49] + 1e-12);
    total += density.weights[i];
  }
  EXPECT_NEAR(total, 1.0, 1e-13);
  // The density's mean is a Hutchinson-type estimate of trace / P with the same probes' spread.
  double mean = 0.0;
  for (std::size_t i = 0; i < density.nodes.size(); ++i) mean += density.weights[i] * density.nodes[i];
  EXPECT_NEAR(mean, A.trace() / 50.0, 0.5);
}

TEST(SpectralDensity, FullLengthRunFindsTheDistinctEigenvaluesAndTheirWeights) {
  Rng rng(53);
  Vec spectrum(9);
  spectrum << -1.0, -1.0, 0.5, 2.0, 2.0, 2.0, 3.5, 4.0, 4.0;  // 5 distinct values
  const Matrix A = test::symmetric_with_spectrum(spectrum, rng);
  const test::SymmetricEigen dense = test::symmetric_eigen(A);
  RecordingOperator op{&A, {}};
  DensityOptions o;
  o.probes = 1;
  o.steps = 9;
  const SpectralDensity density = spectral_density(op, o);
  // The Krylov space of v is invariant after one step per distinct eigenvalue.
  ASSERT_EQ(density.probe_steps, std::vector<int>{5});
  const Vec& v = op.inputs.front();
  const std::vector<double> distinct{-1.0, 0.5, 2.0, 3.5, 4.0};
  ASSERT_EQ(density.nodes.size(), distinct.size());
  for (std::size_t i = 0; i < distinct.size(); ++i) {
    EXPECT_NEAR(density.nodes[i], distinct[i], 1e-12);
    // The weight of an eigenvalue is ||projection of v onto its eigenspace||^2 / ||v||^2.
    double weight = 0.0;
    for (Index j = 0; j < 9; ++j)
      if (std::abs(dense.values[j] - distinct[i]) < 1e-9)
        weight += std::pow(dense.vectors.col(j).dot(v), 2) / v.squaredNorm();
    EXPECT_NEAR(density.weights[i], weight, 1e-12);
  }
}

bool mentions(const std::string& message, const std::string& part) {
  return message.find(part) != std::string::npos;
}

TEST(SpectrumInputs, BadArgumentsNameTheField) {
  const DenseOperator op(Matrix::Identity(5, 5));
  const auto top = [&](int k, const LanczosOptions& o) {
    return test::message_of([&] { (void)extreme_eigenpairs(op, Which::LargestAlgebraic, k, o); });
  };
  EXPECT_PRED2(mentions, top(0, {}), "k: expected an integer in [1, 5]");
  EXPECT_PRED2(mentions, top(6, {}), "k: expected an integer in [1, 5]");
  LanczosOptions short_budget;
  short_budget.max_iter = 2;
  EXPECT_PRED2(mentions, top(3, short_budget), "max_iter: expected an integer >= k = 3");
  TraceOptions no_samples;
  no_samples.samples = 0;
  EXPECT_PRED2(mentions, test::message_of([&] { (void)hutchinson_trace(op, no_samples); }),
               "samples: expected an integer >= 1");
  DensityOptions no_probes;
  no_probes.probes = 0;
  EXPECT_PRED2(mentions, test::message_of([&] { (void)spectral_density(op, no_probes); }),
               "probes: expected an integer >= 1");
  for (int steps : {0, 6}) {
    DensityOptions bad;
    bad.steps = steps;
    EXPECT_PRED2(mentions, test::message_of([&] { (void)spectral_density(op, bad); }),
                 "steps: expected an integer in [1, 5]");
  }
}

}  // namespace
}  // namespace relustab
