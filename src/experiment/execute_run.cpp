// SPDX-License-Identifier: MIT
// execute_run: one run of an experiment, built exactly as `relustab data` + `relustab train` would.
#include <relustab/analysis/alignment.h>
#include <relustab/analysis/flattest.h>
#include <relustab/analysis/kinks.h>
#include <relustab/analysis/knot_stats.h>
#include <relustab/analysis/report.h>
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/deep_curvature.h>
#include <relustab/data/generators.h>
#include <relustab/data/image_task.h>
#include <relustab/experiment/run_result.h>
#include <relustab/io/formats.h>
#include <relustab/io/idx.h>
#include <relustab/model/deep_relu.h>
#include <relustab/model/init.h>
#include <relustab/train/output_fit.h>
#include <relustab/train/train_deep.h>
#include <relustab/train/trainer.h>

#include <Eigen/QR>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <tuple>
#include <optional>
#include <utility>
#include <vector>

namespace relustab {
namespace {

/// The data of a run: training set, validation set (empty unless data.n_val > 0), the clean target
/// when the data were generated from one, and whether the labels are classes (+-1).
struct RunData {
  Dataset data;
  Dataset val;
  std::optional<Target> target;
  bool classification = false;
};

ImageSet load_images(const RunConfig& config) {
  if (config.source == "fashion-mnist") return io::read_fashion_mnist("train");
  if (config.source == "digits") return io::read_digits_csv(io::find_sklearn_digits());
  return io::read_idx_image_set(config.idx_images, config.idx_labels);
}

/// Generated data use the streams of `relustab data --seed data_seed` (inputs split(1), target
/// split(2), noise split(3)), so a run can be replayed from the command line; a validation set
/// draws from split(4) the same way.
RunData build_data(const RunConfig& config, const DataFileLoader& load_data) {
  if (config.source != "generated") {
    BinaryTaskSpec spec;
    std::tie(spec.class_pos, spec.class_neg) = parse_class_pair(config.classes);
    spec.n_train = config.n;
    spec.n_val_per_class = config.n_val / 2;
    spec.center = config.center;
    spec.seed = config.data_seed;
    BinaryImageTask task = make_binary_image_task(load_images(config), spec);
    return {std::move(task.train), std::move(task.val), std::nullopt, true};
  }
  if (!config.data_file.empty()) {
    require(static_cast<bool>(load_data),
            "data.file = \"" + config.data_file + "\": no data file loader was given");
    Dataset data = load_data(config.data_file);
    validate_dataset(data, config.data_file);
    return {std::move(data), Dataset{}, std::nullopt, false};
  }
  Rng rng(config.data_seed);
  Rng input_rng = rng.split(1), target_rng = rng.split(2), noise_rng = rng.split(3);
  const InputLaw law = parse_input_law(config.inputs);
  const RowMatrix X = sample_inputs(law, config.n, config.dim, input_rng, config.lo, config.hi);
  Target target = parse_target(config.target, config.dim, target_rng);
  Dataset data = make_dataset(X, target, config.noise, noise_rng);
  Dataset val;
  if (config.n_val > 0) {
    Rng val_rng = rng.split(4);
    Rng val_inputs = val_rng.split(1), val_noise = val_rng.split(3);
    val = make_dataset(sample_inputs(law, config.n_val, config.dim, val_inputs, config.lo, config.hi),
                       target, config.noise, val_noise);
  }
  return {std::move(data), std::move(val), std::move(target), false};
}

TrainOptions train_options(const RunConfig& config) {
  TrainOptions options;
  options.schedule.eta = config.eta;
  options.schedule.warmup_from = config.warmup_from;
  options.schedule.warmup_steps = config.warmup_steps;
  options.schedule.switch_factor = config.switch_factor;
  options.schedule.switch_below_loss = config.switch_below;
  options.stop.max_steps = config.max_steps;
  options.stop.loss_tol = config.loss_tol;
  options.stop.patience = config.patience;
  options.stop.divergence_loss = config.divergence_loss;
  options.stop.grad_tol = config.grad_tol;
  options.batch_size = config.batch;
  options.seed = config.seed;
  options.log_every = config.log_every;
  options.log_growth = config.log_growth;
  options.log_sharpness = config.log_sharpness;
  options.optimizer = parse_optimizer(config.optimizer);
  return options;
}

/// The step size in effect at step `step` of a run that switched at `switch_step` (-1: never), by
/// the formula documented with StepSchedule: the minimum GD ends in is judged against this eta.
double step_size_at(const StepSchedule& schedule, std::int64_t step, std::int64_t switch_step) {
  double eta = schedule.eta;
  if (schedule.warmup_from > 0.0 && schedule.warmup_steps > 0 && step < schedule.warmup_steps) {
    eta = schedule.warmup_from *
          std::pow(schedule.eta / schedule.warmup_from,
                   static_cast<double>(step) / static_cast<double>(schedule.warmup_steps));
  }
  return switch_step >= 0 && step >= switch_step ? eta * schedule.switch_factor : eta;
}

double outcome_code(Outcome outcome) {
  switch (outcome) {
    case Outcome::Converged: return 0.0;
    case Outcome::MaxSteps: return 1.0;
    case Outcome::Diverged: return 2.0;
  }
  return -1.0;
}

/// Appends a metric when it is a number: NaN means "not defined for this run" (no clean target,
/// d > 1 for the univariate quantities), and SQLite has no NaN, so such metrics are left out.
void add_metric(RunResult& result, const char* name, double value) {
  if (std::isfinite(value)) result.metrics.emplace_back(name, value);
}

void add_log_rows(RunResult& result, const std::vector<LogRow>& rows) {
  for (const LogRow& row : rows) {
    const std::pair<const char*, double> values[] = {{"loss", row.loss},
                                                     {"eta", row.eta},
                                                     {"grad_norm", row.grad_norm},
                                                     {"mse_clean", row.mse_clean},
                                                     {"sharpness", row.sharpness},
                                                     {"sharpness_residual", row.sharpness_residual}};
    for (const auto& [metric, value] : values) {
      if (std::isfinite(value)) result.log.push_back(LogEntry{row.step, metric, value});
    }
    for (const auto& [metric, value] : row.extra) {
      if (std::isfinite(value)) result.log.push_back(LogEntry{row.step, metric, value});
    }
  }
}

void add_analysis(RunResult& result, const StabilityReport& report) {
  add_metric(result, "mse_clean", report.mse_clean);
  add_metric(result, "sharpness", report.sharpness.value);
  add_metric(result, "sharpness_residual", report.sharpness.residual);
  add_metric(result, "gn_sharpness", report.gn_sharpness.value);
  add_metric(result, "weighted_tv", report.weighted_tv);
  add_metric(result, "weighted_norm", report.weighted_norm);
  add_metric(result, "lemma4_bound", report.lemma4_bound);
  add_metric(result, "per_implementation_bound", report.per_implementation_bound);
  if (report.knots >= 0) add_metric(result, "knots", static_cast<double>(report.knots));
  if (report.effective_knots >= 0) {
    add_metric(result, "effective_knots", static_cast<double>(report.effective_knots));
    add_metric(result, "effective_knots_weighted", static_cast<double>(report.effective_knots_weighted));
  }
  if (report.neurons_on_data >= 0) {
    add_metric(result, "neurons_on_data", static_cast<double>(report.neurons_on_data));
  }
  if (report.dead_neurons >= 0) add_metric(result, "dead_neurons", static_cast<double>(report.dead_neurons));
  add_metric(result, "two_over_eta", report.two_over_eta);
  add_metric(result, "thm1_rhs", report.thm1_rhs);
  add_metric(result, "stable", report.stable ? 1.0 : 0.0);
  if (report.eta) {
    add_metric(result, "edge_ratio", report.edge_ratio);
    add_metric(result, "stability_class", static_cast<double>(report.stability));
  }
  add_metric(result, "noninterpolating_bound", report.noninterpolating_bound);
  add_metric(result, "thm2_delta", report.thm2_delta);
}

/// mse_full and mse_interior: the mean of (f - f0)^2 over a uniform grid of [x_min, x_max] and of its
/// strict interior (d = 1, known target).
void add_clean_target_errors(RunResult& result, const RunConfig& config, const ShallowReluNet& net,
                             const Dataset& data, const Target& target) {
  const double x_min = data.X.col(0).minCoeff();
  const double x_max = data.X.col(0).maxCoeff();
  if (!(x_min < x_max)) return;  // one distinct input: no interval to average over
  add_metric(result, "mse_full", mse_on_interval(net, target, x_min, x_max, config.grid_points));
  const Interval interior = strict_interior(x_min, x_max, config.interior_margin);
  if (interior.lo < interior.hi) {
    add_metric(result, "mse_interior",
               mse_on_interval(net, target, interior.lo, interior.hi, config.grid_points));
  }
}

void add_flattest(RunResult& result, const ShallowReluNet& net, const Dataset& data) {
  const FlattestResult flat = flattest_implementation(net, data);
  add_metric(result, "flattest_sharpness", flat.sharpness);
  add_metric(result, "flattest_iterations", static_cast<double>(flat.iterations));
  add_metric(result, "flattest_converged", flat.converged ? 1.0 : 0.0);
  if (net.input_dim() != 1) return;  // moving neurons across sides is implemented for d = 1
  const FlattestAllResult all = flattest_over_implementations(net, data);
  add_metric(result, "flattest_all_sharpness", all.sharpness);
  add_metric(result, "flattest_all_lower_bound", all.lower_bound);
  add_metric(result, "flattest_all_certified", all.certified ? 1.0 : 0.0);
  add_metric(result, "flattest_all_neurons", static_cast<double>(all.neurons));
  add_metric(result, "flattest_all_extra_neurons", static_cast<double>(all.extra_neurons));
  add_metric(result, "flattest_all_split_knots", static_cast<double>(all.split_knots));
}

void add_kinks(RunResult& result, const ShallowReluNet& net, const Dataset& data, double eta) {
  const KinkAnalysis kinks = analyze_kinks(net, data, eta);
  add_metric(result, "kink_points", static_cast<double>(kinks.kinks.size()));
  add_metric(result, "kink_neurons", static_cast<double>(kinks.kink_neurons));
  add_metric(result, "kink_modes", static_cast<double>(kinks.modes.size()));
  add_metric(result, "lambda_upper", kinks.lambda_upper);
  add_metric(result, "lambda_lower", kinks.lambda_lower);
  add_metric(result, "kink_delta", kinks.delta);
  // Lemma 3 assumes, and Lemma 2's default (gamma = 0) holds at, a point where every mode's
  // gradient vanishes: this says how far the run's end is from that.
  add_metric(result, "kink_max_gradient", kinks.max_gradient_norm);
  add_metric(result, "lemma3_stable", kinks.lemma3_stable ? 1.0 : 0.0);
  add_metric(result, "lemma2_unstable", kinks.lemma2_unstable ? 1.0 : 0.0);
}

void add_knot_statistics(RunResult& result, const ShallowReluNet& net, const Dataset& data) {
  const std::vector<double> inputs(data.X.data(), data.X.data() + data.n());
  const KnotStatistics stats = knot_statistics(net, inputs);
  add_metric(result, "active_neurons", static_cast<double>(stats.active_neurons));
  // Quantiles of an empty set are NaN and so left out.
  const std::pair<const char*, double> location_quantiles[] = {
      {"knot_q10", 0.10}, {"knot_q25", 0.25}, {"knot_q50", 0.50}, {"knot_q75", 0.75},
      {"knot_q90", 0.90}};
  for (const auto& [name, p] : location_quantiles) add_metric(result, name, quantile(stats.locations, p));
  add_metric(result, "knot_distance_q50", quantile(stats.distances, 0.5));
  add_metric(result, "knot_distance_q90", quantile(stats.distances, 0.9));
  add_metric(result, "knot_distance_max", quantile(stats.distances, 1.0));
  // The same quantiles for knots placed uniformly at random on the data range: knots "on the data
  // points" are closer than these, knots placed without regard to them are not.
  add_metric(result, "uniform_knot_distance_q50", uniform_knot_distance_quantile(inputs, 0.5));
  add_metric(result, "uniform_knot_distance_q90", uniform_knot_distance_quantile(inputs, 0.9));
}

std::string format_loss(double loss) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", loss);
  return text;
}

/// The least-squares affine fit x -> <c, x> + c_0 of a data set, as (c, c_0); none unless n > d + 1.
std::optional<Vec> least_squares_affine(const Dataset& data) {
  const Index d = data.dim();
  if (data.n() <= d + 1) return std::nullopt;
  Matrix A(data.n(), d + 1);
  A.leftCols(d) = data.X;
  A.col(d).setOnes();
  return Vec(A.colPivHouseholderQr().solve(data.y));
}

Vec affine_predict(const Vec& coefficients, const RowMatrix& X) {
  const Index d = X.cols();
  return (X * coefficients.head(d)).array() + coefficients[d];
}

/// Validation metrics from the net's predictions on the validation set, and the references of the
/// generated data (noise level, least-squares test error). For a linear teacher, the least-squares
/// affine fit of the training data gives ols_train_mse, ols_val_mse (its errors) and ols_gap, the
/// mean squared difference between the net and that fit on the validation inputs (paper 4: above
/// the optimization threshold the net approximates the least-squares fit).
void add_generalisation(RunResult& result, const RunConfig& config, const RunData& run_data,
                        double final_loss, const std::function<Vec(const RowMatrix&)>& predict) {
  add_metric(result, "train_mse", 2.0 * final_loss);
  const Dataset& val = run_data.val;
  if (val.n() > 0) {
    const Vec f = predict(val.X);
    add_metric(result, "val_mse", (f - val.y).squaredNorm() / static_cast<double>(val.n()));
    if (val.has_clean()) {
      add_metric(result, "val_mse_clean",
                 (f - val.y_clean).squaredNorm() / static_cast<double>(val.n()));
    }
    const std::optional<Vec> ols =
        config.target == "linear" ? least_squares_affine(run_data.data) : std::nullopt;
    if (ols) {
      const Vec g = affine_predict(*ols, val.X);
      const auto m = static_cast<double>(val.n());
      add_metric(result, "ols_val_mse", (g - val.y).squaredNorm() / m);
      add_metric(result, "ols_gap", (f - g).squaredNorm() / m);
    }
    if (run_data.classification) {
      Index wrong = 0;
      for (Index j = 0; j < val.n(); ++j) wrong += (f[j] > 0.0 ? 1.0 : -1.0) != val.y[j];
      add_metric(result, "val_error", static_cast<double>(wrong) / static_cast<double>(val.n()));
    }
  }
  if (run_data.target) {
    const double variance = config.noise * config.noise;
    add_metric(result, "noise_var", variance);
    const auto n = static_cast<double>(config.n), d = static_cast<double>(config.dim);
    // E over a fresh noisy sample of the least-squares fit's squared error (Gaussian design).
    if (config.target == "linear" && n > d + 1.0) {
      add_metric(result, "ols_test_mse", variance * (1.0 + d / (n - d - 1.0)));
      const Dataset& data = run_data.data;
      const Vec residual = affine_predict(*least_squares_affine(data), data.X) - data.y;
      add_metric(result, "ols_train_mse", residual.squaredNorm() / n);
    }
  }
}

/// Paper 4's diagnostics: the neurons' cosines with the teacher and the extremal vectors of D_n.
void add_alignment(RunResult& result, const ShallowReluNet& net, const Dataset& data,
                   const Target& target, std::uint64_t seed) {
  const NeuronAlignment aligned = neuron_alignment(net, target.beta);
  add_metric(result, "aligned_fraction", aligned.fraction_aligned);
  add_metric(result, "aligned_fraction_signed", aligned.fraction_sign_consistent);
  add_metric(result, "aligned_fraction_weighted", aligned.weighted_fraction_aligned);
  ExtremalOptions options;
  options.seed = seed;
  const ExtremalVectors extremal = extremal_vectors(data, options);
  if (!extremal.maximizers.empty()) {
    const Vec& top = extremal.maximizers.front().direction;
    add_metric(result, "extremal_max_cos", top.dot(target.beta) / target.beta.norm());
  }
  add_metric(result, "extremal_maximizers", static_cast<double>(extremal.maximizers.size()));
}

/// Paper 4's early alignment as it happens: the fractions of aligned neurons in each log row.
LogMeasure alignment_log(const Vec& beta) {
  return [beta](const ShallowReluNet& net, LogRow& row) {
    const NeuronAlignment aligned = neuron_alignment(net, beta);
    row.extra.emplace_back("aligned_fraction", aligned.fraction_aligned);
    row.extra.emplace_back("aligned_fraction_signed", aligned.fraction_sign_consistent);
    row.extra.emplace_back("aligned_fraction_weighted", aligned.weighted_fraction_aligned);
  };
}

void add_training(RunResult& result, Outcome outcome, std::int64_t steps, double loss,
                  double grad_norm, std::int64_t switch_step, double final_eta,
                  const std::vector<LogRow>& log) {
  result.metrics.emplace_back("outcome", outcome_code(outcome));
  result.metrics.emplace_back("steps", static_cast<double>(steps));
  add_metric(result, "loss", loss);
  add_metric(result, "grad_norm", grad_norm);
  result.metrics.emplace_back("switch_step", static_cast<double>(switch_step));
  result.metrics.emplace_back("final_eta", final_eta);
  add_log_rows(result, log);
  if (outcome == Outcome::Diverged) {
    // The sweep goes on: a diverged run is a result (failed, with the reason), not an error. The
    // analysis of a blown-up net would measure nothing the theory speaks about, so it is skipped.
    result.status = RunStatus::Failed;
    result.reason = "diverged at step " + std::to_string(steps) + " (loss " + format_loss(loss) + ")";
  }
}

/// A run of a net with two hidden layers (paper 3's depth separation).
void execute_deep_run(RunResult& result, const RunConfig& config, const RunData& run_data,
                      const TrainOptions& options) {
  const Dataset& data = run_data.data;
  const Index width2 = config.width2 > 0 ? config.width2 : config.width;
  DeepReluNet initial(data.dim(), config.width, width2);
  if (config.init == "pyramid") {
    DeepReluNet::PyramidOptions layout;
    layout.width1 = config.width;
    layout.width2 = width2;
    initial = DeepReluNet::pyramid(data.dim(), layout);
  } else {
    Rng init_rng(config.seed);
    initial = initialize_deep(data.dim(), config.width, width2, parse_init_kind(config.init),
                              config.init_scale, init_rng);
  }
  result.backend = "cpu-deep";
  const DeepTrainResult trained = train_deep(initial, data, options);
  const double final_eta = step_size_at(options.schedule, trained.steps, trained.switch_step);
  add_training(result, trained.outcome, trained.steps, trained.final_loss, trained.final_grad_norm,
               trained.switch_step, final_eta, trained.log);
  if (trained.outcome == Outcome::Diverged) return;
  add_generalisation(result, config, run_data, trained.final_loss,
                     [&](const RowMatrix& X) { return trained.net.predict(X); });
  if (run_data.target) {
    add_metric(result, "mse_clean", (trained.net.predict(data.X) - data.y_clean).squaredNorm() /
                                         static_cast<double>(data.n()));
  }
  if (config.final_analysis) {
    const EigenResult top = deep_sharpness(trained.net, data);
    add_metric(result, "sharpness", top.value);
    add_metric(result, "sharpness_residual", top.residual);
    add_metric(result, "two_over_eta", 2.0 / final_eta);
    add_metric(result, "stable", top.value <= 2.0 / final_eta ? 1.0 : 0.0);
    add_metric(result, "edge_ratio", top.value * final_eta / 2.0);
    add_metric(result, "stability_class",
               static_cast<double>(classify_stability(top.value * final_eta / 2.0)));
  }
}

}  // namespace

RunResult execute_run(const RunConfig& config, const DataFileLoader& load_data) {
  const auto start = std::chrono::steady_clock::now();
  validate_run_config(config);
  RunResult result;
  result.key = run_key(config);

  const RunData run_data = build_data(config, load_data);
  const Dataset& data = run_data.data;
  TrainOptions options = train_options(config);
  if (config.depth == 2) {
    execute_deep_run(result, config, run_data, options);
    result.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }
  // The initialisation of `relustab train --seed`: Rng(seed) itself, not a split stream.
  Rng init_rng(config.seed);
  ShallowReluNet initial;
  if (config.init == "data_knots") {
    require(data.dim() == 1, "key 'model.init': data_knots needs one-dimensional inputs, the data have "
                             "dimension " + std::to_string(data.dim()));
    initial = initialize_data_knots(Vec(data.X.col(0)), config.width, config.init_scale, init_rng);
  } else {
    initial = initialize(data.dim(), config.width, parse_init_kind(config.init), config.init_scale,
                         init_rng);
  }
  if (config.fit_output == "min_norm") {
    // The output layer GD would reach from zero with the first layer frozen (fit_output_min_norm);
    // GD steps, if any, start from there.
    const OutputFit fit = fit_output_min_norm(initial, data);
    add_metric(result, "output_rank", static_cast<double>(fit.rank));
    add_metric(result, "output_norm", fit.norm);
  }
  initial.set_activation(parse_activation(config.activation, "key 'model.activation'"));
  const bool gelu = initial.activation() == Activation::Gelu;
  if (config.alignment && run_data.target) options.log_measure = alignment_log(run_data.target->beta);
  // Single-threaded: a sweep parallelises over runs, and results do not depend on threads anyway.
  const auto backend =
      make_backend(resolve_backend_name(config.backend, data.dim(), initial.activation()),
                   RunContext{1});
  result.backend = std::string(backend->name());
  const TrainResult trained = train(*backend, initial, data, options);
  const double final_eta = step_size_at(options.schedule, trained.steps, trained.switch_step);
  add_training(result, trained.outcome, trained.steps, trained.final_loss, trained.final_grad_norm,
               trained.switch_step, final_eta, trained.log);

  if (trained.outcome != Outcome::Diverged) {
    // Validation errors through the net's own forward pass (its activation).
    add_generalisation(result, config, run_data, trained.final_loss,
                       [&](const RowMatrix& X) { return Vec(trained.net.predict(X)); });
    if (gelu) {
      if (config.final_analysis) {
        // analyze_net's function-space quantities are ReLU theory; the sharpness is not.
        const EigenResult top = sharpness(*backend, trained.net, data);
        add_metric(result, "sharpness", top.value);
        add_metric(result, "sharpness_residual", top.residual);
        add_metric(result, "two_over_eta", 2.0 / final_eta);
      }
    } else {
      if (config.final_analysis) add_analysis(result, analyze_net(*backend, trained.net, data, final_eta));
      const bool univariate = data.dim() == 1;
      if (univariate && run_data.target) {
        add_clean_target_errors(result, config, trained.net, data, *run_data.target);
      }
      if (config.flattest) add_flattest(result, trained.net, data);
      if (config.kinks) add_kinks(result, trained.net, data, final_eta);
      if (config.knot_stats && univariate) add_knot_statistics(result, trained.net, data);
    }
    // Directions of the neurons' input weights: the same reading for ReLU and GeLU nets.
    if (config.alignment && run_data.target) {
      add_alignment(result, trained.net, data, *run_data.target, config.data_seed);
    }
  }
  if (config.save_net && trained.net.theta().allFinite()) {
    result.net_json = io::net_to_json(trained.net);  // with its activation
  }
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace relustab
