// SPDX-License-Identifier: MIT
// The run API: one training run or one analysis from a typed configuration, with typed results and
// the one mapping from them to named metrics. The command line, the sweep engine and the Python
// module all go through these functions, so they cannot disagree. Part of the experiment layer.
#pragma once

#include <relustab/analysis/flattest.h>
#include <relustab/analysis/function_space.h>
#include <relustab/analysis/kinks.h>
#include <relustab/analysis/report.h>
#include <relustab/backend/backend.h>
#include <relustab/core/loss.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/spectrum.h>
#include <relustab/data/dataset.h>
#include <relustab/data/generators.h>
#include <relustab/data/image_task.h>
#include <relustab/experiment/run_config.h>
#include <relustab/experiment/run_result.h>
#include <relustab/model/deep_relu.h>
#include <relustab/model/shallow_relu.h>
#include <relustab/train/trainer.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace relustab {

/// A named measurement. The value keeps its type: counts are integers, verdicts booleans, names
/// strings; a double NaN means "not defined here" (no clean target, a ReLU-theory quantity of a GeLU
/// net, d > 1 for the univariate ones), which JSON writes as null and the results database leaves out.
using MetricValue = std::variant<double, std::int64_t, bool, std::string>;
struct Metric {
  std::string name;
  MetricValue value;
};
using Metrics = std::vector<Metric>;

/// The value of metric `name`, or nullptr. The pointer points into `metrics`, so a temporary list is
/// refused at compile time (keep the list: `const Metrics m = run_metrics(out);`).
const MetricValue* find_metric(const Metrics& metrics, std::string_view name);
const MetricValue* find_metric(Metrics&& metrics, std::string_view name) = delete;

/// The data of a run: training set, validation set (empty unless data.n_val > 0), the clean target
/// when the data were generated from one, and whether the labels are classes (+-1).
struct RunData {
  Dataset train;
  Dataset validation;
  std::optional<Target> target;
  bool classification = false;
};

/// The data `config` describes. Generated data use the streams of `relustab data --seed data.seed`
/// (inputs split(1), target split(2), noise split(3); a validation set draws from split(4)), so a
/// run can be replayed from the command line. Throws InputError for a bad configuration or a missing
/// loader.
RunData make_run_data(const RunConfig& config, const RunInputs& inputs = {});

/// The training part of a run.
struct TrainingTrace {
  Outcome outcome = Outcome::MaxSteps;
  std::int64_t steps = 0;
  double final_loss = 0.0;
  double final_grad_norm = 0.0;
  std::int64_t switch_step = -1;  ///< step of the step-size switch, or -1
  double final_eta = 0.0;         ///< the step size in effect at the end (the minimum is judged against it)
  std::vector<LogRow> log;
};

/// A trained net of either depth.
using AnyNet = std::variant<ShallowReluNet, DeepReluNet>;

/// Everything one run produced.
struct RunOutput {
  std::string key;      ///< run_key(config)
  std::string backend;  ///< the back end that ran ("cpu-deep" for depth 2)
  TrainingTrace training;
  AnyNet net;           ///< the final net
  /// measure.final_analysis, not diverged: analyze_net at final_eta (depth 2: loss, mse_clean, the
  /// sharpness and the verdict; the other fields are left undefined).
  std::optional<StabilityReport> report;
  /// The further measurements, by name: generalisation (train_mse, val_mse, ...), the output fit,
  /// mse_full / mse_interior, and those measure.flattest, kinks, knot_stats and alignment ask for.
  Metrics measurements;
  double wall_seconds = 0.0;
  /// The training data's sample count and input dimension (a data.file's own, whatever data.n and
  /// data.dim say), and with data.file and RunInputs::hash_data_file, the file's content hash.
  std::int64_t samples = 0;
  std::int64_t input_dim = 0;
  std::string data_file_hash;
};

/// Runs one configuration: builds the data, initialises from run.seed (or takes inputs.initial_net),
/// trains, measures. Deterministic: the result (wall time aside) depends only on `config` and
/// `inputs`, not on context.threads. A diverged run is an outcome, not an error; a bad configuration
/// throws InputError naming the key. `progress` sees every log row.
RunOutput run(const RunConfig& config, const RunInputs& inputs = {}, const RunContext& context = {},
              const ProgressCallback& progress = {});

/// One configuration's result in run_many: its output, or why it failed (a bad configuration's
/// InputError message).
struct RunOutcome {
  std::optional<RunOutput> output;
  std::string error;
};

/// Runs many configurations, outcome c that of run(configs[c], inputs, context) bit for bit (wall
/// times aside), each failing alone. Depth-1 runs on the univariate back end that train on equal
/// data by plain full-batch GD (lane_trainable) train together as SIMD lanes (the
/// batched engine of `context`); a group's training time is shared among its runs' wall times. The
/// sweep executes its runs this way. inputs.initial_net is refused (it belongs to one run).
std::vector<RunOutcome> run_many(std::span<const RunConfig> configs, const RunInputs& inputs = {},
                                 const RunContext& context = {});

/// The Hessian's spectrum beyond its largest eigenvalue (spectrum.h), from the exact Hessian-vector
/// products of net_curvature (the loss of the request; both depths). Everything is off by default.
struct SpectrumRequest {
  int top_k = 0;           ///< the k largest eigenvalues, with residuals (0: none; else 1..P)
  bool lambda_min = false; ///< the smallest eigenvalue, with its residual
  int trace_samples = 0;   ///< Hutchinson probes for the trace (0: none)
  int density_probes = 0;  ///< stochastic Lanczos quadrature: probes (0: no density) ...
  int density_steps = 0;   ///< ... and Lanczos steps per probe (1..P; both or neither)
  /// Seed of the random vectors: the Lanczos start vector, the trace probes and the density probes
  /// draw from Rng(seed).split(1), split(2) and split(3).
  std::uint64_t seed = 0x5eed;
  /// Whether anything is asked for.
  bool any() const { return top_k > 0 || lambda_min || trace_samples > 0 || density_probes > 0; }
};
/// What SpectrumRequest asked for.
struct SpectrumOutput {
  std::vector<EigenResult> top;           ///< top_k pairs, largest first (empty when not asked)
  std::optional<EigenResult> lambda_min;
  std::optional<TraceEstimate> trace;
  std::optional<SpectralDensity> density;
};
/// What `analyze` computes for a net on its data.
struct AnalyzeRequest {
  std::optional<double> eta;             ///< adds 2/eta, the bounds of Theorems 1 and 2 and the verdict
  bool flattest = false;                 ///< flattest implementations (ReLU nets; over all of them for d = 1)
  double edge_tolerance = kEdgeTolerance;
  std::string backend = "auto";          ///< a back-end name or auto (resolve_backend_name)
  /// The loss that eta, the loss value and the Hessian refer to (Loss): with mse the verdict and the
  /// theorems use the equivalent half-MSE step 2 eta.
  Loss loss = Loss::HalfMse;
  /// The Hessian's spectrum beyond the sharpness (hessian_spectrum), both depths; off by default.
  SpectrumRequest spectrum;
};
struct AnalysisOutput {
  std::string backend;
  StabilityReport report;
  std::optional<FlattestResult> flattest;
  std::optional<FlattestAllResult> flattest_all;
  std::optional<SpectrumOutput> spectrum;  ///< when request.spectrum.any()
};
/// Analyses `net` on `data` on the back end the request names (auto: the net's activation and the
/// input dimension decide). Throws InputError for mismatched dimensions or a request the net's
/// activation has no theory for (flattest of a GeLU net).
AnalysisOutput analyze(const ShallowReluNet& net, const Dataset& data, const AnalyzeRequest& request = {},
                       const RunContext& context = {});
/// Analyses a net with two hidden layers (the depth-2 code of run(); request.backend must be auto):
/// n, input_dim, width (the first hidden layer's), the loss, mse_clean, max |x|, the sharpness with
/// its residual and, with a step size, 2/eta and the verdict. The function-space quantities and the
/// theorems' bounds are theory of one hidden layer, and stay undefined (NaN), as does the
/// Gauss-Newton sharpness. Throws InputError for request.flattest or mismatched dimensions.
AnalysisOutput analyze(const DeepReluNet& net, const Dataset& data, const AnalyzeRequest& request = {},
                       const RunContext& context = {});
/// Either of the above, by the net's depth.
AnalysisOutput analyze(const AnyNet& net, const Dataset& data, const AnalyzeRequest& request = {},
                       const RunContext& context = {});

/// What `curves` draws of a univariate ReLU net: the grid and its defaults.
struct CurvesRequest {
  /// Ends of the grid; default: the data range widened by a quarter of its length on each side, so
  /// knots just outside the data (paper 1, Fig. 3: large |f''| outside the support) show.
  std::optional<double> from, to;
  Index points = 801;  ///< grid points, ends included (>= 2)
  /// Standard deviation of the Gaussian smoothing of |f''|; default 2% of the data range (our
  /// choice: the papers' smoothing is not published, Mulayoff et al. 2021, Sec. 4).
  std::optional<double> bandwidth;
};
/// A univariate net and its data's weight function on a grid.
struct FunctionCurves {
  std::vector<double> x, f, abs_f2_smoothed, g;  ///< grid, f(x), smoothed |f''|(x), g(x)
  std::vector<Knot> knots;
  double bandwidth = 0.0;  ///< the smoothing used
};
/// Throws InputError unless the net is a univariate ReLU net, the data are univariate, the ends are
/// finite with from < to and points >= 2.
FunctionCurves function_curves(const ShallowReluNet& net, const Dataset& data,
                               const CurvesRequest& request = {});

/// The loss of a net on its data and its derivatives, in a loss convention: what a caller that
/// holds a net (the Python module) needs beyond analyze(), computed by the functions analyze() and
/// run() use, so the values agree with theirs bit for bit.
struct LossRequest {
  Loss loss = Loss::HalfMse;
  /// One hidden layer: a back-end name or auto (resolve_backend_name). Two hidden layers use the
  /// depth-2 code of run() (deep_curvature.h) and accept only auto.
  std::string backend = "auto";
};
/// The loss (of request.loss) of `net` on `data`; `grad`, when not null, receives its gradient in
/// the net's theta layout. Throws InputError when the dimensions do not match.
double net_loss(const AnyNet& net, const Dataset& data, Vec* grad, const LossRequest& request = {},
                const RunContext& context = {});
/// The largest algebraic eigenvalue, with its residual, of the Hessian (kind Hessian: the
/// sharpness) or of the Gauss-Newton matrix of request.loss: the values analyze() reports.
EigenResult net_sharpness(const AnyNet& net, const Dataset& data, CurvatureKind kind,
                          const LossRequest& request = {}, const RunContext& context = {});
/// Products with the Hessian (or the Gauss-Newton matrix) of request.loss at `net`, as an operator
/// that owns what it computes with; it keeps references to `net` and `data`, which must outlive it.
std::unique_ptr<LinearOperator> net_curvature(const AnyNet& net, const Dataset& data, CurvatureKind kind,
                                              const LossRequest& request = {},
                                              const RunContext& context = {});
/// The spectrum `request` asks for, of the Hessian of loss.loss at `net` (net_curvature's operator).
/// Eigenpairs: extreme_eigenpairs with tolerance 1e-10, a basis of 40 vectors (at least 2 top_k)
/// and at most 300 max(1, top_k) products. Throws InputError for a negative count, top_k or
/// density_steps above P, or only one of density_probes and density_steps.
SpectrumOutput hessian_spectrum(const AnyNet& net, const Dataset& data, const SpectrumRequest& request,
                                const LossRequest& loss = {}, const RunContext& context = {});

/// The switching-system analysis at kinks (analyze_kinks) in the convention `loss`: the mode
/// Hessians' eigenvalues, residuals, gradients and Lemma 5's bound are those of `loss`, eta is as
/// given, and Lemmas 2 and 3 and Theorem 2's Delta are judged at the equivalent half-MSE step
/// loss_scale x eta (the same verdicts).
KinkAnalysis kink_analysis(const ShallowReluNet& net, const Dataset& data, std::optional<double> eta,
                           Loss loss = Loss::HalfMse, const KinkOptions& options = {});

// The one mapping from typed results to named metrics. Names and order are a stable contract (the
// keys of `relustab analyze --json`, the metric columns of a sweep's database and export).

/// n, input_dim, width, activation, loss_function (half_mse or mse), loss, mse_clean, sharpness (+ _residual, _converged),
/// gn_sharpness (+ _residual, _converged), weighted_tv, weighted_norm, lemma4_bound,
/// per_implementation_bound, knots, effective_knots, effective_knots_weighted, neurons_on_data,
/// dead_neurons, max_abs_x; with a step size also eta, two_over_eta, thm1_rhs, stable, edge_ratio,
/// edge_tolerance, stability (name), stability_class (0 stable, 1 at the edge, 2 unstable),
/// noninterpolating_bound, thm2_delta. Counts left out by the report (-1) are NaN.
Metrics report_metrics(const StabilityReport& report);
/// flattest_sharpness, flattest_lower_bound, flattest_iterations, flattest_converged.
Metrics flattest_metrics(const FlattestResult& flattest);
/// flattest_all_sharpness, flattest_all_lower_bound, flattest_all_certified, flattest_all_neurons,
/// flattest_all_extra_neurons, flattest_all_split_knots.
Metrics flattest_all_metrics(const FlattestAllResult& flattest);
/// hessian_eigenvalue_1 .. hessian_eigenvalue_k (largest first), each with _residual and _converged;
/// lambda_min (+ _residual, _converged); hessian_trace, hessian_trace_stderr (NaN for one sample),
/// hessian_trace_samples: those the output holds. The spectral density is arrays (nodes, weights),
/// no scalar metric: `relustab analyze --json` writes it under "spectral_density".
Metrics spectrum_metrics(const SpectrumOutput& spectrum);
/// report_metrics, then the flattest metrics and the spectrum metrics when present.
Metrics analysis_metrics(const AnalysisOutput& analysis);
/// outcome (0 converged, 1 max_steps, 2 diverged), steps, loss, grad_norm, switch_step, final_eta.
Metrics training_metrics(const TrainingTrace& training);
/// training_metrics, report_metrics (when analysed), then the measurements; a name already given
/// is not repeated (the training loss is the report's loss).
Metrics run_metrics(const RunOutput& output);

/// The row a sweep stores for a run: status (failed with the reason when diverged), the numeric
/// metrics of run_metrics (booleans 0/1, integers as doubles; strings and undefined values left
/// out), the log in long format and the final net as relustab-net JSON (measure.save_net, depth 1).
RunResult to_run_result(const RunConfig& config, const RunOutput& output);

}  // namespace relustab
