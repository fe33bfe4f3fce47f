// SPDX-License-Identifier: MIT
// execute_run against the same run assembled by hand from the data generators, the initialisation,
// the trainer and analyze_net (bit for bit), a brute-force loss, and divergence and bad input.
#include <relustab/analysis/alignment.h>
#include <relustab/analysis/report.h>
#include <relustab/curvature/deep_curvature.h>
#include <relustab/model/deep_relu.h>
#include <relustab/core/error.h>
#include <relustab/data/generators.h>
#include <relustab/experiment/run_result.h>
#include <relustab/io/formats.h>
#include <relustab/model/init.h>
#include <relustab/train/output_fit.h>
#include <relustab/train/trainer.h>

#include "dense_oracles.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>

namespace relustab {
namespace {

/// Relative agreement of the reported final loss with a brute-force loop over the samples: the two
/// sum the same n terms in different orders, so they differ by a few ulps times n.
constexpr double kLossRelTol = 1e-12;

RunConfig small_run_config() {
  RunConfig config;
  config.n = 14;
  config.target = Target::Kind::Sin3;
  config.noise = 0.2;
  config.data_seed = 7;
  config.width = 12;
  config.eta = 0.05;
  config.max_steps = 400;
  config.log_every = 100;
  config.log_sharpness = true;
  config.seed = 3;
  return config;
}

/// The data exactly as `relustab data --seed S` builds them.
Dataset data_by_hand(const RunConfig& c) {
  Rng rng(c.data_seed);
  Rng input_rng = rng.split(1), target_rng = rng.split(2), noise_rng = rng.split(3);
  const RowMatrix X = sample_inputs(c.inputs, c.n, c.dim, input_rng, c.lo, c.hi);
  const Target target = make_target(c.target, c.dim, target_rng);
  return make_dataset(X, target, c.noise, noise_rng);
}

struct ByHand {
  TrainResult trained;
  std::optional<StabilityReport> report;
};

ByHand run_by_hand(const RunConfig& c, const Dataset& data) {
  Rng init_rng(c.seed);
  const ShallowReluNet net =
      initialize(data.dim(), c.width, init_kind_of(c.init), c.init_scale, init_rng);
  TrainOptions options;
  options.schedule.eta = c.eta;
  options.stop.max_steps = c.max_steps;
  options.stop.loss_tol = c.loss_tol;
  options.stop.patience = c.patience;
  options.stop.divergence_loss = c.divergence_loss;
  options.batch_size = c.batch;
  options.seed = c.seed;
  options.log_every = c.log_every;
  options.log_sharpness = c.log_sharpness;
  // run.backend = auto: the sorted-knot back end for d = 1.
  const auto backend = make_backend(resolve_backend_name(c.backend, data.dim()), RunContext{1});
  ByHand out{train(*backend, net, data, options), std::nullopt};
  if (out.trained.outcome != Outcome::Diverged && c.final_analysis) {
    out.report = analyze_net(*backend, out.trained.net, data, c.eta);
  }
  return out;
}

std::map<std::string, double> metric_map(const RunResult& result) {
  std::map<std::string, double> metrics;
  for (const auto& [name, value] : result.metrics) {
    EXPECT_TRUE(metrics.emplace(name, value).second) << "metric " << name << " reported twice";
  }
  return metrics;
}

/// Every final number of the hand-made run equals execute_run's, exactly.
void expect_same_run(const RunResult& result, const ByHand& hand, const Dataset& data) {
  const auto metrics = metric_map(result);
  EXPECT_EQ(metrics.at("steps"), static_cast<double>(hand.trained.steps));
  EXPECT_EQ(metrics.at("loss"), hand.trained.final_loss);
  EXPECT_EQ(metrics.at("switch_step"), static_cast<double>(hand.trained.switch_step));
  ASSERT_FALSE(result.net_json.empty());
  const ShallowReluNet net = io::parse_net_json(result.net_json, "execute_run net");
  ASSERT_EQ(net.n_params(), hand.trained.net.n_params());
  for (Index p = 0; p < net.n_params(); ++p) {
    EXPECT_EQ(net.theta()[p], hand.trained.net.theta()[p]) << "parameter " << p;
  }
  EXPECT_NEAR(metrics.at("loss"), test::brute_force_loss(net, data),
              kLossRelTol * metrics.at("loss"));
  ASSERT_TRUE(hand.report.has_value());
  const StabilityReport& r = *hand.report;
  EXPECT_EQ(metrics.at("sharpness"), r.sharpness.value);
  EXPECT_EQ(metrics.at("sharpness_residual"), r.sharpness.residual);
  EXPECT_EQ(metrics.at("gn_sharpness"), r.gn_sharpness.value);
  EXPECT_EQ(metrics.at("weighted_tv"), r.weighted_tv);
  EXPECT_EQ(metrics.at("weighted_norm"), r.weighted_norm);
  EXPECT_EQ(metrics.at("lemma4_bound"), r.lemma4_bound);
  EXPECT_EQ(metrics.at("per_implementation_bound"), r.per_implementation_bound);
  EXPECT_EQ(metrics.at("knots"), static_cast<double>(r.knots));
  EXPECT_EQ(metrics.at("neurons_on_data"), static_cast<double>(r.neurons_on_data));
  EXPECT_EQ(metrics.at("two_over_eta"), r.two_over_eta);
  EXPECT_EQ(metrics.at("thm1_rhs"), r.thm1_rhs);
  EXPECT_EQ(metrics.at("stable"), r.stable ? 1.0 : 0.0);
  EXPECT_EQ(metrics.at("noninterpolating_bound"), r.noninterpolating_bound);
  EXPECT_EQ(metrics.at("thm2_delta"), r.thm2_delta);
  EXPECT_EQ(metrics.at("mse_clean"), r.mse_clean);
}

TEST(ExecuteRun, GdEqualsGeneratorsTrainAndAnalyzeByHand) {
  const RunConfig config = small_run_config();
  const RunResult result = execute_run(config, {});
  EXPECT_EQ(result.status, RunStatus::Done);
  EXPECT_TRUE(result.reason.empty());
  EXPECT_EQ(result.key, run_key(config));
  EXPECT_EQ(result.backend, "univariate");  // run.backend = auto, d = 1
  const Dataset data = data_by_hand(config);
  const ByHand hand = run_by_hand(config, data);
  EXPECT_EQ(hand.trained.outcome, Outcome::MaxSteps);  // 400 steps do not reach loss 1e-6
  EXPECT_EQ(metric_map(result).at("outcome"), 1.0);    // 1: max_steps
  expect_same_run(result, hand, data);
}

TEST(ExecuteRun, SgdUsesTheRunSeedForBatches) {
  RunConfig config = small_run_config();
  config.batch = 4;
  config.seed = 11;
  const Dataset data = data_by_hand(config);
  expect_same_run(execute_run(config, {}), run_by_hand(config, data), data);
  // Another seed: another initialisation and batch stream, so other parameters.
  RunConfig other = config;
  other.seed = 12;
  EXPECT_NE(execute_run(other, {}).net_json, execute_run(config, {}).net_json);
}

TEST(ExecuteRun, LogHasEveryMetricAtEveryLogStep) {
  const RunConfig config = small_run_config();
  const RunResult result = execute_run(config, {});
  const ByHand hand = run_by_hand(config, data_by_hand(config));
  // Steps 0, 100, ..., 400: the trainer logs every log_every steps and the final step once.
  std::map<std::int64_t, std::map<std::string, double>> rows;
  for (const LogEntry& entry : result.log) {
    EXPECT_TRUE(rows[entry.step].emplace(entry.metric, entry.value).second)
        << "step " << entry.step << " metric " << entry.metric << " twice";
  }
  ASSERT_EQ(rows.size(), 5u);
  std::int64_t expected_step = 0;
  for (const auto& [step, row] : rows) {
    EXPECT_EQ(step, expected_step);
    expected_step += config.log_every;
    EXPECT_EQ(row.size(), 6u);  // loss, eta, grad_norm, mse_clean, sharpness, sharpness_residual
  }
  ASSERT_EQ(hand.trained.log.size(), 5u);
  for (const LogRow& expected : hand.trained.log) {
    const auto& row = rows.at(expected.step);
    EXPECT_EQ(row.at("loss"), expected.loss);
    EXPECT_EQ(row.at("eta"), expected.eta);
    EXPECT_EQ(row.at("grad_norm"), expected.grad_norm);
    EXPECT_EQ(row.at("mse_clean"), expected.mse_clean);
    EXPECT_EQ(row.at("sharpness"), expected.sharpness);
    EXPECT_EQ(row.at("sharpness_residual"), expected.sharpness_residual);
  }
}

TEST(ExecuteRun, NoLogNoAnalysisNoNetWhenSwitchedOff) {
  RunConfig config = small_run_config();
  config.log_every = 0;
  config.final_analysis = false;
  config.save_net = false;
  const RunResult result = execute_run(config, {});
  EXPECT_EQ(result.status, RunStatus::Done);
  EXPECT_TRUE(result.log.empty());
  EXPECT_TRUE(result.net_json.empty());
  const auto metrics = metric_map(result);
  EXPECT_EQ(metrics.count("sharpness"), 0u);
  // Training itself does not depend on what is measured: same final loss as with everything on.
  EXPECT_EQ(metrics.at("loss"), metric_map(execute_run(small_run_config(), {})).at("loss"));
}

TEST(ExecuteRun, DataFileComesFromTheLoader) {
  RunConfig config = small_run_config();
  config.data_file = "/nonexistent/data.csv";  // the loader decides what this means
  // A data set without a clean target: mse_clean is then undefined and left out.
  Dataset data = data_by_hand(small_run_config());
  data.y_clean.resize(0);
  int calls = 0;
  const DataFileLoader loader = [&](const std::string& path) {
    ++calls;
    EXPECT_EQ(path, config.data_file);
    return data;
  };
  const RunResult result = execute_run(config, RunInputs{.load_data = loader});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(result.status, RunStatus::Done);
  const ByHand hand = run_by_hand(config, data);
  const auto metrics = metric_map(result);
  EXPECT_EQ(metrics.count("mse_clean"), 0u);
  EXPECT_EQ(metrics.at("loss"), hand.trained.final_loss);
  EXPECT_EQ(metrics.at("sharpness"), hand.report->sharpness.value);
}

TEST(ExecuteRun, DataFileWithoutLoaderIsBadInput) {
  RunConfig config = small_run_config();
  config.data_file = "data.csv";
  EXPECT_THROW(execute_run(config, {}), InputError);
}

TEST(ExecuteRun, DivergenceIsAFailedRunWithTheStepAndLoss) {
  RunConfig config = small_run_config();
  config.eta = 1000.0;  // 2/eta = 0.002 is far below any sharpness of this problem
  const RunResult result = execute_run(config, {});
  EXPECT_EQ(result.status, RunStatus::Failed);
  const auto metrics = metric_map(result);
  EXPECT_EQ(metrics.at("outcome"), 2.0);
  const std::string expected_prefix =
      "diverged at step " + std::to_string(static_cast<long long>(metrics.at("steps"))) + " (loss ";
  EXPECT_EQ(result.reason.rfind(expected_prefix, 0), 0u) << result.reason;
  EXPECT_GT(metrics.at("loss"), config.divergence_loss);
  EXPECT_EQ(metrics.count("sharpness"), 0u);  // no analysis of a blown-up net
  // The stored net is the last finite iterate, and its loss is the reported one.
  const ShallowReluNet net = io::parse_net_json(result.net_json, "diverged net");
  EXPECT_NEAR(test::brute_force_loss(net, data_by_hand(config)), metrics.at("loss"),
              kLossRelTol * metrics.at("loss"));
}

TEST(ExecuteRun, SwitchedStepSizeIsTheOneTheAnalysisUses) {
  RunConfig config = small_run_config();
  config.switch_below = 1.0;  // the initial loss of this problem is below 1: switch at step 0
  config.switch_factor = 2.0;
  const RunResult result = execute_run(config, {});
  const auto metrics = metric_map(result);
  ASSERT_EQ(metrics.at("switch_step"), 0.0);
  EXPECT_EQ(metrics.at("final_eta"), 2.0 * config.eta);
  EXPECT_DOUBLE_EQ(metrics.at("two_over_eta"), 2.0 / (2.0 * config.eta));
  EXPECT_DOUBLE_EQ(metrics.at("thm1_rhs"), 1.0 / (2.0 * config.eta) - 0.5);
}

TEST(ExecuteRun, DataKnotsAndTheMinimumNormOutputLayerAreTheLibraryFunctionsInOrder) {
  RunConfig config = small_run_config();
  config.inputs = InputLaw::Grid;
  config.init = InitScheme::DataKnots;
  config.init_scale = 1.5;
  config.fit_output = OutputLayerFit::MinNorm;
  config.log_every = 0;
  for (const std::int64_t width : {config.n - 1, std::int64_t{50}}) {
    SCOPED_TRACE("width " + std::to_string(width));
    config.width = width;
    config.max_steps = 0;
    const Dataset data = data_by_hand(config);
    Rng init_rng(config.seed);
    ShallowReluNet expected = initialize_data_knots(Vec(data.X.col(0)), width, 1.5, init_rng);
    const OutputFit fit = fit_output_min_norm(expected, data);
    const RunResult result = execute_run(config, {});
    ASSERT_EQ(result.status, RunStatus::Done) << result.reason;
    const ShallowReluNet net = io::parse_net_json(result.net_json, "execute_run net");
    ASSERT_EQ(net.n_params(), expected.n_params());
    for (Index p = 0; p < net.n_params(); ++p) {
      EXPECT_EQ(net.theta()[p], expected.theta()[p]) << "parameter " << p;
    }
    const auto metrics = metric_map(result);
    EXPECT_EQ(metrics.at("steps"), 0.0);
    EXPECT_EQ(metrics.at("output_rank"), static_cast<double>(config.n));
    EXPECT_EQ(metrics.at("output_norm"), fit.norm);
    // Knots in every gap and k + 1 >= n: the labels are interpolated (to rounding).
    EXPECT_LT(test::brute_force_loss(net, data), 1e-20 * data.y.squaredNorm());
    EXPECT_LT(metrics.at("loss"), 1e-20 * data.y.squaredNorm());
    // GD steps start from the fitted output layer; at an interpolant they have nothing to do (with a
    // step size small enough for its sharpness: an interpolant is a fixed point of GD, but a sharp
    // one is an unstable fixed point for larger steps).
    RunConfig polish = config;
    polish.max_steps = 50;
    polish.eta = 1e-6;
    const ShallowReluNet polished = io::parse_net_json(execute_run(polish, {}).net_json, "polished");
    EXPECT_LT((polished.theta() - expected.theta()).norm(), 1e-8 * expected.theta().norm());
  }
}

TEST(ExecuteRun, BadConfigurationThrowsInputErrorNamingTheKey) {
  RunConfig config = small_run_config();
  config.width = 0;
  try {
    execute_run(config, {});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.width"), std::string::npos) << e.what();
  }
}

/// The validation set of a generated run, drawn by hand from stream split(4) of the data seed.
Dataset validation_by_hand(const RunConfig& c) {
  Rng rng(c.data_seed);
  Rng target_rng = rng.split(2);
  const Target target = make_target(c.target, c.dim, target_rng);
  Rng val_rng = rng.split(4);
  Rng inputs = val_rng.split(1), noise = val_rng.split(3);
  return make_dataset(sample_inputs(c.inputs, c.n_val, c.dim, inputs, c.lo, c.hi),
                      target, c.noise, noise);
}

RunConfig teacher_config() {
  RunConfig c;
  c.n = 40;
  c.dim = 3;
  c.inputs = InputLaw::Gaussian;
  c.target = Target::Kind::LinearTeacher;
  c.noise = 0.5;
  c.n_val = 60;
  c.width = 10;
  c.init = InitScheme::Balanced;
  c.init_scale = 0.01;
  c.eta = 0.05;
  c.max_steps = 300;
  c.final_analysis = false;
  c.data_seed = 4;
  return c;
}

TEST(ExecuteRun, ValidationMetricsMatchABruteForceLoopAndTheOlsFormula) {
  RunConfig c = teacher_config();
  c.alignment = true;
  const RunResult result = execute_run(c, {});
  const auto metrics = metric_map(result);
  const Dataset val = validation_by_hand(c);
  const ShallowReluNet net = io::parse_net_json(result.net_json, "net_json");
  double squared = 0.0, squared_clean = 0.0;
  for (Index j = 0; j < val.n(); ++j) {
    const double f = test::brute_force_output(net, val.X.row(j).transpose());
    squared += (f - val.y[j]) * (f - val.y[j]);
    squared_clean += (f - val.y_clean[j]) * (f - val.y_clean[j]);
  }
  EXPECT_NEAR(metrics.at("val_mse"), squared / 60.0, 1e-12 * squared);
  EXPECT_NEAR(metrics.at("val_mse_clean"), squared_clean / 60.0, 1e-12 * squared_clean);
  EXPECT_DOUBLE_EQ(metrics.at("noise_var"), 0.25);
  EXPECT_DOUBLE_EQ(metrics.at("ols_test_mse"), 0.25 * (1.0 + 3.0 / 36.0));
  EXPECT_DOUBLE_EQ(metrics.at("train_mse"), 2.0 * metrics.at("loss"));
  // Alignment against the teacher drawn from the same stream.
  Rng rng(c.data_seed);
  Rng target_rng = rng.split(2);
  const Target target = make_target(c.target, c.dim, target_rng);
  EXPECT_DOUBLE_EQ(metrics.at("aligned_fraction"), neuron_alignment(net, target.beta).fraction_aligned);
  EXPECT_LE(std::abs(metrics.at("extremal_max_cos")), 1.0);
}

TEST(ExecuteRun, LeastSquaresReferencesMatchTheNormalEquations) {
  RunConfig c = teacher_config();
  const RunResult result = execute_run(c, {});
  const auto metrics = metric_map(result);
  const Dataset data = data_by_hand(c);
  const Dataset val = validation_by_hand(c);
  // The affine least-squares fit by the normal equations (A^T A) c = A^T y, A = [X 1]: another
  // algorithm than the QR the run uses, equal to ~1e-12 for this well-conditioned design.
  Matrix A(data.n(), c.dim + 1);
  A.leftCols(c.dim) = data.X;
  A.col(c.dim).setOnes();
  const Vec coefficients = test::normal_equations_solution(A, data.y);
  auto fit = [&](const RowMatrix& X, Index j) {
    return X.row(j).dot(coefficients.head(c.dim)) + coefficients[c.dim];
  };
  double train = 0.0, val_error = 0.0, gap = 0.0;
  for (Index j = 0; j < data.n(); ++j) train += std::pow(fit(data.X, j) - data.y[j], 2);
  const ShallowReluNet net = io::parse_net_json(result.net_json, "net_json");
  for (Index j = 0; j < val.n(); ++j) {
    val_error += std::pow(fit(val.X, j) - val.y[j], 2);
    gap += std::pow(test::brute_force_output(net, val.X.row(j).transpose()) - fit(val.X, j), 2);
  }
  EXPECT_NEAR(metrics.at("ols_train_mse"), train / 40.0, 1e-10 * train / 40.0);
  EXPECT_NEAR(metrics.at("ols_val_mse"), val_error / 60.0, 1e-10 * val_error / 60.0);
  EXPECT_NEAR(metrics.at("ols_gap"), gap / 60.0, 1e-10 * gap / 60.0);
  // No least-squares references when the affine fit is not determined (n <= d + 1).
  c.n = 4;
  const auto underdetermined = metric_map(execute_run(c, {}));
  EXPECT_EQ(underdetermined.count("ols_train_mse"), 0u);
  EXPECT_EQ(underdetermined.count("ols_gap"), 0u);
}

TEST(ExecuteRun, AlignmentIsLoggedDuringTrainingAtTheRowsParameters) {
  RunConfig c = teacher_config();
  c.alignment = true;
  c.log_growth = 2.0;  // rows at steps 0, 1, 2, 4, 8, ..., 256 and the last, 300
  c.init_scale = 1e-4;
  const RunResult result = execute_run(c, {});
  std::map<std::int64_t, std::map<std::string, double>> rows;
  for (const LogEntry& entry : result.log) rows[entry.step][entry.metric] = entry.value;
  ASSERT_EQ(rows.size(), 11u);
  Rng rng(c.data_seed);
  Rng target_rng = rng.split(2);
  const Vec beta = make_target(c.target, c.dim, target_rng).beta;
  for (const std::int64_t step : {std::int64_t{0}, std::int64_t{16}, std::int64_t{300}}) {
    SCOPED_TRACE("step " + std::to_string(step));
    // The same run stopped at `step`: its final net is the row's.
    RunConfig shorter = c;
    shorter.max_steps = step;
    shorter.log_growth = 0.0;
    const RunResult stopped = execute_run(shorter, {});
    const NeuronAlignment expected =
        neuron_alignment(io::parse_net_json(stopped.net_json, "net_json"), beta);
    const auto& row = rows.at(step);
    EXPECT_EQ(row.at("aligned_fraction"), expected.fraction_aligned);
    EXPECT_EQ(row.at("aligned_fraction_signed"), expected.fraction_sign_consistent);
    EXPECT_EQ(row.at("aligned_fraction_weighted"), expected.weighted_fraction_aligned);
    EXPECT_EQ(row.at("grad_norm"), metric_map(stopped).at("grad_norm"));
  }
  // Without measure.alignment the rows carry no alignment.
  c.alignment = false;
  for (const LogEntry& entry : execute_run(c, {}).log) EXPECT_NE(entry.metric, "aligned_fraction");
}

TEST(ExecuteRun, GradNormIsTheFullBatchGradientNormOfTheFinalNet) {
  const RunConfig c = small_run_config();
  const RunResult result = execute_run(c, {});
  const Dataset data = data_by_hand(c);
  const ShallowReluNet net = io::parse_net_json(result.net_json, "net_json");
  // Central differences of the brute-force loss (a piecewise quadratic: exact up to rounding while
  // no pre-activation crosses 0 within the step).
  constexpr double kStep = 1e-6;
  for (Index j = 0; j < data.n(); ++j) {
    ASSERT_GT(test::min_abs_preactivation(net, data.X.row(j).transpose()), 100.0 * kStep);
  }
  double squared = 0.0;
  for (Index p = 0; p < net.n_params(); ++p) {
    ShallowReluNet plus = net, minus = net;
    plus.theta()[p] += kStep;
    minus.theta()[p] -= kStep;
    squared += std::pow((test::brute_force_loss(plus, data) - test::brute_force_loss(minus, data)) /
                            (2.0 * kStep),
                        2);
  }
  EXPECT_NEAR(metric_map(result).at("grad_norm"), std::sqrt(squared), 1e-6 * std::sqrt(squared));
}

TEST(ExecuteRun, GeluRunsPredictWithTheGeluForwardPass) {
  RunConfig c = teacher_config();
  c.activation = Activation::Gelu;
  c.optimizer = Optimizer::Adam;
  c.eta = 0.01;
  const RunResult result = execute_run(c, {});
  EXPECT_EQ(result.backend, "cpu-gelu");
  // Stored with its activation, and read back as a GeLU net.
  const ShallowReluNet net = io::parse_net_json(result.net_json, "net_json");
  EXPECT_EQ(net.activation(), Activation::Gelu);
  const Dataset val = validation_by_hand(c);
  double squared = 0.0;
  for (Index j = 0; j < val.n(); ++j) {
    double f = net.b2();
    for (Index i = 0; i < net.width(); ++i) {
      const double z = net.W1().row(i).dot(val.X.row(j)) + net.b1()[i];
      f += net.w2()[i] * 0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0)));
    }
    squared += (f - val.y[j]) * (f - val.y[j]);
  }
  EXPECT_NEAR(metric_map(result).at("val_mse"), squared / 60.0, 1e-10 * squared);
}

TEST(ExecuteRun, TheExactDeepPyramidIsAStableZeroLossMinimum) {
  RunConfig c;
  c.n = 200;
  c.dim = 2;
  c.target = Target::Kind::Pyramid;
  c.noise = 0.0;
  c.n_val = 100;
  c.depth = 2;
  c.width = 6;
  c.width2 = 2;
  c.init = InitScheme::Pyramid;
  c.eta = 0.5;
  c.max_steps = 1000;
  c.patience = 20;
  c.loss_tol = 1e-12;
  const RunResult result = execute_run(c, {});
  const auto metrics = metric_map(result);
  EXPECT_EQ(metrics.at("outcome"), 0.0);  // converged where it started
  EXPECT_LE(metrics.at("loss"), 1e-28);
  EXPECT_LE(metrics.at("val_mse_clean"), 1e-28);
  const Dataset data = data_by_hand(c);
  DeepReluNet::PyramidOptions layout;
  layout.width1 = 6;
  layout.width2 = 2;
  const EigenResult top = deep_sharpness(DeepReluNet::pyramid(2, layout), data);
  EXPECT_NEAR(metrics.at("sharpness"), top.value, 1e-9 * top.value);
  EXPECT_EQ(metrics.at("stable"), top.value <= 2.0 / 0.5 ? 1.0 : 0.0);
}

TEST(ExecuteRun, GeluFinalAnalysisIsTheGeluSharpness) {
  RunConfig c = teacher_config();
  c.activation = Activation::Gelu;
  c.init = InitScheme::Torch;  // weights of order 1, where the GeLU and ReLU curvatures differ clearly
  c.final_analysis = true;
  const RunResult result = execute_run(c, {});
  const auto metrics = metric_map(result);
  std::string json = result.net_json;
  const std::string gelu = "\"activation\": \"gelu\"";
  ASSERT_NE(json.find(gelu), std::string::npos);
  json.replace(json.find(gelu), gelu.size(), "\"activation\": \"relu\"");
  const ShallowReluNet net = io::parse_net_json(json, "net_json");
  const Dataset data = data_by_hand(c);
  auto gelu_loss = [&](const Vec& theta) {
    const ShallowReluNet at(net.input_dim(), net.width(), theta);
    double sum = 0.0;
    for (Index j = 0; j < data.n(); ++j) {
      double f = at.b2();
      for (Index i = 0; i < at.width(); ++i) {
        const double z = at.W1().row(i).dot(data.X.row(j)) + at.b1()[i];
        f += at.w2()[i] * 0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0)));
      }
      sum += (f - data.y[j]) * (f - data.y[j]);
    }
    return sum / (2.0 * static_cast<double>(data.n()));
  };
  // Central second differences of the brute-force GeLU loss (step 1e-4: ~1e-8 per entry); Weyl
  // bounds the eigenvalue error by P times the entry error.
  const Index P = net.n_params();
  const Matrix H = test::central_difference_hessian(gelu_loss, net.theta());
  const double top = test::largest_eigenvalue(H);
  EXPECT_NEAR(metrics.at("sharpness"), top, static_cast<double>(P) * 1e-6 * (1.0 + top));
  EXPECT_LT(metrics.at("sharpness_residual"), 1e-10 * std::max(1.0, top));
  EXPECT_GT(std::abs(metrics.at("sharpness") - sharpness(*make_backend("cpu"), net, data).value),
            1e-2 * top);
  // The ReLU theory is left out of GeLU runs.
  for (const char* relu_only : {"weighted_norm", "lemma4_bound", "thm1_rhs", "knots"}) {
    EXPECT_EQ(metrics.count(relu_only), 0u) << relu_only;
  }
}

/// execute_runs against execute_run one by one: the same row for every configuration, whether it
/// trained in SIMD lanes (same data, plain GD, with or without log rows), alone (another back
/// end, depth 2) or failed (a bad configuration: the message execute_run throws).
TEST(ExecuteRuns, EveryResultIsExecuteRunsWhetherItSharedLanesOrNot) {
  std::vector<RunConfig> configs;
  for (int c = 0; c < 12; ++c) {
    RunConfig config = small_run_config();
    config.log_every = 0;  // lane-trainable
    config.final_analysis = true;
    config.eta = 0.02 + 0.03 * c;
    config.seed = static_cast<std::uint64_t>(20 + c);
    config.save_net = true;
    if (c % 4 == 1) config.loss_tol = 1e-2;  // converges early
    if (c == 5) config.eta = 30.0;           // diverges
    if (c == 6) config.log_every = 50;       // log rows: measured per lane
    if (c == 7) config.data_seed = 8;        // other data: a lane group of its own (or alone)
    if (c == 8) config.backend = "cpu";      // another back end: alone
    if (c == 9) config.depth = 2;            // the deep trainer
    configs.push_back(config);
  }
  RunConfig bad = small_run_config();
  bad.eta = -1.0;
  configs.insert(configs.begin() + 3, bad);
  const std::vector<RunResult> together = execute_runs(configs, {});
  ASSERT_EQ(together.size(), configs.size());
  for (size_t c = 0; c < configs.size(); ++c) {
    SCOPED_TRACE("config " + std::to_string(c));
    if (c == 3) {
      EXPECT_EQ(together[c].status, RunStatus::Failed);
      EXPECT_EQ(together[c].reason, test::message_of([&] { (void)execute_run(configs[c], {}); }));
      continue;
    }
    const RunResult alone = execute_run(configs[c], {});
    EXPECT_EQ(together[c].key, alone.key);
    EXPECT_EQ(together[c].status, alone.status);
    EXPECT_EQ(together[c].reason, alone.reason);
    EXPECT_EQ(together[c].backend, alone.backend);
    EXPECT_EQ(together[c].net_json, alone.net_json);
    EXPECT_EQ(together[c].log.size(), alone.log.size());
    ASSERT_EQ(together[c].metrics.size(), alone.metrics.size());
    for (size_t m = 0; m < alone.metrics.size(); ++m) {
      EXPECT_EQ(together[c].metrics[m].first, alone.metrics[m].first);
      EXPECT_EQ(together[c].metrics[m].second, alone.metrics[m].second) << alone.metrics[m].first;
    }
  }
  EXPECT_EQ(together[6].status, RunStatus::Failed) << "config 5 (here 6) diverges";
}

}  // namespace
}  // namespace relustab
