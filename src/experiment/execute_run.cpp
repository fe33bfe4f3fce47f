// SPDX-License-Identifier: MIT
// execute_run: one run of an experiment, built exactly as `relustab data` + `relustab train` would.
#include <relustab/analysis/flattest.h>
#include <relustab/analysis/kinks.h>
#include <relustab/analysis/knot_stats.h>
#include <relustab/analysis/report.h>
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/data/generators.h>
#include <relustab/experiment/run_result.h>
#include <relustab/io/formats.h>
#include <relustab/model/init.h>
#include <relustab/train/trainer.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

namespace relustab {
namespace {

/// The data of a run, and the clean target when the data were generated from one.
struct RunData {
  Dataset data;
  std::optional<Target> target;
};

/// Generated data use the streams of `relustab data --seed data_seed` (inputs split(1), target
/// split(2), noise split(3)), so a run can be replayed from the command line.
RunData build_data(const RunConfig& config, const DataFileLoader& load_data) {
  if (!config.data_file.empty()) {
    require(static_cast<bool>(load_data),
            "data.file = \"" + config.data_file + "\": no data file loader was given");
    Dataset data = load_data(config.data_file);
    validate_dataset(data, config.data_file);
    return {std::move(data), std::nullopt};
  }
  Rng rng(config.data_seed);
  Rng input_rng = rng.split(1), target_rng = rng.split(2), noise_rng = rng.split(3);
  const RowMatrix X = sample_inputs(parse_input_law(config.inputs), config.n, config.dim, input_rng,
                                    config.lo, config.hi);
  Target target = parse_target(config.target, config.dim, target_rng);
  Dataset data = make_dataset(X, target, config.noise, noise_rng);
  return {std::move(data), std::move(target)};
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
  options.batch_size = config.batch;
  options.seed = config.seed;
  options.log_every = config.log_every;
  options.log_sharpness = config.log_sharpness;
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
                                                     {"mse_clean", row.mse_clean},
                                                     {"sharpness", row.sharpness},
                                                     {"sharpness_residual", row.sharpness_residual}};
    for (const auto& [metric, value] : values) {
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
  add_metric(result, "neurons_on_data", static_cast<double>(report.neurons_on_data));
  add_metric(result, "two_over_eta", report.two_over_eta);
  add_metric(result, "thm1_rhs", report.thm1_rhs);
  add_metric(result, "stable", report.stable ? 1.0 : 0.0);
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
}

std::string format_loss(double loss) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", loss);
  return text;
}

}  // namespace

RunResult execute_run(const RunConfig& config, const DataFileLoader& load_data) {
  const auto start = std::chrono::steady_clock::now();
  validate_run_config(config);
  RunResult result;
  result.key = run_key(config);

  const RunData run_data = build_data(config, load_data);
  const Dataset& data = run_data.data;
  // The initialisation of `relustab train --seed`: Rng(seed) itself, not a split stream.
  Rng init_rng(config.seed);
  const ShallowReluNet initial = initialize(data.dim(), config.width, parse_init_kind(config.init),
                                            config.init_scale, init_rng);
  const TrainOptions options = train_options(config);
  // Single-threaded: a sweep parallelises over runs, and results do not depend on threads anyway.
  const auto backend = make_backend("cpu", RunContext{1});
  result.backend = std::string(backend->name());
  const TrainResult trained = train(*backend, initial, data, options);

  result.metrics.emplace_back("outcome", outcome_code(trained.outcome));
  result.metrics.emplace_back("steps", static_cast<double>(trained.steps));
  add_metric(result, "loss", trained.final_loss);
  result.metrics.emplace_back("switch_step", static_cast<double>(trained.switch_step));
  const double final_eta = step_size_at(options.schedule, trained.steps, trained.switch_step);
  result.metrics.emplace_back("final_eta", final_eta);
  add_log_rows(result, trained.log);

  if (trained.outcome == Outcome::Diverged) {
    // The sweep goes on: a diverged run is a result (failed, with the reason), not an error. The
    // analysis of a blown-up net would measure nothing the theory speaks about, so it is skipped.
    result.status = RunStatus::Failed;
    result.reason = "diverged at step " + std::to_string(trained.steps) + " (loss " +
                    format_loss(trained.final_loss) + ")";
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
  if (config.save_net && trained.net.theta().allFinite()) {
    result.net_json = io::net_to_json(trained.net);
  }
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace relustab
