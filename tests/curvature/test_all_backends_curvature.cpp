// SPDX-License-Identifier: MIT
// Every back end, whatever its activation: the dense curvature matrix the dense sharpness path uses,
// Lanczos on the back end's operator, and central finite differences of the back end's analytic
// gradient (and forward pass) agree on small nets, for the Hessian and the Gauss-Newton matrix, for
// d = 1 and d = 3. The regression of issue 10: a small GeLU net's sharpness was the ReLU net's.
#include <relustab/analysis/report.h>
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>
#include <relustab/train/trainer.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <string>
#include <tuple>
#include <vector>

#include "dense_oracles.h"
#include "test_util.h"

namespace relustab {
namespace {

// Central differences of the analytic gradient with step h = 1e-5. Away from kinks (the data keep
// every |pre-activation| >= 1e-3, and one step moves it by at most h max(|x_c|, 1) < 1e-4) both
// losses are smooth, the truncation error is h^2 |grad'''| / 6 ~ 1e-9 and the rounding error of
// gradients summed over <= 20 samples of size O(10) is ~ n eps 10 / h ~ 1e-9. Entries of the
// matrices are O(1..10); the entry tolerance kAllBackendsFdTol (1 + max |entry|) leaves a margin of ~100.
constexpr double kAllBackendsFdStep = 1e-5;
constexpr double kAllBackendsFdTol = 1e-7;
// Two exact routes to one matrix (explicit formula vs operator columns): rounding only.
constexpr double kAllBackendsRoundingTol = 1e-12;
// Lanczos converges to residual <= 1e-10 max(1, |lambda|), which bounds the eigenvalue error too.
constexpr double kLanczosTol = 1e-9;

struct WidthAndSamples {
  Index width;
  Index n;
};
// Small nets: 13..36 parameters, n below and above the parameter count.
const WidthAndSamples kShapes[] = {{3, 5}, {6, 20}, {10, 12}};

using Param = std::tuple<std::string, Index>;  // back end, input dimension

using test::max_abs;

Vec gradient(const Backend& backend, const ShallowReluNet& net, const Dataset& data) {
  Vec g;
  backend.loss_and_grad(net, data, {}, &g);
  return g;
}

ShallowReluNet moved(const ShallowReluNet& net, Index p, double step) {
  ShallowReluNet out = net;
  out.theta()[p] += step;
  return out;
}

/// The Hessian by central differences of the back end's analytic gradient, column by column,
/// symmetrised (the FD matrix is symmetric only up to its error).
Matrix fd_hessian(const Backend& backend, const ShallowReluNet& net, const Dataset& data) {
  const Index P = net.n_params();
  Matrix H(P, P);
  for (Index p = 0; p < P; ++p) {
    H.col(p) = (gradient(backend, moved(net, p, kAllBackendsFdStep), data) -
                gradient(backend, moved(net, p, -kAllBackendsFdStep), data)) /
               (2.0 * kAllBackendsFdStep);
  }
  return 0.5 * (H + H.transpose());
}

/// f(x_j) for every sample through the back end's own forward pass: on targets 0, the derivative of
/// the one-sample loss (f_j - 0)^2 / 2 with respect to the output bias b2 is f_j (df/db2 = 1).
Vec outputs(const Backend& backend, const ShallowReluNet& net, const Dataset& data) {
  const Dataset zero_targets{data.X, Vec::Zero(data.n()), Vec()};
  Vec f(data.n());
  Vec g;
  for (Index j = 0; j < data.n(); ++j) {
    const Index row[] = {j};
    backend.loss_and_grad(net, zero_targets, row, &g);
    f[j] = g[net.offset_b2()];
  }
  return f;
}

/// The Gauss-Newton matrix J^T J / n with the Jacobian J (n x P) of the outputs by central
/// differences.
Matrix fd_gauss_newton(const Backend& backend, const ShallowReluNet& net, const Dataset& data) {
  const Index P = net.n_params();
  Matrix J(data.n(), P);
  for (Index p = 0; p < P; ++p) {
    J.col(p) = (outputs(backend, moved(net, p, kAllBackendsFdStep), data) -
                outputs(backend, moved(net, p, -kAllBackendsFdStep), data)) /
               (2.0 * kAllBackendsFdStep);
  }
  return J.transpose() * J / static_cast<double>(data.n());
}

/// The matrix by applying the back end's operator to the unit vectors (not symmetrised).
Matrix operator_columns(const Backend& backend, const ShallowReluNet& net, const Dataset& data,
                        CurvatureKind kind) {
  const auto op = backend.curvature(net, data, kind);
  const Index P = net.n_params();
  Matrix A(P, P);
  Vec column;
  for (Index p = 0; p < P; ++p) {
    op->apply(Vec::Unit(P, p), column);
    A.col(p) = column;
  }
  return A;
}

/// Ascending eigenvalues of a symmetric matrix.
Vec spectrum(const Matrix& A) {
  return test::symmetric_eigenvalues(A);
}

/// Weyl: |lambda_i(A) - lambda_i(B)| <= ||A - B||_2 <= P max |A - B|, so an entry tolerance t gives
/// the eigenvalue tolerance P t.
double eigenvalue_tol(const Matrix& oracle) {
  return static_cast<double>(oracle.rows()) * kAllBackendsFdTol * (1.0 + max_abs(oracle));
}

/// ||A v - value v|| for the oracle A: the eigenpair is one of the oracle's, not only its value.
double oracle_residual(const Matrix& oracle, const EigenResult& result) {
  return (oracle * result.vector - result.value * result.vector).norm();
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  std::string name = std::get<0>(info.param);
  std::replace(name.begin(), name.end(), '-', '_');
  return name + "_" + test::dim_label(std::get<1>(info.param));
}

/// Every back end compiled in, with d = 1 and d = 3 (the sorted-knot back end: d = 1 only).
std::vector<Param> every_backend_and_dimension() {
  std::vector<Param> params;
  for (const std::string& name : backend_names()) {
    for (const Index dim : {Index{1}, Index{3}}) {
      if (name != "univariate" || dim == 1) params.emplace_back(name, dim);
    }
  }
  return params;
}

class AllBackendsCurvature : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override { backend_ = make_backend(std::get<0>(GetParam())); }

  struct Problem {
    ShallowReluNet net;
    Dataset data;
  };

  Problem problem(const WidthAndSamples& shape) const {
    const auto& [name, dim] = GetParam();
    Rng rng(7001 + 31 * static_cast<std::uint64_t>(dim) + static_cast<std::uint64_t>(shape.width));
    Problem p;
    p.net = test::random_net(dim, shape.width, rng);
    p.data = test::random_dataset(p.net, shape.n, rng);  // kinks >= 1e-3 away, targets N(0, 1)
    p.net.set_activation(backend_->activation());          // a net of the back end's activation
    return p;
  }

  std::unique_ptr<Backend> backend_;
};

TEST_P(AllBackendsCurvature, DenseMatrixIsTheOperatorsAndMatchesFiniteDifferences) {
  for (const WidthAndSamples& shape : kShapes) {
    SCOPED_TRACE("width " + std::to_string(shape.width) + ", n " + std::to_string(shape.n));
    const Problem p = problem(shape);
    for (const CurvatureKind kind : {CurvatureKind::Hessian, CurvatureKind::GaussNewton}) {
      const bool hessian = kind == CurvatureKind::Hessian;
      SCOPED_TRACE(hessian ? "Hessian" : "Gauss-Newton");
      const Matrix oracle = hessian ? fd_hessian(*backend_, p.net, p.data)
                                    : fd_gauss_newton(*backend_, p.net, p.data);
      const Matrix dense = backend_->dense_curvature(p.net, p.data, kind);
      ASSERT_EQ(dense.rows(), p.net.n_params());
      ASSERT_EQ(dense.cols(), p.net.n_params());
      EXPECT_LE(max_abs(dense - oracle), kAllBackendsFdTol * (1.0 + max_abs(oracle)));
      // The dense matrix (each back end's explicit formulas) is the operator's, to rounding.
      const Matrix columns = operator_columns(*backend_, p.net, p.data, kind);
      EXPECT_LE(max_abs(dense - columns), kAllBackendsRoundingTol * (1.0 + max_abs(columns)));
      EXPECT_TRUE(dense == dense.transpose());
      // Both ends of the spectrum.
      const Vec expected = spectrum(oracle);
      const Vec got = spectrum(dense);
      EXPECT_NEAR(got[got.size() - 1], expected[expected.size() - 1], eigenvalue_tol(oracle));
      EXPECT_NEAR(got[0], expected[0], eigenvalue_tol(oracle));
    }
  }
}

/// A back end that gives only what Backend requires (no dense_curvature of its own), forwarding to
/// another: it gets Backend's default dense matrix, built from the operator.
class OperatorOnly final : public Backend {
 public:
  explicit OperatorOnly(const Backend& inner) : inner_(inner) {}
  std::string_view name() const override { return "operator-only"; }
  Activation activation() const override { return inner_.activation(); }
  using Backend::curvature;  // the two-hidden-layer overloads: Backend's defaults
  using Backend::dense_curvature;
  using Backend::loss_and_grad;
  double loss_and_grad(const ShallowReluNet& net, const Dataset& data, std::span<const Index> rows,
                       Vec* grad) const override {
    return inner_.loss_and_grad(net, data, rows, grad);
  }
  std::unique_ptr<LinearOperator> curvature(const ShallowReluNet& net, const Dataset& data,
                                            CurvatureKind kind) const override {
    return inner_.curvature(net, data, kind);
  }

 private:
  const Backend& inner_;
};

TEST_P(AllBackendsCurvature, DefaultDenseMatrixIsTheOperatorsColumns) {
  const Problem p = problem(kShapes[2]);
  const OperatorOnly operator_only(*backend_);
  for (const CurvatureKind kind : {CurvatureKind::Hessian, CurvatureKind::GaussNewton}) {
    SCOPED_TRACE(kind == CurvatureKind::Hessian ? "Hessian" : "Gauss-Newton");
    const Matrix columns = operator_columns(*backend_, p.net, p.data, kind);
    const Matrix dense = operator_only.dense_curvature(p.net, p.data, kind);
    EXPECT_TRUE(dense == dense.transpose());
    EXPECT_TRUE(dense == 0.5 * (columns + columns.transpose()));
    const Matrix own = backend_->dense_curvature(p.net, p.data, kind);
    EXPECT_LE(max_abs(dense - own), kAllBackendsRoundingTol * (1.0 + max_abs(own)));
  }
  const EigenResult top = sharpness(operator_only, p.net, p.data);
  EXPECT_EQ(top.iterations, 0);  // the dense path (the wrapper does not claim cheap products)
  EXPECT_NEAR(top.value, sharpness(*backend_, p.net, p.data).value,
              kLanczosTol * std::max(1.0, std::abs(top.value)));
}

TEST_P(AllBackendsCurvature, SharpnessOnEveryPathMatchesFiniteDifferences) {
  SharpnessOptions lanczos_only;
  lanczos_only.dense_max = 0;
  int indefinite = 0;
  for (const WidthAndSamples& shape : kShapes) {
    SCOPED_TRACE("width " + std::to_string(shape.width) + ", n " + std::to_string(shape.n));
    const Problem p = problem(shape);
    const Matrix H = fd_hessian(*backend_, p.net, p.data);
    const Vec eigenvalues = spectrum(H);
    const double top = eigenvalues[eigenvalues.size() - 1];
    const double bottom = eigenvalues[0];
    if (bottom < -1e-3) ++indefinite;
    const double tol = eigenvalue_tol(H);
    struct Path {
      const char* name;
      EigenResult result;
      double expected;
    };
    const Path paths[] = {
        {"sharpness, default options", sharpness(*backend_, p.net, p.data), top},
        {"sharpness, Lanczos", sharpness(*backend_, p.net, p.data, lanczos_only), top},
        {"min eigenvalue, default options", min_hessian_eigenvalue(*backend_, p.net, p.data),
         bottom},
        {"min eigenvalue, Lanczos", min_hessian_eigenvalue(*backend_, p.net, p.data, lanczos_only),
         bottom},
    };
    for (const Path& path : paths) {
      SCOPED_TRACE(path.name);
      EXPECT_NEAR(path.result.value, path.expected, tol);
      EXPECT_TRUE(path.result.converged);
      EXPECT_LE(path.result.residual, kLanczosTol * std::max(1.0, std::abs(path.result.value)));
      EXPECT_LE(oracle_residual(H, path.result), tol);
    }
    // Small nets take the dense path unless the back end's products are cheap (Lanczos first).
    EXPECT_EQ(paths[0].result.iterations == 0, !backend_->cheap_curvature_products());
    EXPECT_GT(paths[1].result.iterations, 0);
    EXPECT_NEAR(paths[0].result.value, paths[1].result.value,
                kLanczosTol * std::max(1.0, std::abs(top)));
    EXPECT_NEAR(paths[2].result.value, paths[3].result.value,
                kLanczosTol * std::max(1.0, std::abs(bottom)));
  }
  // Indefinite Hessians (targets N(0, 1), so residuals are far from 0): both ends are real questions.
  EXPECT_GE(indefinite, 2);
}

TEST_P(AllBackendsCurvature, GaussNewtonSharpnessOnEveryPathMatchesFiniteDifferences) {
  SharpnessOptions lanczos_only;
  lanczos_only.dense_max = 0;
  for (const WidthAndSamples& shape : kShapes) {
    SCOPED_TRACE("width " + std::to_string(shape.width) + ", n " + std::to_string(shape.n));
    const Problem p = problem(shape);
    const Matrix G = fd_gauss_newton(*backend_, p.net, p.data);
    const Vec eigenvalues = spectrum(G);
    const double top = eigenvalues[eigenvalues.size() - 1];
    const double tol = eigenvalue_tol(G);
    for (const bool dense : {true, false}) {
      SCOPED_TRACE(dense ? "default options" : "Lanczos");
      const EigenResult result =
          dense ? gn_sharpness(*backend_, p.net, p.data)
                : gn_sharpness(*backend_, p.net, p.data, lanczos_only);
      EXPECT_NEAR(result.value, top, tol);
      EXPECT_TRUE(result.converged);
      EXPECT_LE(result.residual, kLanczosTol * std::max(1.0, result.value));
      EXPECT_LE(oracle_residual(G, result), tol);
      EXPECT_EQ(result.iterations == 0, dense);
    }
    // The bottom of the Gauss-Newton spectrum (0 when n < P): Lanczos on the operator.
    const EigenResult bottom = lanczos(
        *backend_->curvature(p.net, p.data, CurvatureKind::GaussNewton), Which::SmallestAlgebraic);
    EXPECT_NEAR(bottom.value, eigenvalues[0], tol);
  }
}

TEST_P(AllBackendsCurvature, TrainingLogsTheBackEndsSharpness) {
  // A few GD steps with the sharpness logged; the last row is at the returned parameters, where the
  // finite-difference Hessian is the oracle.
  const Problem p = problem(kShapes[1]);
  TrainOptions options;
  options.schedule.eta = 1e-3;
  options.stop.max_steps = 5;
  options.log_every = 2;
  options.log_sharpness = true;
  const TrainResult trained = train(*backend_, p.net, p.data, options);
  ASSERT_FALSE(trained.log.empty());
  ASSERT_EQ(trained.log.back().step, trained.steps);
  // Five small steps leave every pre-activation well away from 0, so the FD steps cross no kink.
  for (Index j = 0; j < p.data.n(); ++j) {
    ASSERT_GT(test::min_abs_preactivation(trained.net, p.data.X.row(j).transpose()), 1e-4);
  }
  const Matrix H = fd_hessian(*backend_, trained.net, p.data);
  const Vec eigenvalues = spectrum(H);
  EXPECT_NEAR(trained.log.back().sharpness, eigenvalues[eigenvalues.size() - 1], eigenvalue_tol(H));
  EXPECT_LE(trained.log.back().sharpness_residual,
            kLanczosTol * std::max(1.0, std::abs(trained.log.back().sharpness)));
}

INSTANTIATE_TEST_SUITE_P(EveryBackEnd, AllBackendsCurvature,
                         ::testing::ValuesIn(every_backend_and_dimension()), param_name);

// --- The regression: a width-10 univariate net (31 parameters) analysed with the GeLU back end. ---

/// 1/(2n) sum_j (sum_i w2_i gelu(W1_i x_j + b1_i) + b2 - y_j)^2 by plain loops over the documented
/// layout of theta (d = 1: [W1, b1, w2, b2]).
double brute_gelu_loss(const Vec& theta, Index width, const Dataset& data) {
  double sum = 0.0;
  for (Index j = 0; j < data.n(); ++j) {
    double f = theta[3 * width];
    for (Index i = 0; i < width; ++i) {
      f += theta[2 * width + i] * test::gelu_by_erf(theta[i] * data.X(j, 0) + theta[width + i]);
    }
    sum += (f - data.y[j]) * (f - data.y[j]);
  }
  return sum / (2.0 * static_cast<double>(data.n()));
}

/// The Hessian of the brute-force loss by central second differences (independent of every back
/// end). Step 1e-4: truncation h^2 |L''''| / 12 ~ 1e-8 and rounding ~ eps |L| / h^2 ~ 1e-8 per entry.
Matrix brute_gelu_hessian(const ShallowReluNet& net, const Dataset& data) {
  return test::central_difference_hessian(
      [&](const Vec& theta) { return brute_gelu_loss(theta, net.width(), data); }, net.theta());
}
constexpr double kSecondDifferenceTol = 1e-6;

/// The same parameters as a GeLU net.
ShallowReluNet as_gelu(ShallowReluNet net) {
  net.set_activation(Activation::Gelu);
  return net;
}

TEST(GeluCurvatureRegression, SmallUnivariateNetGetsTheGeluSharpnessNotTheRelus) {
  Rng rng(10);
  const ShallowReluNet relu_net = test::random_net(1, 10, rng);
  const Dataset data = test::random_dataset(relu_net, 20, rng);
  const ShallowReluNet net = as_gelu(relu_net);
  ASSERT_EQ(net.n_params(), 31);
  ASSERT_LE(net.n_params(), SharpnessOptions{}.dense_max);  // the dense path of the report
  const auto gelu_backend = make_backend("cpu-gelu");
  const Matrix H = brute_gelu_hessian(net, data);
  const Vec eigenvalues = spectrum(H);
  const double tol = static_cast<double>(net.n_params()) * kSecondDifferenceTol * (1.0 + max_abs(H));

  const EigenResult top = sharpness(*gelu_backend, net, data);
  const EigenResult bottom = min_hessian_eigenvalue(*gelu_backend, net, data);
  EXPECT_NEAR(top.value, eigenvalues[eigenvalues.size() - 1], tol);
  EXPECT_NEAR(bottom.value, eigenvalues[0], tol);
  EXPECT_LE(top.residual, 1e-10 * std::max(1.0, std::abs(top.value)));
  for (const char* relu : {"cpu", "univariate"}) {
    SCOPED_TRACE(relu);
    const double relu_top = sharpness(*make_backend(relu), relu_net, data).value;
    const double relu_gn = gn_sharpness(*make_backend(relu), relu_net, data).value;
    // A net is never computed with another activation than its own.
    EXPECT_THROW((void)sharpness(*make_backend(relu), net, data), InputError);
    EXPECT_THROW((void)analyze_net(*make_backend(relu), net, data, 0.5), InputError);
    EXPECT_THROW((void)sharpness(*gelu_backend, relu_net, data), InputError);
    EXPECT_GT(std::abs(top.value - relu_top), 1e-2 * std::abs(relu_top));
    EXPECT_GT(std::abs(gn_sharpness(*gelu_backend, net, data).value - relu_gn),
              1e-2 * std::abs(relu_gn));
  }

  // The report of `relustab analyze --backend cpu-gelu`: GeLU loss and sharpnesses, no ReLU theory.
  const StabilityReport report = analyze_net(*gelu_backend, net, data, 0.5);
  EXPECT_EQ(report.activation, Activation::Gelu);
  EXPECT_NEAR(report.loss, brute_gelu_loss(net.theta(), net.width(), data), 1e-14);
  EXPECT_NEAR(report.sharpness.value, eigenvalues[eigenvalues.size() - 1], tol);
  EXPECT_EQ(report.stable, report.sharpness.value <= 4.0);
  EXPECT_DOUBLE_EQ(report.two_over_eta, 4.0);
  for (const double relu_only : {report.weighted_tv, report.weighted_norm, report.lemma4_bound,
                                 report.per_implementation_bound, report.thm1_rhs,
                                 report.noninterpolating_bound, report.thm2_delta}) {
    EXPECT_TRUE(std::isnan(relu_only));
  }
  EXPECT_EQ(report.knots, -1);
  EXPECT_EQ(report.neurons_on_data, -1);
  EXPECT_TRUE(std::isnan(report.mse_clean));  // no clean targets
}

TEST(GeluCurvatureRegression, ReportUsesTheGeluForwardPassForTheCleanError) {
  Rng rng(11);
  const ShallowReluNet relu_net = test::random_net(1, 4, rng);
  Dataset data = test::random_dataset(relu_net, 8, rng);
  const ShallowReluNet net = as_gelu(relu_net);
  data.y_clean = Vec::Zero(data.n());
  // With clean targets 0 the error is the mean of f^2, f the GeLU net's output.
  double mean_square = 0.0;
  for (Index j = 0; j < data.n(); ++j) {
    double f = net.b2();
    for (Index i = 0; i < net.width(); ++i) {
      f += net.w2()[i] * test::gelu_by_erf(net.W1()(i, 0) * data.X(j, 0) + net.b1()[i]);
    }
    mean_square += f * f / static_cast<double>(data.n());
  }
  const StabilityReport report = analyze_net(*make_backend("cpu-gelu"), net, data, std::nullopt);
  EXPECT_NEAR(report.mse_clean, mean_square, 1e-14 * (1.0 + mean_square));
  EXPECT_FALSE(report.eta.has_value());
}

/// The GeLU back end with the dense matrix of the ReLU formulas: what sharpness() used to compute.
class ReluDenseGeluOperator final : public Backend {
 public:
  std::string_view name() const override { return "relu-dense-gelu-operator"; }
  Activation activation() const override { return Activation::Gelu; }
  using Backend::curvature;  // the two-hidden-layer overloads: Backend's defaults
  using Backend::dense_curvature;
  using Backend::loss_and_grad;
  double loss_and_grad(const ShallowReluNet& net, const Dataset& data, std::span<const Index> rows,
                       Vec* grad) const override {
    return gelu_->loss_and_grad(net, data, rows, grad);
  }
  std::unique_ptr<LinearOperator> curvature(const ShallowReluNet& net, const Dataset& data,
                                            CurvatureKind kind) const override {
    return gelu_->curvature(net, data, kind);
  }
  Matrix dense_curvature(const ShallowReluNet& net, const Dataset& data,
                         CurvatureKind kind) const override {
    ShallowReluNet relu = net;  // the ReLU closed forms refuse a GeLU net
    relu.set_activation(Activation::Relu);
    return kind == CurvatureKind::Hessian ? dense_hessian(relu, data)
                                          : gauss_newton_matrix(relu, data);
  }

 private:
  std::unique_ptr<Backend> gelu_ = make_backend("cpu-gelu");
};

TEST(GeluCurvatureRegression, ResidualIsMeasuredWithTheBackEndsOperator) {
  // A dense matrix that is not the operator's shows in the residual: the safeguard that was missing.
  Rng rng(12);
  const ShallowReluNet relu_net = test::random_net(1, 10, rng);
  const Dataset data = test::random_dataset(relu_net, 20, rng);
  const ShallowReluNet net = as_gelu(relu_net);
  const ReluDenseGeluOperator inconsistent;
  const EigenResult top = sharpness(inconsistent, net, data);
  EXPECT_EQ(top.iterations, 0);  // the dense path
  EXPECT_DOUBLE_EQ(top.value, dense_extreme_eigenpair(dense_hessian(relu_net, data),
                                                      Which::LargestAlgebraic).value);
  EXPECT_GT(top.residual, 1e-2);
  EXPECT_GT(gn_sharpness(inconsistent, net, data).residual, 1e-2);
}

TEST(Backends, EachDeclaresItsActivation) {
  for (const std::string& name : backend_names()) {
    SCOPED_TRACE(name);
    const Activation expected = name == "cpu-gelu" ? Activation::Gelu : Activation::Relu;
    EXPECT_EQ(make_backend(name)->activation(), expected);
  }
  EXPECT_EQ(activation_name(Activation::Relu), "relu");
  EXPECT_EQ(activation_name(Activation::Gelu), "gelu");
}

}  // namespace
}  // namespace relustab
