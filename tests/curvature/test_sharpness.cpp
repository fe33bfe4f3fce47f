// SPDX-License-Identifier: MIT
// Sharpness drivers: dense and Lanczos paths agree, Gram and parameter-space Gauss-Newton agree, and
// the Hessian equals the Gauss-Newton matrix at an interpolating point.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "dense_oracles.h"
#include "test_util.h"

namespace relustab {
namespace {

/// Lanczos tolerance: residual <= kSharpnessTol * max(1, |lambda|), so |lambda error| <= kSharpnessTol * max(1, |lambda|)
/// (Bauer-Fike); doubled for comparing two such results, plus rounding.
constexpr double kSharpnessTol = 1e-10;
constexpr double kPathAgreementTol = 1e-9;
/// Same eigenvalue from two dense direct solves of O(10)-sized spectra: rounding only.
constexpr double kDenseAgreementTol = 1e-10;

using test::relative_gap;

SharpnessOptions dense_options() {
  SharpnessOptions o;
  o.dense_max = 100000;
  o.lanczos.tol = kSharpnessTol;
  return o;
}

SharpnessOptions lanczos_options() {
  SharpnessOptions o;
  o.dense_max = 0;  // every problem goes to Lanczos
  o.lanczos.tol = kSharpnessTol;
  return o;
}

struct Problem {
  ShallowReluNet net;
  Dataset data;
};

Problem random_problem(Index d, Index width, Index n, std::uint64_t seed) {
  Rng rng(seed);
  Problem p;
  p.net = test::random_net(d, width, rng);
  p.data = test::random_dataset(p.net, n, rng);
  return p;
}

void interpolate(Problem& p) {
  for (Index j = 0; j < p.data.n(); ++j) {
    p.data.y[j] = test::brute_force_output(p.net, p.data.X.row(j).transpose());
  }
}

class SharpnessTest : public ::testing::TestWithParam<Index> {
 protected:
  void SetUp() override {
    if (!test::backend_supports(GetParam())) GTEST_SKIP() << "input dimension " << GetParam();
  }
};

TEST_P(SharpnessTest, DenseAndLanczosPathsAgreeOnBothEnds) {
  const Problem p = random_problem(GetParam(), 10, 35, 900 + static_cast<std::uint64_t>(GetParam()));
  const auto backend = test::make_backend_under_test();
  const EigenResult top_dense = sharpness(*backend, p.net, p.data, dense_options());
  const EigenResult top_lanczos = sharpness(*backend, p.net, p.data, lanczos_options());
  const EigenResult bottom_dense = min_hessian_eigenvalue(*backend, p.net, p.data, dense_options());
  const EigenResult bottom_lanczos =
      min_hessian_eigenvalue(*backend, p.net, p.data, lanczos_options());
  ASSERT_LT(bottom_dense.value, 0.0);  // indefinite: both ends are real questions
  // The dense path is taken unless the back end's products are cheap enough for Lanczos to go first.
  EXPECT_EQ(top_dense.iterations == 0, !backend->cheap_curvature_products());
  EXPECT_GT(top_lanczos.iterations, 0);  // Lanczos path taken
  EXPECT_LE(relative_gap(top_lanczos.value, top_dense.value), kPathAgreementTol);
  EXPECT_LE(relative_gap(bottom_lanczos.value, bottom_dense.value), kPathAgreementTol);
  // The oracle for "largest algebraic": the top of the dense Hessian's full spectrum.
  const Matrix H = dense_hessian(p.net, p.data);
  const Vec spectrum = test::symmetric_eigenvalues(H);
  EXPECT_LE(relative_gap(top_dense.value, spectrum.maxCoeff()), kDenseAgreementTol);
  EXPECT_LE(relative_gap(bottom_dense.value, spectrum.minCoeff()), kDenseAgreementTol);
  for (const EigenResult* r : {&top_dense, &top_lanczos, &bottom_dense, &bottom_lanczos}) {
    EXPECT_TRUE(r->converged);
    EXPECT_LE((H * r->vector - r->value * r->vector).norm(),
              10.0 * kSharpnessTol * std::max(1.0, std::abs(r->value)));
  }
}

TEST_P(SharpnessTest, GramFormMatchesParameterSpaceGaussNewton) {
  // n = 20 < P: the Gram form is the smaller matrix.
  const Problem p = random_problem(GetParam(), 9, 20, 950 + static_cast<std::uint64_t>(GetParam()));
  const auto backend = test::make_backend_under_test();
  const Matrix G = gauss_newton_matrix(p.net, p.data);
  const EigenResult oracle = dense_extreme_eigenpair(G, Which::LargestAlgebraic);
  const EigenResult gram = dense_extreme_eigenpair(gram_matrix(p.net, p.data), Which::LargestAlgebraic);
  EXPECT_LE(relative_gap(gram.value, oracle.value), kDenseAgreementTol);

  const EigenResult via_gram = gn_sharpness(*backend, p.net, p.data, dense_options());
  const EigenResult via_lanczos = gn_sharpness(*backend, p.net, p.data, lanczos_options());
  EXPECT_EQ(via_gram.iterations, 0);
  EXPECT_GT(via_lanczos.iterations, 0);
  EXPECT_LE(relative_gap(via_gram.value, oracle.value), kDenseAgreementTol);
  EXPECT_LE(relative_gap(via_lanczos.value, oracle.value), kPathAgreementTol);
  for (const EigenResult* r : {&via_gram, &via_lanczos}) {
    EXPECT_TRUE(r->converged);
    ASSERT_EQ(r->vector.size(), p.net.n_params());  // parameter space, also for the Gram path
    EXPECT_NEAR(r->vector.norm(), 1.0, 1e-12);
    const double residual = (G * r->vector - r->value * r->vector).norm();
    EXPECT_LE(residual, 10.0 * kSharpnessTol * r->value);
    EXPECT_NEAR(r->residual, residual, 1e-12 * r->value);  // the reported residual is the true one
  }
  // A simple top eigenvalue has a unique eigenvector up to sign.
  EXPECT_NEAR(std::abs(via_gram.vector.dot(oracle.vector)), 1.0, 1e-9);
}

TEST_P(SharpnessTest, SharpnessEqualsGnSharpnessAtInterpolatingPoint) {
  Problem p = random_problem(GetParam(), 8, 25, 980 + static_cast<std::uint64_t>(GetParam()));
  interpolate(p);
  const auto backend = test::make_backend_under_test();
  EXPECT_LE(backend->loss_and_grad(p.net, p.data, {}, nullptr), 1e-28);
  for (const SharpnessOptions& options : {dense_options(), lanczos_options()}) {
    const EigenResult hessian_top = sharpness(*backend, p.net, p.data, options);
    const EigenResult gn_top = gn_sharpness(*backend, p.net, p.data, options);
    EXPECT_TRUE(hessian_top.converged);
    EXPECT_TRUE(gn_top.converged);
    EXPECT_LE(relative_gap(hessian_top.value, gn_top.value), kPathAgreementTol);
  }
  // And far from interpolation they differ (the r_j Hess f_j term matters), so the check above is
  // not vacuous.
  const Problem q = random_problem(GetParam(), 8, 25, 980 + static_cast<std::uint64_t>(GetParam()));
  EXPECT_GT(relative_gap(sharpness(*backend, q.net, q.data, dense_options()).value,
                         gn_sharpness(*backend, q.net, q.data, dense_options()).value),
            1e-3);
}

INSTANTIATE_TEST_SUITE_P(InputDims, SharpnessTest, ::testing::Values(1, 5),
                         [](const auto& param_info) { return test::dim_label(param_info.param); });

TEST(Sharpness, RejectsNegativeDenseMax) {
  const Problem p = random_problem(1, 3, 5, 1);
  const auto backend = test::make_backend_under_test();
  SharpnessOptions options;
  options.dense_max = -1;
  EXPECT_THROW((void)sharpness(*backend, p.net, p.data, options), InputError);
  EXPECT_THROW((void)gn_sharpness(*backend, p.net, p.data, options), InputError);
}

}  // namespace
}  // namespace relustab
