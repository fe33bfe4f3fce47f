// SPDX-License-Identifier: MIT
// The run API (relustab/api.h): run() builds a run exactly as `relustab data` + `relustab train`
// would, analyze() is `relustab analyze`, and the metric functions are the one mapping from their
// typed results to names.
#include <relustab/api.h>

#include "progress_clock.h"

#include <relustab/analysis/alignment.h>
#include <relustab/analysis/flattest.h>
#include <relustab/analysis/function_space.h>
#include <relustab/analysis/kinks.h>
#include <relustab/analysis/knot_stats.h>
#include <relustab/analysis/report.h>
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/core/format.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/deep_curvature.h>
#include <relustab/data/generators.h>
#include <relustab/data/image_task.h>
#include <relustab/io/formats.h>
#include <relustab/model/deep_relu.h>
#include <relustab/model/init.h>
#include <relustab/train/batched.h>
#include <relustab/train/lanes_train.h>
#include <relustab/train/output_fit.h>
#include <relustab/train/train_deep.h>
#include <relustab/train/trainer.h>

#include <Eigen/QR>

#include <algorithm>
#include <limits>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace relustab {
namespace {

Index parameter_count(const AnyNet& net) {
  return std::visit([](const auto& n) { return n.n_params(); }, net);
}

/// Throws InputError naming the field unless `request` fits a net of P parameters.
void check_spectrum_request(const SpectrumRequest& r, Index P) {
  const std::string range = "] (the net's parameter count), got ";
  require(r.top_k >= 0 && r.top_k <= P, "spectrum: top_k: expected an integer in [0, " +
                                            std::to_string(P) + range + std::to_string(r.top_k));
  require(r.trace_samples >= 0, "spectrum: trace_samples: expected an integer >= 0, got " +
                                    std::to_string(r.trace_samples));
  require(r.density_probes >= 0, "spectrum: density_probes: expected an integer >= 0, got " +
                                     std::to_string(r.density_probes));
  require(r.density_steps >= 0 && r.density_steps <= P,
          "spectrum: density_steps: expected an integer in [0, " + std::to_string(P) + range +
              std::to_string(r.density_steps));
  require((r.density_probes > 0) == (r.density_steps > 0),
          "spectrum: density_probes and density_steps: expected both > 0 (a density) or both 0, "
          "got " + std::to_string(r.density_probes) + " and " + std::to_string(r.density_steps));
}


/// The spectrum measures a run configuration asks for (measure.top_k, lambda_min, trace_samples).
SpectrumRequest spectrum_request_of(const RunConfig& config) {
  SpectrumRequest request;
  request.top_k = static_cast<int>(std::min<std::int64_t>(config.spectrum_top_k, std::numeric_limits<int>::max()));
  request.lambda_min = config.spectrum_lambda_min;
  request.trace_samples =
      static_cast<int>(std::min<std::int64_t>(config.trace_samples, std::numeric_limits<int>::max()));
  request.seed = config.spectrum_seed;
  return request;
}

/// Checks the run's spectrum measures against the initial net before any training, so that a
/// measure.top_k above the parameter count fails the run at once, naming the key.
void check_run_spectrum(const RunConfig& config, Index n_params) {
  try {
    check_spectrum_request(spectrum_request_of(config), n_params);
  } catch (const InputError& e) {
    throw InputError(std::string("key 'measure.top_k': ") + e.what());
  }
}

/// The Hessian spectrum measures of the run at its final net (in the run's loss convention).
void add_spectrum(Metrics& out, const AnyNet& net, const Dataset& data, const RunConfig& config,
                  const RunContext& context) {
  const SpectrumRequest request = spectrum_request_of(config);
  if (!request.any()) return;
  LossRequest loss;
  loss.loss = config.loss;
  if (std::holds_alternative<ShallowReluNet>(net)) loss.backend = config.backend;
  for (Metric& metric : spectrum_metrics(hessian_spectrum(net, data, request, loss, context))) {
    out.push_back(std::move(metric));
  }
}

/// A measurement; NaN (and infinities) stay in the typed list and are left out of the database.
void add_metric(Metrics& out, const char* name, double value) { out.push_back({name, value}); }

void add_count(Metrics& out, const char* name, Index count) {
  // A count the analysis left out (-1) is undefined, like a NaN quantity.
  if (count >= 0) {
    out.push_back({name, static_cast<std::int64_t>(count)});
  } else {
    out.push_back({name, std::numeric_limits<double>::quiet_NaN()});
  }
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
  options.optimizer = config.optimizer;
  options.loss = config.loss;
  return options;
}

/// mse_full and mse_interior: the mean of (f - f0)^2 over a uniform grid of [x_min, x_max] and of its
/// strict interior (d = 1, known target).
void add_clean_target_errors(Metrics& out, const RunConfig& config, const ShallowReluNet& net,
                             const Dataset& data, const Target& target) {
  const double x_min = data.X.col(0).minCoeff();
  const double x_max = data.X.col(0).maxCoeff();
  if (!(x_min < x_max)) return;  // one distinct input: no interval to average over
  add_metric(out, "mse_full", mse_on_interval(net, target, x_min, x_max, config.grid_points));
  const Interval interior = strict_interior(x_min, x_max, config.interior_margin);
  if (interior.lo < interior.hi) {
    add_metric(out, "mse_interior",
               mse_on_interval(net, target, interior.lo, interior.hi, config.grid_points));
  }
}

void add_flattest(AnalysisOutput& analysis, const ShallowReluNet& net, const Dataset& data, Loss loss) {
  analysis.flattest = flattest_implementation(net, data);
  // Moving neurons across sides is implemented for d = 1.
  if (net.input_dim() == 1) analysis.flattest_all = flattest_over_implementations(net, data);
  // The sharpnesses (and their bounds) are of the half-MSE Hessian; mse's is s times it.
  const double s = loss_scale(loss);
  FlattestResult& f = *analysis.flattest;
  for (double* v : {&f.sharpness, &f.lower_bound, &f.initial_sharpness, &f.warm_start_sharpness}) *v *= s;
  if (analysis.flattest_all) {
    FlattestAllResult& a = *analysis.flattest_all;
    for (double* v : {&a.sharpness, &a.lower_bound, &a.rescaling_sharpness, &a.rescaling_lower_bound,
                      &a.net_lower_bound}) {
      *v *= s;
    }
  }
}

void add_kinks(Metrics& out, const ShallowReluNet& net, const Dataset& data, double eta, Loss loss) {
  const KinkAnalysis kinks = kink_analysis(net, data, eta, loss);
  add_metric(out, "kink_points", static_cast<double>(kinks.kinks.size()));
  add_metric(out, "kink_neurons", static_cast<double>(kinks.kink_neurons));
  add_metric(out, "kink_modes", static_cast<double>(kinks.modes.size()));
  add_metric(out, "lambda_upper", kinks.lambda_upper);
  add_metric(out, "lambda_lower", kinks.lambda_lower);
  add_metric(out, "kink_delta", kinks.delta);
  // Lemma 3 assumes, and Lemma 2's default (gamma = 0) holds at, a point where every mode's
  // gradient vanishes: this says how far the run's end is from that.
  add_metric(out, "kink_max_gradient", kinks.max_gradient_norm);
  add_metric(out, "lemma3_stable", kinks.lemma3_stable ? 1.0 : 0.0);
  add_metric(out, "lemma2_unstable", kinks.lemma2_unstable ? 1.0 : 0.0);
}

void add_knot_statistics(Metrics& out, const ShallowReluNet& net, const Dataset& data) {
  const std::vector<double> inputs(data.X.data(), data.X.data() + data.n());
  const KnotStatistics stats = knot_statistics(net, inputs);
  add_count(out, "active_neurons", stats.active_neurons);
  // Quantiles of an empty set are NaN and so left out.
  const std::pair<const char*, double> location_quantiles[] = {
      {"knot_q10", 0.10}, {"knot_q25", 0.25}, {"knot_q50", 0.50}, {"knot_q75", 0.75},
      {"knot_q90", 0.90}};
  for (const auto& [name, p] : location_quantiles) add_metric(out, name, quantile(stats.locations, p));
  add_metric(out, "knot_distance_q50", quantile(stats.distances, 0.5));
  add_metric(out, "knot_distance_q90", quantile(stats.distances, 0.9));
  add_metric(out, "knot_distance_max", quantile(stats.distances, 1.0));
  // The same quantiles for knots placed uniformly at random on the data range: knots "on the data
  // points" are closer than these, knots placed without regard to them are not.
  add_metric(out, "uniform_knot_distance_q50", uniform_knot_distance_quantile(inputs, 0.5));
  add_metric(out, "uniform_knot_distance_q90", uniform_knot_distance_quantile(inputs, 0.9));
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
void add_generalisation(Metrics& out, const RunConfig& config, const RunData& run_data,
                        double final_loss, const std::function<Vec(const RowMatrix&)>& predict) {
  add_metric(out, "train_mse", 2.0 * final_loss);
  const Dataset& val = run_data.validation;
  if (val.n() > 0) {
    const Vec f = predict(val.X);
    add_metric(out, "val_mse", (f - val.y).squaredNorm() / static_cast<double>(val.n()));
    if (val.has_clean()) {
      add_metric(out, "val_mse_clean",
                 (f - val.y_clean).squaredNorm() / static_cast<double>(val.n()));
    }
    const std::optional<Vec> ols =
        config.target == Target::Kind::LinearTeacher ? least_squares_affine(run_data.train)
                                                     : std::nullopt;
    if (ols) {
      const Vec g = affine_predict(*ols, val.X);
      const auto m = static_cast<double>(val.n());
      add_metric(out, "ols_val_mse", (g - val.y).squaredNorm() / m);
      add_metric(out, "ols_gap", (f - g).squaredNorm() / m);
    }
    if (run_data.classification) {
      Index wrong = 0;
      for (Index j = 0; j < val.n(); ++j) wrong += (f[j] > 0.0 ? 1.0 : -1.0) != val.y[j];
      add_metric(out, "val_error", static_cast<double>(wrong) / static_cast<double>(val.n()));
    }
  }
  if (run_data.target) {
    const double variance = config.noise * config.noise;
    add_metric(out, "noise_var", variance);
    const auto n = static_cast<double>(config.n), d = static_cast<double>(config.dim);
    // E over a fresh noisy sample of the least-squares fit's squared error (Gaussian design).
    if (config.target == Target::Kind::LinearTeacher && n > d + 1.0) {
      add_metric(out, "ols_test_mse", variance * (1.0 + d / (n - d - 1.0)));
      const Dataset& data = run_data.train;
      const Vec residual = affine_predict(*least_squares_affine(data), data.X) - data.y;
      add_metric(out, "ols_train_mse", residual.squaredNorm() / n);
    }
  }
}

/// Paper 4's diagnostics: the neurons' cosines with the teacher and the extremal vectors of D_n.
void add_alignment(Metrics& out, const ShallowReluNet& net, const Dataset& data,
                   const Target& target, std::uint64_t seed) {
  const NeuronAlignment aligned = neuron_alignment(net, target.beta);
  add_metric(out, "aligned_fraction", aligned.fraction_aligned);
  add_metric(out, "aligned_fraction_signed", aligned.fraction_sign_consistent);
  add_metric(out, "aligned_fraction_weighted", aligned.weighted_fraction_aligned);
  ExtremalOptions options;
  options.seed = seed;
  const ExtremalVectors extremal = extremal_vectors(data, options);
  if (!extremal.maximizers.empty()) {
    const Vec& top = extremal.maximizers.front().direction;
    add_metric(out, "extremal_max_cos", top.dot(target.beta) / target.beta.norm());
  }
  add_metric(out, "extremal_maximizers", static_cast<double>(extremal.maximizers.size()));
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

template <class TrainedNet>
TrainingTrace trace_of(const TrainedNet& trained, const StepSchedule& schedule) {
  TrainingTrace trace;
  trace.outcome = trained.outcome;
  trace.steps = trained.steps;
  trace.final_loss = trained.final_loss;
  trace.final_grad_norm = trained.final_grad_norm;
  trace.switch_step = trained.switch_step;
  trace.final_eta = step_size_at(schedule, trained.steps, trained.switch_step);
  trace.log = trained.log;
  return trace;
}

/// The initial net of a depth 1 run: the given one, or drawn from Rng(run.seed) itself (the
/// initialisation of `relustab train --seed`, not a split stream), with the output layer fitted
/// when asked, and the run's activation.
ShallowReluNet initial_shallow_net(const RunConfig& config, const RunInputs& inputs,
                                   const Dataset& data, Metrics& measurements) {
  ShallowReluNet net;
  if (inputs.initial_net) {
    net = *inputs.initial_net;
    require(net.input_dim() == data.dim(),
            "the initial net expects input dimension " + std::to_string(net.input_dim()) +
                ", the data have dimension " + std::to_string(data.dim()));
  } else {
    Rng init_rng(config.seed);
    if (config.init == InitScheme::DataKnots) {
      require(data.dim() == 1, "key 'model.init': data_knots needs one-dimensional inputs, the data "
                               "have dimension " + std::to_string(data.dim()));
      net = initialize_data_knots(Vec(data.X.col(0)), config.width, config.init_scale, init_rng);
    } else {
      net = initialize(data.dim(), config.width, init_kind_of(config.init), config.init_scale,
                       init_rng);
    }
  }
  net.set_activation(config.activation);
  if (config.fit_output == OutputLayerFit::MinNorm) {
    // The output layer GD would reach from zero with the first layer frozen (fit_output_min_norm);
    // GD steps, if any, start from there.
    const OutputFit fit = fit_output_min_norm(net, data);
    add_metric(measurements, "output_rank", static_cast<double>(fit.rank));
    add_metric(measurements, "output_norm", fit.norm);
  }
  return net;
}

/// The report of a net with two hidden layers: the loss, the sharpness with its residual and, with a
/// step size, the verdict. The function-space quantities are theory of one hidden layer and stay
/// undefined, as does the Gauss-Newton sharpness.
StabilityReport deep_report(const DeepReluNet& net, const Dataset& data, std::optional<double> eta,
                            Loss loss, double edge_tolerance, const RunContext& context) {
  require_edge_tolerance(edge_tolerance);
  validate_dataset(data, "data");
  StabilityReport report;
  report.n = data.n();
  report.input_dim = data.dim();
  report.width = net.width1();
  const double scale = loss_scale(loss);  // the depth-2 code computes half-MSE values
  report.loss_function = loss;
  report.loss = scale * deep_loss_and_grad(net, data, {}, nullptr, context);
  if (data.has_clean()) {
    report.mse_clean = (net.predict(data.X) - data.y_clean).squaredNorm() / static_cast<double>(data.n());
  }
  report.max_abs_x = data.X.cwiseAbs().maxCoeff();
  report.sharpness = deep_sharpness(net, data, {}, context);
  report.sharpness.value *= scale;
  report.sharpness.residual *= scale;
  report.gn_sharpness.value = std::numeric_limits<double>::quiet_NaN();
  report.gn_sharpness.residual = std::numeric_limits<double>::quiet_NaN();
  if (eta) judge_stability(report, *eta, edge_tolerance);
  return report;
}

/// A run of a net with two hidden layers (paper 3's depth separation).
void run_deep(RunOutput& output, const RunConfig& config, const RunData& run_data,
              const TrainOptions& options, const RunContext& context, const ProgressCallback& progress) {
  const Dataset& data = run_data.train;
  const Index width2 = config.width2 > 0 ? config.width2 : config.width;
  DeepReluNet initial(data.dim(), config.width, width2);
  if (config.init == InitScheme::Pyramid) {
    DeepReluNet::PyramidOptions layout;
    layout.width1 = config.width;
    layout.width2 = width2;
    initial = DeepReluNet::pyramid(data.dim(), layout);
  } else {
    Rng init_rng(config.seed);
    initial = initialize_deep(data.dim(), config.width, width2, init_kind_of(config.init),
                              config.init_scale, init_rng);
  }
  check_run_spectrum(config, initial.n_params());
  output.backend = "cpu-deep";
  const DeepTrainResult trained = train_deep(initial, data, options, progress, context);
  output.training = trace_of(trained, options.schedule);
  output.net = trained.net;
  if (trained.outcome == Outcome::Diverged) return;
  add_generalisation(output.measurements, config, run_data, trained.final_loss,
                     [&](const RowMatrix& X) { return trained.net.predict(X); });
  add_spectrum(output.measurements, AnyNet(trained.net), data, config, context);
  if (!config.final_analysis) return;
  output.report = deep_report(trained.net, data, output.training.final_eta, config.loss, kEdgeTolerance,
                              context);
}

void require_deep_auto(const DeepReluNet& net, const Dataset& data, const LossRequest& request) {
  require(request.backend == "auto",
          "a two-hidden-layer net is computed by the depth-2 code only (backend auto), got backend '" +
              request.backend + "'");
  require(data.dim() == net.input_dim(),
          "the data have input dimension " + std::to_string(data.dim()) + " but the net expects " +
              std::to_string(net.input_dim()));
}

}  // namespace

const MetricValue* find_metric(const Metrics& metrics, std::string_view name) {
  for (const Metric& metric : metrics) {
    if (metric.name == name) return &metric.value;
  }
  return nullptr;
}

namespace {

/// The flattest measurements of an analysis, when it made them (flattest, then over all implementations).
void append_flattest_metrics(Metrics& out, const AnalysisOutput& analysis) {
  if (analysis.flattest) {
    for (Metric& metric : flattest_metrics(*analysis.flattest)) out.push_back(std::move(metric));
  }
  if (analysis.flattest_all) {
    for (Metric& metric : flattest_all_metrics(*analysis.flattest_all)) out.push_back(std::move(metric));
  }
}

}  // namespace

RunData make_run_data(const RunConfig& config, const RunInputs& inputs) {
  if (inputs.data) {
    validate_dataset(*inputs.data, "the given data");
    return {*inputs.data, Dataset{}, std::nullopt, false};
  }
  if (config.source != DataSource::Generated) {
    require(static_cast<bool>(inputs.load_images),
            "data.source = \"" + std::string(data_source_name(config.source)) +
                "\": no image loader was given");
    BinaryTaskSpec spec;
    spec.class_pos = config.classes.positive;
    spec.class_neg = config.classes.negative;
    spec.n_train = config.n;
    spec.n_val_per_class = config.n_val / 2;
    spec.center = config.center;
    spec.seed = config.data_seed;
    const std::shared_ptr<const ImageSet> images =
        inputs.load_images(config.source, config.idx_images, config.idx_labels);
    require(images != nullptr, "data.source = \"" + std::string(data_source_name(config.source)) +
                                   "\": the image loader returned nothing");
    BinaryImageTask task = make_binary_image_task(*images, spec);
    return {std::move(task.train), std::move(task.val), std::nullopt, true};
  }
  if (!config.data_file.empty()) {
    require(static_cast<bool>(inputs.load_data),
            "data.file = \"" + config.data_file + "\": no data file loader was given");
    Dataset data = inputs.load_data(config.data_file);
    validate_dataset(data, config.data_file);
    return {std::move(data), Dataset{}, std::nullopt, false};
  }
  Rng rng(config.data_seed);
  Rng input_rng = rng.split(1), target_rng = rng.split(2), noise_rng = rng.split(3);
  const RowMatrix X = sample_inputs(config.inputs, config.n, config.dim, input_rng, config.lo, config.hi);
  Target target = make_target(config.target, config.dim, target_rng);
  Dataset data = make_dataset(X, target, config.noise, noise_rng);
  Dataset val;
  if (config.n_val > 0) {
    Rng val_rng = rng.split(4);
    Rng val_inputs = val_rng.split(1), val_noise = val_rng.split(3);
    val = make_dataset(sample_inputs(config.inputs, config.n_val, config.dim, val_inputs, config.lo,
                                     config.hi),
                       target, config.noise, val_noise);
  }
  return {std::move(data), std::move(val), std::move(target), false};
}

namespace {

using RunClock = detail::SweepClock;
using detail::seconds_since;

/// A one-hidden-layer run up to its training: its data, options, initial net and back end, and the
/// output filled so far. run() trains it with train(); run_many() may train several in SIMD lanes.
struct ShallowRunPlan {
  double seconds = 0.0;  ///< the run's own time so far (its wall_seconds at the end)
  RunOutput output;
  RunData data;
  TrainOptions options;
  ShallowReluNet initial;
  std::unique_ptr<Backend> backend;
};

/// The output of a run before its training: its key and what its training data are.
RunOutput output_for(const RunConfig& config, const RunInputs& inputs, const Dataset& train) {
  RunOutput output;
  output.key = run_key(config);
  output.samples = train.n();
  output.input_dim = train.dim();
  if (!config.data_file.empty() && inputs.hash_data_file) {
    output.data_file_hash = inputs.hash_data_file(config.data_file);
  }
  return output;
}

/// Prepares a depth-1 run (everything before train()).
ShallowRunPlan plan_shallow_run(const RunConfig& config, const RunInputs& inputs, const RunContext& context) {
  const auto start = RunClock::now();
  ShallowRunPlan plan{0.0, RunOutput{}, make_run_data(config, inputs), train_options(config), ShallowReluNet{}, {}};
  plan.output = output_for(config, inputs, plan.data.train);
  RunOutput& output = plan.output;
  const Dataset& data = plan.data.train;
  plan.initial = initial_shallow_net(config, inputs, data, output.measurements);
  check_run_spectrum(config, plan.initial.n_params());
  if (config.alignment && plan.data.target) plan.options.log_measure = alignment_log(plan.data.target->beta);
  plan.backend =
      make_backend(resolve_backend_name(config.backend, data.dim(), plan.initial.activation()), context);
  output.backend = std::string(plan.backend->name());
  plan.seconds = seconds_since(start);
  return plan;
}

/// The rest of a depth-1 run once trained: the measurements of the trained net.
RunOutput finish_shallow_run(ShallowRunPlan& plan, const RunConfig& config, const RunContext& context,
                             TrainResult trained) {
  const auto start = RunClock::now();
  RunOutput& output = plan.output;
  const RunData& run_data = plan.data;
  const Dataset& data = run_data.train;
  output.training = trace_of(trained, plan.options.schedule);
  if (trained.outcome != Outcome::Diverged) {
    const ShallowReluNet& net = trained.net;
    const bool relu = net.activation() == Activation::Relu;
    // Validation errors through the net's own forward pass (its activation).
    add_generalisation(output.measurements, config, run_data, trained.final_loss,
                       [&](const RowMatrix& X) { return Vec(net.predict(X)); });
    if (config.final_analysis) {
      AnalyzeRequest request;
      request.eta = output.training.final_eta;
      request.flattest = config.flattest;
      request.backend = config.backend;
      request.loss = config.loss;
      const AnalysisOutput analysis = analyze(net, data, request, context);
      output.report = analysis.report;
      append_flattest_metrics(output.measurements, analysis);
    } else if (config.flattest) {
      AnalysisOutput flattest;
      add_flattest(flattest, net, data, config.loss);
      append_flattest_metrics(output.measurements, flattest);
    }
    if (relu) {
      const bool univariate = data.dim() == 1;
      if (univariate && run_data.target) {
        add_clean_target_errors(output.measurements, config, net, data, *run_data.target);
      }
      if (config.kinks) add_kinks(output.measurements, net, data, output.training.final_eta, config.loss);
      if (config.knot_stats && univariate) add_knot_statistics(output.measurements, net, data);
    }
    // Directions of the neurons' input weights: the same reading for ReLU and GeLU nets.
    if (config.alignment && run_data.target) {
      add_alignment(output.measurements, net, data, *run_data.target, config.data_seed);
    }
    add_spectrum(output.measurements, AnyNet(net), data, config, context);
  }
  output.net = std::move(trained.net);
  output.wall_seconds = plan.seconds + seconds_since(start);
  return std::move(output);
}

}  // namespace

RunOutput run(const RunConfig& config, const RunInputs& inputs, const RunContext& context,
              const ProgressCallback& progress) {
  const auto start = RunClock::now();
  validate_run_config(config);
  if (config.depth == 2) {
    require(!inputs.initial_net, "an initial net is a depth 1 net, but model.depth = 2");
    const RunData run_data = make_run_data(config, inputs);
    RunOutput output = output_for(config, inputs, run_data.train);
    run_deep(output, config, run_data, train_options(config), context, progress);
    output.wall_seconds = seconds_since(start);
    return output;
  }
  ShallowRunPlan plan = plan_shallow_run(config, inputs, context);
  TrainResult trained = train(*plan.backend, plan.initial, plan.data.train, plan.options, progress);
  plan.seconds = seconds_since(start);  // validation, planning and training
  return finish_shallow_run(plan, config, context, std::move(trained));
}

std::vector<RunOutcome> run_many(std::span<const RunConfig> configs, const RunInputs& inputs,
                                 const RunContext& context) {
  std::vector<RunOutcome> outcomes(configs.size());
  const auto fail = [&](size_t c, const std::exception& error) { outcomes[c].error = error.what(); };
  // Plan every depth-1 run; run the others (depth 2) at once.
  std::vector<std::optional<ShallowRunPlan>> plans(configs.size());
  std::vector<BatchMember> members;
  std::vector<size_t> member_configs;
  for (size_t c = 0; c < configs.size(); ++c) {
    try {
      validate_run_config(configs[c]);
      if (configs[c].depth != 1) {
        outcomes[c].output = run(configs[c], inputs, context);
        continue;
      }
      require(!inputs.initial_net, "an initial net is for one run, not for many");
      plans[c].emplace(plan_shallow_run(configs[c], inputs, context));
      ShallowRunPlan& plan = *plans[c];
      // Lanes reproduce the univariate back end bit for bit, so only its runs may share them.
      BatchMember member{&plan.initial, &plan.data.train, plan.options};
      if (plan.output.backend == "univariate" && lane_trainable(member, member)) {
        members.push_back(member);
        member_configs.push_back(c);
      }
    } catch (const std::exception& error) {
      plans[c].reset();
      fail(c, error);
    }
  }
  // The lane-trainable runs through the batched engine, which groups those on equal data; a group's
  // training time is shared among its runs' wall times.
  std::vector<std::optional<TrainResult>> trained(configs.size());
  if (members.size() >= 2) {
    const auto start = RunClock::now();
    try {
      std::vector<TrainResult> results = train_batch(*make_batched_engine(context), members);
      for (size_t m = 0; m < members.size(); ++m) trained[member_configs[m]] = std::move(results[m]);
    } catch (const std::exception&) {
      // One invalid member fails the batch; train each alone below, so only it fails.
    }
    const double share = seconds_since(start) / static_cast<double>(members.size());
    for (const size_t c : member_configs) plans[c]->seconds += share;
  }
  for (size_t c = 0; c < configs.size(); ++c) {
    if (!plans[c]) continue;
    ShallowRunPlan& plan = *plans[c];
    try {
      if (!trained[c]) {
        const auto start = RunClock::now();
        trained[c] = train(*plan.backend, plan.initial, plan.data.train, plan.options);
        plan.seconds += seconds_since(start);
      }
      outcomes[c].output = finish_shallow_run(plan, configs[c], context, std::move(*trained[c]));
    } catch (const std::exception& error) {
      fail(c, error);
    }
  }
  return outcomes;
}

AnalysisOutput analyze(const ShallowReluNet& net, const Dataset& data, const AnalyzeRequest& request,
                       const RunContext& context) {
  require(data.dim() == net.input_dim(),
          "the data have input dimension " + std::to_string(data.dim()) + " but the net expects " +
              std::to_string(net.input_dim()));
  // Per-neuron rescalings leave a ReLU net's function unchanged, not a GeLU net's.
  require(!request.flattest || net.activation() == Activation::Relu,
          "flattest: the flattest implementation over per-neuron rescalings is ReLU theory; expected "
          "a ReLU net, got a " + std::string(activation_name(net.activation())) + " net");
  check_spectrum_request(request.spectrum, net.n_params());  // before the report's work
  const auto backend =
      make_backend(resolve_backend_name(request.backend, data.dim(), net.activation()), context);
  AnalysisOutput output;
  output.backend = std::string(backend->name());
  AnalysisOptions options;
  options.edge_tolerance = request.edge_tolerance;
  options.loss = request.loss;
  output.report = analyze_net(*backend, net, data, request.eta, options);
  if (request.flattest) add_flattest(output, net, data, request.loss);
  if (request.spectrum.any()) {
    output.spectrum = hessian_spectrum(AnyNet(net), data, request.spectrum,
                                       LossRequest{request.loss, request.backend}, context);
  }
  return output;
}

AnalysisOutput analyze(const DeepReluNet& net, const Dataset& data, const AnalyzeRequest& request,
                       const RunContext& context) {
  require(!request.flattest, "flattest: the flattest implementation is theory of one hidden layer; "
                             "the net has two");
  require_deep_auto(net, data, LossRequest{request.loss, request.backend});
  check_spectrum_request(request.spectrum, net.n_params());
  AnalysisOutput output;
  output.backend = "cpu-deep";
  output.report = deep_report(net, data, request.eta, request.loss, request.edge_tolerance, context);
  if (request.spectrum.any()) {
    output.spectrum = hessian_spectrum(AnyNet(net), data, request.spectrum,
                                       LossRequest{request.loss, request.backend}, context);
  }
  return output;
}

AnalysisOutput analyze(const AnyNet& net, const Dataset& data, const AnalyzeRequest& request,
                       const RunContext& context) {
  return std::visit([&](const auto& n) { return analyze(n, data, request, context); }, net);
}

FunctionCurves function_curves(const ShallowReluNet& net, const Dataset& data,
                               const CurvesRequest& request) {
  require(net.input_dim() == 1, "curves need a univariate net (input_dim 1), got " +
                                    std::to_string(net.input_dim()));
  require(net.activation() == Activation::Relu,
          "curves (knots, |f''| and the ReLU bounds) need a ReLU net, got a " +
              std::string(activation_name(net.activation())) + " net");
  require(data.dim() == 1, "curves need univariate data (x,y), got " + std::to_string(data.dim()) +
                               " input columns");
  require(request.points >= 2, "curves: expected at least 2 grid points, got " +
                                   std::to_string(request.points));
  constexpr double kDefaultMarginFraction = 0.25;
  constexpr double kDefaultBandwidthFraction = 0.02;
  const std::vector<double> inputs(data.X.data(), data.X.data() + data.n());
  const EmpiricalWeight weight(inputs);
  const double range = weight.x_max() - weight.x_min();
  // One data point (or all equal): a unit range keeps the defaults finite and non-degenerate.
  const double scale = range > 0.0 ? range : 1.0;
  const double from = request.from.value_or(weight.x_min() - kDefaultMarginFraction * scale);
  const double to = request.to.value_or(weight.x_max() + kDefaultMarginFraction * scale);
  require(std::isfinite(from) && std::isfinite(to) && from < to,
          "curves: expected finite grid ends with from < to, got from = " + std::to_string(from) +
              ", to = " + std::to_string(to));
  FunctionCurves c;
  c.bandwidth = request.bandwidth.value_or(kDefaultBandwidthFraction * scale);
  require(std::isfinite(c.bandwidth) && c.bandwidth > 0.0, "curves: the bandwidth must be > 0");
  const Index points = request.points;
  c.x.resize(static_cast<std::size_t>(points));
  for (Index i = 0; i < points; ++i) {
    // Endpoints exact; interior points by linear interpolation of the two ends.
    const double s = static_cast<double>(i) / static_cast<double>(points - 1);
    c.x[static_cast<std::size_t>(i)] = i + 1 == points ? to : from + s * (to - from);
  }
  const RowMatrix grid = Eigen::Map<const RowMatrix>(c.x.data(), points, 1);
  const Vec f = net.predict(grid);
  c.f.assign(f.data(), f.data() + f.size());
  const Vec smoothed = smoothed_abs_second_derivative(net, c.x, c.bandwidth);
  c.abs_f2_smoothed.assign(smoothed.data(), smoothed.data() + smoothed.size());
  const Vec g = weight.evaluate(c.x);
  c.g.assign(g.data(), g.data() + g.size());
  c.knots = knots(net);
  return c;
}

namespace {

/// Scales the products of a half-MSE curvature operator to those of another loss.
class ScaledOperator final : public LinearOperator {
 public:
  ScaledOperator(std::unique_ptr<Backend> backend, std::unique_ptr<LinearOperator> op, double scale)
      : backend_(std::move(backend)), op_(std::move(op)), scale_(scale) {}
  Index size() const override { return op_->size(); }
  void apply(const Vec& in, Vec& out) const override {
    op_->apply(in, out);
    if (scale_ != 1.0) out *= scale_;
  }

 private:
  std::unique_ptr<Backend> backend_;  // the shallow operator may refer to its back end
  std::unique_ptr<LinearOperator> op_;
  double scale_;
};

std::unique_ptr<Backend> shallow_backend(const ShallowReluNet& net, const Dataset& data,
                                         const LossRequest& request, const RunContext& context) {
  require(data.dim() == net.input_dim(),
          "the data have input dimension " + std::to_string(data.dim()) + " but the net expects " +
              std::to_string(net.input_dim()));
  auto backend =
      make_backend(resolve_backend_name(request.backend, data.dim(), net.activation()), context);
  require_activation_match(*backend, net);
  return backend;
}

}  // namespace

double net_loss(const AnyNet& any, const Dataset& data, Vec* grad, const LossRequest& request,
                const RunContext& context) {
  const double scale = loss_scale(request.loss);
  double value = 0.0;
  if (const auto* net = std::get_if<ShallowReluNet>(&any)) {
    validate_dataset(data, "data");
    value = shallow_backend(*net, data, request, context)->loss_and_grad(*net, data, {}, grad);
  } else {
    const auto& deep = std::get<DeepReluNet>(any);
    require_deep_auto(deep, data, request);
    value = deep_loss_and_grad(deep, data, {}, grad, context);
  }
  if (grad != nullptr && scale != 1.0) *grad *= scale;
  return scale * value;
}

EigenResult net_sharpness(const AnyNet& any, const Dataset& data, CurvatureKind kind,
                          const LossRequest& request, const RunContext& context) {
  EigenResult top;
  if (const auto* net = std::get_if<ShallowReluNet>(&any)) {
    validate_dataset(data, "data");
    const auto backend = shallow_backend(*net, data, request, context);
    top = kind == CurvatureKind::Hessian ? sharpness(*backend, *net, data)
                                         : gn_sharpness(*backend, *net, data);
  } else {
    const auto& deep = std::get<DeepReluNet>(any);
    require_deep_auto(deep, data, request);
    top = kind == CurvatureKind::Hessian ? deep_sharpness(deep, data, {}, context)
                                         : deep_gn_sharpness(deep, data, {}, context);
  }
  const double scale = loss_scale(request.loss);
  top.value *= scale;
  top.residual *= scale;
  return top;
}

std::unique_ptr<LinearOperator> net_curvature(const AnyNet& any, const Dataset& data, CurvatureKind kind,
                                              const LossRequest& request, const RunContext& context) {
  const double scale = loss_scale(request.loss);
  if (const auto* net = std::get_if<ShallowReluNet>(&any)) {
    validate_dataset(data, "data");
    auto backend = shallow_backend(*net, data, request, context);
    auto op = backend->curvature(*net, data, kind);
    return std::make_unique<ScaledOperator>(std::move(backend), std::move(op), scale);
  }
  const auto& deep = std::get<DeepReluNet>(any);
  require_deep_auto(deep, data, request);
  return std::make_unique<ScaledOperator>(nullptr, deep_curvature(deep, data, kind, context), scale);
}

SpectrumOutput hessian_spectrum(const AnyNet& net, const Dataset& data, const SpectrumRequest& request,
                                const LossRequest& loss, const RunContext& context) {
  check_spectrum_request(request, parameter_count(net));
  SpectrumOutput out;
  if (!request.any()) return out;
  const auto op = net_curvature(net, data, CurvatureKind::Hessian, loss, context);
  const Rng streams(request.seed);
  if (request.top_k > 0 || request.lambda_min) {
    // The sharpness' settings (SharpnessOptions' default Lanczos), with a budget that grows with k.
    LanczosOptions options;
    options.seed = streams.split(1).next_u64();
    options.max_iter = options.max_iter * std::max(1, request.top_k);
    if (request.top_k > 0) {
      out.top = extreme_eigenpairs(*op, Which::LargestAlgebraic, request.top_k, options);
    }
    if (request.lambda_min) {
      out.lambda_min = extreme_eigenpairs(*op, Which::SmallestAlgebraic, 1, options).front();
    }
  }
  if (request.trace_samples > 0) {
    TraceOptions options;
    options.samples = request.trace_samples;
    options.seed = streams.split(2).next_u64();
    out.trace = hutchinson_trace(*op, options);
  }
  if (request.density_probes > 0) {
    DensityOptions options;
    options.probes = request.density_probes;
    options.steps = request.density_steps;
    options.seed = streams.split(3).next_u64();
    out.density = spectral_density(*op, options);
  }
  return out;
}

KinkAnalysis kink_analysis(const ShallowReluNet& net, const Dataset& data, std::optional<double> eta,
                           Loss loss, const KinkOptions& options) {
  const double scale = loss_scale(loss);
  KinkAnalysis k = analyze_kinks(net, data, eta ? std::optional<double>(scale * *eta) : std::nullopt,
                                 options);
  k.eta = eta;
  for (ModeSummary& mode : k.modes) {
    for (double* v : {&mode.top_eigenvalue, &mode.rayleigh, &mode.residual, &mode.gradient_norm}) *v *= scale;
  }
  for (double* v : {&k.lambda_upper, &k.lambda_lower, &k.delta, &k.gamma, &k.max_gradient_norm,
                    &k.lemma5_bound}) {
    *v *= scale;
  }
  return k;
}

Metrics report_metrics(const StabilityReport& r) {
  Metrics m;
  add_count(m, "n", r.n);
  add_count(m, "input_dim", r.input_dim);
  add_count(m, "width", r.width);
  m.push_back({"activation", std::string(activation_name(r.activation))});
  m.push_back({"loss_function", std::string(loss_name(r.loss_function))});
  add_metric(m, "loss", r.loss);
  add_metric(m, "mse_clean", r.mse_clean);
  add_metric(m, "sharpness", r.sharpness.value);
  add_metric(m, "sharpness_residual", r.sharpness.residual);
  m.push_back({"sharpness_converged", r.sharpness.converged});
  add_metric(m, "gn_sharpness", r.gn_sharpness.value);
  add_metric(m, "gn_sharpness_residual", r.gn_sharpness.residual);
  m.push_back({"gn_sharpness_converged", r.gn_sharpness.converged});
  // The ReLU-theory quantities are NaN (-1 for counts) for other activations (StabilityReport).
  add_metric(m, "weighted_tv", r.weighted_tv);
  add_metric(m, "weighted_norm", r.weighted_norm);
  add_metric(m, "lemma4_bound", r.lemma4_bound);
  add_metric(m, "per_implementation_bound", r.per_implementation_bound);
  add_count(m, "knots", r.knots);
  add_count(m, "effective_knots", r.effective_knots);
  add_count(m, "effective_knots_weighted", r.effective_knots_weighted);
  add_count(m, "neurons_on_data", r.neurons_on_data);
  add_count(m, "dead_neurons", r.dead_neurons);
  add_metric(m, "max_abs_x", r.max_abs_x);
  if (r.eta) {
    add_metric(m, "eta", *r.eta);
    add_metric(m, "two_over_eta", r.two_over_eta);
    add_metric(m, "thm1_rhs", r.thm1_rhs);
    m.push_back({"stable", r.stable});
    add_metric(m, "edge_ratio", r.edge_ratio);
    add_metric(m, "edge_tolerance", r.edge_tolerance);
    m.push_back({"stability", std::string(stability_name(r.stability))});
    m.push_back({"stability_class", static_cast<std::int64_t>(r.stability)});
    add_metric(m, "noninterpolating_bound", r.noninterpolating_bound);
    add_metric(m, "thm2_delta", r.thm2_delta);
  }
  return m;
}

Metrics flattest_metrics(const FlattestResult& flattest) {
  Metrics m;
  add_metric(m, "flattest_sharpness", flattest.sharpness);
  add_metric(m, "flattest_lower_bound", flattest.lower_bound);
  m.push_back({"flattest_iterations", static_cast<std::int64_t>(flattest.iterations)});
  m.push_back({"flattest_converged", flattest.converged});
  return m;
}

Metrics flattest_all_metrics(const FlattestAllResult& flattest) {
  Metrics m;
  add_metric(m, "flattest_all_sharpness", flattest.sharpness);
  add_metric(m, "flattest_all_lower_bound", flattest.lower_bound);
  m.push_back({"flattest_all_certified", flattest.certified});
  add_count(m, "flattest_all_neurons", flattest.neurons);
  add_count(m, "flattest_all_extra_neurons", flattest.extra_neurons);
  add_count(m, "flattest_all_split_knots", flattest.split_knots);
  return m;
}

Metrics spectrum_metrics(const SpectrumOutput& spectrum) {
  Metrics m;
  for (std::size_t i = 0; i < spectrum.top.size(); ++i) {
    const std::string name = "hessian_eigenvalue_" + std::to_string(i + 1);
    m.push_back({name, spectrum.top[i].value});
    m.push_back({name + "_residual", spectrum.top[i].residual});
    m.push_back({name + "_converged", spectrum.top[i].converged});
  }
  if (spectrum.lambda_min) {
    add_metric(m, "lambda_min", spectrum.lambda_min->value);
    add_metric(m, "lambda_min_residual", spectrum.lambda_min->residual);
    m.push_back({"lambda_min_converged", spectrum.lambda_min->converged});
  }
  if (spectrum.trace) {
    add_metric(m, "hessian_trace", spectrum.trace->value);
    add_metric(m, "hessian_trace_stderr", spectrum.trace->standard_error);
    m.push_back({"hessian_trace_samples", static_cast<std::int64_t>(spectrum.trace->samples)});
  }
  return m;
}

Metrics analysis_metrics(const AnalysisOutput& analysis) {
  Metrics m = report_metrics(analysis.report);
  append_flattest_metrics(m, analysis);
  if (analysis.spectrum) {
    for (Metric& metric : spectrum_metrics(*analysis.spectrum)) m.push_back(std::move(metric));
  }
  return m;
}

Metrics training_metrics(const TrainingTrace& training) {
  Metrics m;
  m.push_back({"outcome", static_cast<std::int64_t>(outcome_code(training.outcome))});
  m.push_back({"steps", training.steps});
  add_metric(m, "loss", training.final_loss);
  add_metric(m, "grad_norm", training.final_grad_norm);
  m.push_back({"switch_step", training.switch_step});
  add_metric(m, "final_eta", training.final_eta);
  return m;
}

Metrics run_metrics(const RunOutput& output) {
  Metrics all = training_metrics(output.training);
  std::set<std::string> names;
  for (const Metric& metric : all) names.insert(metric.name);
  const auto append = [&](const Metrics& more) {
    for (const Metric& metric : more) {
      if (names.insert(metric.name).second) all.push_back(metric);
    }
  };
  if (output.report) append(report_metrics(*output.report));
  append(output.measurements);
  return all;
}

namespace {

/// A metric as the database stores it: a finite number, or nothing.
std::optional<double> stored_value(const MetricValue& value) {
  if (const auto* d = std::get_if<double>(&value)) {
    if (std::isfinite(*d)) return *d;
    return std::nullopt;  // SQLite has no NaN: an undefined quantity is left out
  }
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? 1.0 : 0.0;
  return std::nullopt;  // names (activation, stability) are in the run's parameters or stability_class
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

}  // namespace

RunResult to_run_result(const RunConfig& config, const RunOutput& output) {
  RunResult result;
  result.key = output.key;
  result.backend = output.backend;
  result.wall_seconds = output.wall_seconds;
  for (const Metric& metric : run_metrics(output)) {
    if (const std::optional<double> value = stored_value(metric.value)) {
      result.metrics.emplace_back(metric.name, *value);
    }
  }
  add_log_rows(result, output.training.log);
  if (!config.data_file.empty()) {
    result.data_file = RunResult::DataFileRecord{output.samples, output.input_dim, output.data_file_hash};
  }
  if (output.training.outcome == Outcome::Diverged) {
    // The sweep goes on: a diverged run is a result (failed, with the reason), not an error. The
    // analysis of a blown-up net would measure nothing the theory speaks about, so it was skipped.
    result.status = RunStatus::Failed;
    result.reason = "diverged at step " + std::to_string(output.training.steps) + " (loss " +
                    format_loss(output.training.final_loss) + ")";
  }
  if (const auto* net = std::get_if<ShallowReluNet>(&output.net)) {
    if (config.save_net && net->theta().allFinite()) {
      result.net_json = io::net_to_json(*net);  // with its activation
    }
  }
  return result;
}

RunResult execute_run(const RunConfig& config, const RunInputs& inputs) {
  // Single-threaded: a sweep parallelises over runs, and results do not depend on threads anyway.
  return to_run_result(config, run(config, inputs, RunContext{1}));
}

std::vector<RunResult> execute_runs(std::span<const RunConfig> configs, const RunInputs& inputs) {
  std::vector<RunOutcome> outcomes = run_many(configs, inputs, RunContext{1});
  std::vector<RunResult> results(configs.size());
  for (size_t c = 0; c < configs.size(); ++c) {
    if (outcomes[c].output) {
      results[c] = to_run_result(configs[c], *outcomes[c].output);
    } else {
      results[c].status = RunStatus::Failed;
      results[c].reason = outcomes[c].error;
    }
  }
  return results;
}

}  // namespace relustab
