// SPDX-License-Identifier: MIT
// What one finished run produces, and the pure function that produces it.
#pragma once

#include <relustab/data/dataset.h>
#include <relustab/data/image_task.h>
#include <relustab/model/shallow_relu.h>
#include <relustab/experiment/run_config.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <span>
#include <vector>

namespace relustab {

enum class RunStatus { Pending, Running, Done, Failed };
std::string_view run_status_name(RunStatus status);  ///< "pending", "running", "done", "failed"

/// One row of a run's per-step log in long format.
struct LogEntry {
  std::int64_t step = 0;
  std::string metric;
  double value = 0.0;
};

struct RunResult {
  std::string key;                 ///< run_key(config)
  RunStatus status = RunStatus::Done;
  std::string reason;              ///< why it failed (e.g. "diverged at step 12 (loss 3.1e+13)")
  /// Final scalar measurements, always: outcome (0 converged, 1 max_steps, 2 diverged), steps,
  /// loss, switch_step (-1: none), final_eta (the step size in effect at the end: eta, times
  /// switch_factor after the switch). With measure.final_analysis (and not diverged), the fields of
  /// analyze_net at final_eta: mse_clean, sharpness, sharpness_residual, gn_sharpness, weighted_tv,
  /// weighted_norm, lemma4_bound, per_implementation_bound, knots, effective_knots,
  /// effective_knots_weighted, neurons_on_data, dead_neurons, two_over_eta, thm1_rhs, stable (0/1),
  /// edge_ratio (sharpness x eta / 2), stability_class (0 stable, 1 at the edge, 2 unstable, with
  /// kEdgeTolerance), noninterpolating_bound, thm2_delta. Not diverged, d = 1, generated data:
  /// mse_full and mse_interior (mse_on_interval over measure.grid_points points of [x_min, x_max] and
  /// of its strict interior). With measure.flattest: flattest_sharpness, flattest_iterations,
  /// flattest_converged (0/1), and for d = 1 (flattest_over_implementations) flattest_all_sharpness,
  /// flattest_all_lower_bound, flattest_all_certified (0/1), flattest_all_neurons,
  /// flattest_all_extra_neurons, flattest_all_split_knots. With measure.kinks (analyze_kinks at final_eta): kink_points (p),
  /// kink_neurons, kink_modes (2^p, or the number sampled when p > 12), lambda_upper, lambda_lower,
  /// kink_delta, kink_max_gradient (max over modes of ||grad psi_m||: both lemmas concern points where
  /// it is 0), lemma3_stable (0/1), lemma2_unstable (0/1).
  /// With measure.knot_stats (d = 1): active_neurons, knot_q10, knot_q25, knot_q50, knot_q75,
  /// knot_q90, knot_distance_q50, knot_distance_q90, knot_distance_max, and the reference
  /// uniform_knot_distance_q50 and _q90 (knots uniform on the data range). A quantity that is not
  /// defined for the run (NaN: no clean target, d > 1, no active knot) is left out.
  std::vector<std::pair<std::string, double>> metrics;
  /// Every measure.log_every steps and at the end: loss, eta, mse_clean (with a clean target),
  /// sharpness and sharpness_residual (with measure.log_sharpness).
  std::vector<LogEntry> log;
  std::string net_json;            ///< final network (relustab-net JSON), empty if not saved
  /// With data.file: what the file held, stored in the run's params rows in place of what the
  /// generator's keys would say: data.n and data.dim the file's sample count and input dimension,
  /// data.file_hash its content hash (empty: no hasher was given).
  struct DataFileRecord {
    std::int64_t samples = 0;
    std::int64_t input_dim = 0;
    std::string hash;
  };
  std::optional<DataFileRecord> data_file;
  std::string backend;             ///< back end that actually ran
  double wall_seconds = 0.0;
};

/// Loads a CSV data file for runs that name one (the interface layer supplies it; the library does
/// no I/O). Called from worker threads: must be thread-safe.
using DataFileLoader = std::function<Dataset(const std::string& path)>;

/// Reads the image set of a data source (with data.idx_images / data.idx_labels for idx). The run
/// API reads no files: the caller passes a reader; a sweep passes one cache for all its runs
/// (io::ImageSetCache::read), so each set is read once. Called from worker threads: thread-safe.
using ImageSetLoader = std::function<std::shared_ptr<const ImageSet>(
    DataSource source, const std::string& idx_images, const std::string& idx_labels)>;

/// What a run reads besides its configuration.
struct RunInputs {
  DataFileLoader load_data = {};    ///< data.file (CSV)
  /// data.file's content hash, recorded with the run (io::FileCache::csv_hash); optional.
  std::function<std::string(const std::string& path)> hash_data_file = {};
  ImageSetLoader load_images = {};  ///< data.source other than generated
  /// Given: the training data, in place of data.* (no validation set; a clean target only as the
  /// data's y_clean). The command line's `train --data` and `demo` pass their data here.
  std::optional<Dataset> data = {};
  /// Given: the initial net, in place of model.width / model.init (a depth 1 run; its activation is
  /// replaced by model.activation).
  std::optional<ShallowReluNet> initial_net = {};
};

/// The row of the results database for one configuration: run() (relustab/api.h) single-threaded,
/// mapped by to_run_result(). A diverged run is returned with status Failed and the reason; bad
/// configuration throws InputError. Deterministic: the result (wall time aside) depends only on
/// `config` and the inputs.
///
/// The same run from the command line: `relustab data --seed <data.seed> --n ... --target ...
/// --noise ...` (Rng(data.seed) split 1, 2, 3 for inputs, target, noise), then `relustab train
/// --seed <run.seed> ...` (initialisation drawn from Rng(run.seed) itself) gives the same final
/// parameters bit for bit.
RunResult execute_run(const RunConfig& config, const RunInputs& inputs);

/// execute_run for many configurations through run_many (single-threaded; runs that can share SIMD
/// lanes train together), result c equal to execute_run(configs[c], inputs) (wall time aside), except
/// that a bad configuration is a Failed result with the reason instead of an exception.
std::vector<RunResult> execute_runs(std::span<const RunConfig> configs, const RunInputs& inputs);

}  // namespace relustab
