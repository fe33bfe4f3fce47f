// SPDX-License-Identifier: MIT
// The engine interface over every (back end, activation, depth) that exists: cpu/relu/depth 1,
// univariate/relu/depth 1 (d = 1 only), cpu-gelu/gelu/depth 1 and cpu/relu/depth 2. Each is checked
// against oracles written here: the loss against a brute-force loop over the documented parameter
// layout, the gradient against central differences of that loop, the curvature products against
// central differences of the gradient and against the dense matrix, the Gauss-Newton matrix against
// J^T J / n with J by central differences of the loop's outputs, the dense matrices exactly
// symmetric, the sharpness (and the smallest eigenvalue, and the Gauss-Newton sharpness) against
// Eigen's dense eigensolver with its residual, and results bit-identical for threads 1, 2, 3.
// Combinations that do not exist are refused with InputError.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/deep_curvature.h>
#include <relustab/train/train_deep.h>
#include <relustab/train/trainer.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "dense_oracles.h"
#include "test_util.h"

namespace relustab {
namespace {

// Samples keep every |pre-activation| (both layers) >= kMargin; a step h = 1e-5 in the parameters
// moves a pre-activation by far less (|x| and the weights are O(1..10)), so no difference quotient
// crosses a ReLU kink. Central differences then err by h^2 |f'''| / 6 + eps |f| / h ~ 1e-10.
constexpr double kMargin = 1e-3;
constexpr double kStep = 1e-5;
constexpr double kCombinationFdTol = 1e-7;
// Two exact routes to one number (matrix times vector vs operator): rounding only.
constexpr double kCombinationRoundingTol = 1e-12;

using test::max_abs;

// --- Brute-force forward passes over the documented layouts (no views, no Eigen products). ---

double act(Activation activation, double z) {
  if (activation == Activation::Relu) return z > 0.0 ? z : 0.0;
  return 0.5 * z * (1.0 + std::erf(z / std::numbers::sqrt2));  // the erf form, not the library's
}

/// One hidden layer, theta = (W1 row-major, b1, w2, b2); `margin` receives min |pre-activation|.
double shallow_output(const Vec& theta, Index d, Index k, Activation activation, const double* x,
                      double* margin) {
  double f = theta[k * d + 2 * k];
  for (Index i = 0; i < k; ++i) {
    double z = theta[k * d + i];
    for (Index c = 0; c < d; ++c) z += theta[i * d + c] * x[c];
    if (margin != nullptr) *margin = std::min(*margin, std::abs(z));
    f += theta[k * d + k + i] * act(activation, z);
  }
  return f;
}

/// Two hidden layers, theta = (W1 row-major, b1, W2 row-major, b2, w3, b3) (deep_relu.h).
double deep_output(const Vec& theta, Index d, Index k1, Index k2, const double* x, double* margin) {
  const Index b1 = k1 * d;
  const Index W2 = b1 + k1;
  const Index b2 = W2 + k2 * k1;
  const Index w3 = b2 + k2;
  const Index b3 = w3 + k2;
  std::vector<double> a1(static_cast<size_t>(k1));
  for (Index i = 0; i < k1; ++i) {
    double z = theta[b1 + i];
    for (Index c = 0; c < d; ++c) z += theta[i * d + c] * x[c];
    if (margin != nullptr) *margin = std::min(*margin, std::abs(z));
    a1[static_cast<size_t>(i)] = z > 0.0 ? z : 0.0;
  }
  double f = theta[b3];
  for (Index l = 0; l < k2; ++l) {
    double z = theta[b2 + l];
    for (Index i = 0; i < k1; ++i) z += theta[W2 + l * k1 + i] * a1[static_cast<size_t>(i)];
    if (margin != nullptr) *margin = std::min(*margin, std::abs(z));
    f += theta[w3 + l] * (z > 0.0 ? z : 0.0);
  }
  return f;
}

/// One combination under test: a back end and a net of a given depth, behind one set of calls.
struct Combination {
  std::string backend;
  Activation activation;
  int depth;
  Index dim;
};

std::string combination_name(const ::testing::TestParamInfo<Combination>& info) {
  std::string name = info.param.backend;
  std::replace(name.begin(), name.end(), '-', '_');
  return name + "_" + std::string(activation_name(info.param.activation)) + "_depth" +
         std::to_string(info.param.depth) + "_" + test::dim_label(info.param.dim);
}

/// What the tests need of a net of either depth, through the engine interface only.
class Subject {
 public:
  Subject(const Combination& combination, Index n, std::uint64_t seed)
      : c_(combination), rng_(seed) {
    const Index d = c_.dim;
    if (c_.depth == 1) {
      shallow_ = ShallowReluNet(d, kWidth);
      shallow_.set_activation(c_.activation);
    } else {
      deep_ = DeepReluNet(d, kWidth1, kWidth2);
    }
    Vec theta(n_params());
    for (Index p = 0; p < theta.size(); ++p) theta[p] = rng_.normal();
    set_theta(theta);
    // Samples redrawn until every pre-activation is kMargin away from 0; targets N(0, 1).
    data_.X.resize(n, d);
    data_.y.resize(n);
    std::vector<double> x(static_cast<size_t>(d));
    for (Index j = 0; j < n; ++j) {
      for (int attempt = 0;; ++attempt) {
        if (attempt == 10000) throw std::logic_error("cannot avoid the kinks");
        for (double& xc : x) xc = rng_.normal();
        double margin = std::numeric_limits<double>::infinity();
        (void)output(theta, x.data(), &margin);
        if (margin >= kMargin) break;
      }
      for (Index c = 0; c < d; ++c) data_.X(j, c) = x[static_cast<size_t>(c)];
      data_.y[j] = rng_.normal();
    }
  }

  Index n_params() const { return c_.depth == 1 ? shallow_.n_params() : deep_.n_params(); }
  const Vec& theta() const { return c_.depth == 1 ? shallow_.theta() : deep_.theta(); }
  void set_theta(const Vec& theta) {
    if (c_.depth == 1) {
      shallow_.theta() = theta;
    } else {
      deep_.theta() = theta;
    }
  }
  const Dataset& data() const { return data_; }
  Rng& rng() { return rng_; }

  /// f(x) at parameters theta by the brute-force loop.
  double output(const Vec& theta, const double* x, double* margin = nullptr) const {
    return c_.depth == 1 ? shallow_output(theta, c_.dim, kWidth, c_.activation, x, margin)
                         : deep_output(theta, c_.dim, kWidth1, kWidth2, x, margin);
  }
  Vec outputs(const Vec& theta) const {
    Vec f(data_.n());
    std::vector<double> x(static_cast<size_t>(c_.dim));
    for (Index j = 0; j < data_.n(); ++j) {
      for (Index c = 0; c < c_.dim; ++c) x[static_cast<size_t>(c)] = data_.X(j, c);
      f[j] = output(theta, x.data());
    }
    return f;
  }
  double brute_loss(const Vec& theta) const {
    return (outputs(theta) - data_.y).squaredNorm() / (2.0 * static_cast<double>(data_.n()));
  }

  // The engine, for whichever net this is.
  double loss_and_grad(const Backend& b, Vec* grad, std::span<const Index> rows = {}) const {
    return c_.depth == 1 ? b.loss_and_grad(shallow_, data_, rows, grad)
                         : b.loss_and_grad(deep_, data_, rows, grad);
  }
  Vec gradient(const Backend& b) const {
    Vec g;
    loss_and_grad(b, &g);
    return g;
  }
  std::unique_ptr<LinearOperator> curvature(const Backend& b, CurvatureKind kind) const {
    return c_.depth == 1 ? b.curvature(shallow_, data_, kind) : b.curvature(deep_, data_, kind);
  }
  Matrix dense(const Backend& b, CurvatureKind kind) const {
    return c_.depth == 1 ? b.dense_curvature(shallow_, data_, kind)
                         : b.dense_curvature(deep_, data_, kind);
  }
  EigenResult top(const Backend& b, const SharpnessOptions& o = {}) const {
    return c_.depth == 1 ? sharpness(b, shallow_, data_, o) : sharpness(b, deep_, data_, o);
  }
  EigenResult bottom(const Backend& b, const SharpnessOptions& o = {}) const {
    return c_.depth == 1 ? min_hessian_eigenvalue(b, shallow_, data_, o)
                         : min_hessian_eigenvalue(b, deep_, data_, o);
  }
  EigenResult gn_top(const Backend& b, const SharpnessOptions& o = {}) const {
    return c_.depth == 1 ? gn_sharpness(b, shallow_, data_, o) : gn_sharpness(b, deep_, data_, o);
  }

  static constexpr Index kWidth = 5;
  static constexpr Index kWidth1 = 4;
  static constexpr Index kWidth2 = 3;

 private:
  Combination c_;
  Rng rng_;
  ShallowReluNet shallow_;
  DeepReluNet deep_;
  Dataset data_;
};

/// Every combination that exists, with d = 1 and d = 3 (the sorted-knot back end: d = 1 only).
std::vector<Combination> existing_combinations() {
  std::vector<Combination> all;
  for (const Index d : {Index{1}, Index{3}}) {
    all.push_back({"cpu", Activation::Relu, 1, d});
    if (d == 1) all.push_back({"univariate", Activation::Relu, 1, d});
    all.push_back({"cpu-gelu", Activation::Gelu, 1, d});
    all.push_back({"cpu", Activation::Relu, 2, d});
  }
  return all;
}

class EngineCombination : public ::testing::TestWithParam<Combination> {
 protected:
  void SetUp() override { backend_ = make_backend(GetParam().backend); }
  Subject subject(Index n = 12) const {
    const Combination& c = GetParam();
    return Subject(c, n, 900 + 17 * static_cast<std::uint64_t>(c.dim) + 5 * static_cast<std::uint64_t>(c.depth));
  }
  std::unique_ptr<Backend> backend_;
};

TEST_P(EngineCombination, BackEndComputesItsActivation) {
  EXPECT_EQ(backend_->activation(), GetParam().activation);
  EXPECT_EQ(backend_->name(), GetParam().backend);
}

TEST_P(EngineCombination, LossMatchesBruteForceLoop) {
  const Subject s = subject();
  const double expected = s.brute_loss(s.theta());
  EXPECT_NEAR(s.loss_and_grad(*backend_, nullptr), expected, 1e-13 * (1.0 + expected));
  Vec g;
  EXPECT_NEAR(s.loss_and_grad(*backend_, &g), expected, 1e-13 * (1.0 + expected));
  EXPECT_EQ(g.size(), s.n_params());
  // A mini-batch with a repeated row: the mean over the listed rows.
  const Index rows[] = {3, 0, 3};
  Vec f = s.outputs(s.theta()) - s.data().y;
  const double batch = (f[3] * f[3] * 2.0 + f[0] * f[0]) / 6.0;
  EXPECT_NEAR(s.loss_and_grad(*backend_, nullptr, rows), batch, 1e-13 * (1.0 + batch));
}

TEST_P(EngineCombination, GradientMatchesCentralDifferencesOfTheLoss) {
  const Subject s = subject();
  const Vec g = s.gradient(*backend_);
  Vec fd(s.n_params());
  for (Index p = 0; p < s.n_params(); ++p) {
    Vec plus = s.theta(), minus = s.theta();
    plus[p] += kStep;
    minus[p] -= kStep;
    fd[p] = (s.brute_loss(plus) - s.brute_loss(minus)) / (2.0 * kStep);
  }
  EXPECT_LE(max_abs(g - fd), kCombinationFdTol * (1.0 + max_abs(fd)));
  EXPECT_GT(max_abs(fd), 1e-3);  // a real gradient, not a vanishing one
}

TEST_P(EngineCombination, CurvatureProductsMatchDifferencesOfTheGradientAndTheDenseMatrix) {
  Subject s = subject();
  const Vec theta = s.theta();
  const auto hessian = s.curvature(*backend_, CurvatureKind::Hessian);
  const Matrix dense = s.dense(*backend_, CurvatureKind::Hessian);
  for (int trial = 0; trial < 3; ++trial) {
    SCOPED_TRACE("direction " + std::to_string(trial));
    Vec v(s.n_params());
    for (Index p = 0; p < v.size(); ++p) v[p] = s.rng().normal();
    Vec hv;
    hessian->apply(v, hv);
    // (grad(theta + h v) - grad(theta - h v)) / 2h through the back end's gradient, which the test
    // above ties to the brute-force loss.
    s.set_theta(theta + kStep * v);
    const Vec g_plus = s.gradient(*backend_);
    s.set_theta(theta - kStep * v);
    const Vec g_minus = s.gradient(*backend_);
    s.set_theta(theta);
    const Vec fd = (g_plus - g_minus) / (2.0 * kStep);
    EXPECT_LE(max_abs(hv - fd), 1e-6 * (1.0 + max_abs(fd)));
    EXPECT_LE(max_abs(hv - dense * v), kCombinationRoundingTol * (1.0 + max_abs(hv)) * static_cast<double>(v.size()));
  }
}

TEST_P(EngineCombination, DenseMatricesAreSymmetricAndGaussNewtonIsJacobianTransposeJacobian) {
  const Subject s = subject();
  const Matrix H = s.dense(*backend_, CurvatureKind::Hessian);
  const Matrix G = s.dense(*backend_, CurvatureKind::GaussNewton);
  ASSERT_EQ(H.rows(), s.n_params());
  ASSERT_EQ(G.rows(), s.n_params());
  EXPECT_TRUE(H == H.transpose());
  EXPECT_TRUE(G == G.transpose());
  // J (n x P) by central differences of the brute-force outputs.
  Matrix J(s.data().n(), s.n_params());
  for (Index p = 0; p < s.n_params(); ++p) {
    Vec plus = s.theta(), minus = s.theta();
    plus[p] += kStep;
    minus[p] -= kStep;
    J.col(p) = (s.outputs(plus) - s.outputs(minus)) / (2.0 * kStep);
  }
  const Matrix oracle = J.transpose() * J / static_cast<double>(s.data().n());
  EXPECT_LE(max_abs(G - oracle), kCombinationFdTol * (1.0 + max_abs(oracle)));
  // The Gauss-Newton operator is the dense matrix's.
  const auto op = s.curvature(*backend_, CurvatureKind::GaussNewton);
  Vec v = Vec::LinSpaced(s.n_params(), -1.0, 1.0);
  Vec gv;
  op->apply(v, gv);
  EXPECT_LE(max_abs(gv - G * v), kCombinationRoundingTol * (1.0 + max_abs(gv)) * static_cast<double>(v.size()));
  // The residual term makes the Hessian differ from the Gauss-Newton matrix (targets N(0, 1)).
  EXPECT_GT(max_abs(H - G), 1e-3);
}

TEST_P(EngineCombination, SharpnessMatchesTheDenseEigensolver) {
  const Subject s = subject();
  SharpnessOptions lanczos_only;
  lanczos_only.dense_max = 0;
  for (const CurvatureKind kind : {CurvatureKind::Hessian, CurvatureKind::GaussNewton}) {
    const bool hessian = kind == CurvatureKind::Hessian;
    SCOPED_TRACE(hessian ? "Hessian" : "Gauss-Newton");
    const Matrix A = s.dense(*backend_, kind);
    const Vec eigenvalues = test::symmetric_eigenvalues(A);
    const double tol = 1e-9 * std::max(1.0, max_abs(eigenvalues));
    struct Path {
      const char* name;
      EigenResult result;
      double expected;
    };
    std::vector<Path> paths;
    if (hessian) {
      paths.push_back({"top", s.top(*backend_), eigenvalues[eigenvalues.size() - 1]});
      paths.push_back({"top, Lanczos", s.top(*backend_, lanczos_only), eigenvalues[eigenvalues.size() - 1]});
      paths.push_back({"bottom", s.bottom(*backend_), eigenvalues[0]});
      paths.push_back({"bottom, Lanczos", s.bottom(*backend_, lanczos_only), eigenvalues[0]});
      EXPECT_LT(eigenvalues[0], -1e-3);  // indefinite: both ends are real questions
    } else {
      paths.push_back({"top", s.gn_top(*backend_), eigenvalues[eigenvalues.size() - 1]});
      paths.push_back({"top, Lanczos", s.gn_top(*backend_, lanczos_only), eigenvalues[eigenvalues.size() - 1]});
    }
    for (const Path& path : paths) {
      SCOPED_TRACE(path.name);
      EXPECT_NEAR(path.result.value, path.expected, tol);
      EXPECT_TRUE(path.result.converged);
      EXPECT_LE(path.result.residual, 1e-9 * std::max(1.0, std::abs(path.result.value)));
      // The eigenpair is the dense matrix's, not only its value.
      ASSERT_EQ(path.result.vector.size(), s.n_params());
      EXPECT_NEAR(path.result.vector.norm(), 1.0, 1e-9);
      EXPECT_LE((A * path.result.vector - path.result.value * path.result.vector).norm(), 1e-8 * std::max(1.0, std::abs(path.result.value)));
    }
  }
}

TEST_P(EngineCombination, BitIdenticalForOneTwoAndThreeThreads) {
  // 700 samples: three blocks of detail::kSamplesPerBlock, so threads really split the work.
  const Subject s = subject(700);
  Vec v(s.n_params());
  for (Index p = 0; p < v.size(); ++p) v[p] = std::sin(1.0 + static_cast<double>(p));
  struct Results {
    double loss;
    Vec grad, hv, gv;
    double top;
  };
  auto run = [&](int threads) {
    const auto b = make_backend(GetParam().backend, RunContext{threads});
    Results r;
    r.loss = s.loss_and_grad(*b, &r.grad);
    s.curvature(*b, CurvatureKind::Hessian)->apply(v, r.hv);
    s.curvature(*b, CurvatureKind::GaussNewton)->apply(v, r.gv);
    r.top = s.top(*b).value;
    return r;
  };
  const Results one = run(1);
  for (const int threads : {2, 3}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    const Results other = run(threads);
    EXPECT_EQ(one.loss, other.loss);
    EXPECT_TRUE(one.grad == other.grad);
    EXPECT_TRUE(one.hv == other.hv);
    EXPECT_TRUE(one.gv == other.gv);
    EXPECT_EQ(one.top, other.top);
  }
}

INSTANTIATE_TEST_SUITE_P(Existing, EngineCombination,
                         ::testing::ValuesIn(existing_combinations()), combination_name);

// --- Combinations that do not exist. ---

using test::message_of;

TEST(EngineRefusals, BackEndsWithoutTwoHiddenLayersRefuseThem) {
  Rng rng(3);
  DeepReluNet net(1, 3, 2);
  for (Index p = 0; p < net.n_params(); ++p) net.theta()[p] = rng.normal();
  Dataset data;
  data.X = RowMatrix::Random(6, 1);
  data.y = Vec::Random(6);
  for (const char* name : {"univariate", "cpu-gelu"}) {
    SCOPED_TRACE(name);
    const auto backend = make_backend(name);
    const std::string expected = "does not compute two-hidden-layer nets";
    Vec g;
    EXPECT_NE(message_of([&] { (void)backend->loss_and_grad(net, data, {}, &g); }).find(expected),
              std::string::npos);
    EXPECT_NE(message_of([&] { (void)backend->curvature(net, data, CurvatureKind::Hessian); })
                  .find(expected),
              std::string::npos);
    EXPECT_NE(message_of([&] { (void)backend->dense_curvature(net, data, CurvatureKind::GaussNewton); })
                  .find(expected),
              std::string::npos);
    EXPECT_THROW((void)sharpness(*backend, net, data), InputError);
    EXPECT_THROW((void)min_hessian_eigenvalue(*backend, net, data), InputError);
    EXPECT_THROW((void)gn_sharpness(*backend, net, data), InputError);
    TrainOptions options;
    options.stop.max_steps = 2;
    EXPECT_THROW((void)train_deep(*backend, net, data, options), InputError);
  }
  // The reference computes them, and the free functions are its shorthands: same numbers.
  const auto cpu = make_backend("cpu");
  Vec g_backend, g_free;
  EXPECT_EQ(cpu->loss_and_grad(net, data, {}, &g_backend),
            deep_loss_and_grad(net, data, {}, &g_free));
  EXPECT_TRUE(g_backend == g_free);
  EXPECT_EQ(sharpness(*cpu, net, data).value, deep_sharpness(net, data).value);
}

TEST(EngineRefusals, NetsOfAnotherActivationAreRefused) {
  Rng rng(4);
  ShallowReluNet relu_net = test::random_net(3, 4, rng);
  const Dataset data = test::random_dataset(relu_net, 8, rng);
  ShallowReluNet gelu_net = relu_net;
  gelu_net.set_activation(Activation::Gelu);
  const auto cpu = make_backend("cpu");
  const auto gelu = make_backend("cpu-gelu");
  EXPECT_THROW((void)sharpness(*cpu, gelu_net, data), InputError);
  EXPECT_THROW((void)gn_sharpness(*cpu, gelu_net, data), InputError);
  EXPECT_THROW((void)sharpness(*gelu, relu_net, data), InputError);
  EXPECT_THROW((void)min_hessian_eigenvalue(*gelu, relu_net, data), InputError);
  TrainOptions options;
  options.stop.max_steps = 2;
  EXPECT_THROW((void)train(*cpu, gelu_net, data, options), InputError);
  EXPECT_THROW((void)train(*gelu, relu_net, data, options), InputError);
  // The sorted-knot back end computes d = 1 only.
  EXPECT_THROW((void)make_backend("univariate")->loss_and_grad(relu_net, data, {}, nullptr),
               InputError);
  // Unknown back ends are refused by name.
  EXPECT_NE(message_of([] { (void)make_backend("cuda-gelu"); }).find("unknown back end"),
            std::string::npos);
}

TEST(EngineRefusals, ReluClosedFormsRefuseOtherActivationsAndAreTheReferencesMatrices) {
  Rng rng(5);
  const ShallowReluNet relu_net = test::random_net(2, 4, rng);
  const Dataset data = test::random_dataset(relu_net, 9, rng);
  ShallowReluNet gelu_net = relu_net;
  gelu_net.set_activation(Activation::Gelu);
  EXPECT_THROW((void)dense_hessian(gelu_net, data), InputError);
  EXPECT_THROW((void)gauss_newton_matrix(gelu_net, data), InputError);
  EXPECT_THROW((void)tangent_features(gelu_net, data), InputError);
  EXPECT_THROW((void)gram_matrix(gelu_net, data), InputError);
  EXPECT_THROW((void)activation_pattern(gelu_net, data), InputError);
  // For ReLU nets they are what the reference's dense_curvature returns, and the GeLU back end's
  // own explicit formula gives another matrix for the same parameters.
  const auto cpu = make_backend("cpu");
  EXPECT_TRUE(cpu->dense_curvature(relu_net, data, CurvatureKind::Hessian) ==
              dense_hessian(relu_net, data));
  EXPECT_TRUE(cpu->dense_curvature(relu_net, data, CurvatureKind::GaussNewton) ==
              gauss_newton_matrix(relu_net, data));
  const Matrix gelu_hessian =
      make_backend("cpu-gelu")->dense_curvature(gelu_net, data, CurvatureKind::Hessian);
  EXPECT_GT(max_abs(gelu_hessian - dense_hessian(relu_net, data)), 1e-2);
}

TEST(ActivationPolicies, ScalarFunctionsFollowTheirDefinitions) {
  // ReLU's convention: relu'(0) = 0 and relu'' = 0; std::max's bits, also for -0.
  static_assert(ReluActivation::value(-2.0) == 0.0 && ReluActivation::value(3.0) == 3.0);
  static_assert(ReluActivation::slope(0.0) == 0.0 && ReluActivation::slope(1e-300) == 1.0);
  static_assert(ReluActivation::curve(1.0) == 0.0 && ReluActivation::slope_from_value(0.0) == 0.0);
  EXPECT_TRUE(std::signbit(ReluActivation::value(-0.0)) == std::signbit(std::max(-0.0, 0.0)));
  // GeLU against its definition through erf and against central differences of itself.
  for (const double z : {-6.0, -1.3, -1e-3, 0.0, 0.4, 2.5, 7.0}) {
    SCOPED_TRACE(z);
    const double phi = std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
    const double cdf = 0.5 * (1.0 + std::erf(z / std::numbers::sqrt2));
    const ActivationDerivatives a = GeluActivation::derivatives(z);
    EXPECT_NEAR(a.value, z * cdf, 1e-15 * (1.0 + std::abs(z)));
    EXPECT_NEAR(a.slope, cdf + z * phi, 1e-15);
    EXPECT_NEAR(a.curve, phi * (2.0 - z * z), 1e-15);
    const double h = 1e-5;
    EXPECT_NEAR(a.slope, (GeluActivation::value(z + h) - GeluActivation::value(z - h)) / (2 * h), 1e-9);
    EXPECT_NEAR(a.curve, (GeluActivation::slope(z + h) - GeluActivation::slope(z - h)) / (2 * h), 1e-9);
    EXPECT_EQ(a.value, gelu(z));
    EXPECT_EQ(a.value, GeluActivation::value(z));
    EXPECT_EQ(a.slope, GeluActivation::slope(z));
    EXPECT_EQ(a.curve, GeluActivation::curve(z));
  }
}

}  // namespace
}  // namespace relustab
