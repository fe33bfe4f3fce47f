// SPDX-License-Identifier: MIT
// One run of an experiment as plain typed values, and the table of its parameters.
#pragma once

#include <relustab/core/loss.h>
#include <relustab/core/types.h>
#include <relustab/data/generators.h>
#include <relustab/data/image_task.h>
#include <relustab/model/activation.h>
#include <relustab/model/init.h>
#include <relustab/train/trainer.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace relustab {

/// How a run's net is initialised: the draws of InitKind, or one of the constructions that need the
/// data or the depth.
enum class InitScheme {
  Torch,      ///< InitKind::TorchUniform
  Kaiming,    ///< InitKind::KaimingNormal
  Scaled,     ///< InitKind::Scaled
  Balanced,   ///< InitKind::SmallBalanced
  DataKnots,  ///< d = 1: knots spread over the gaps between the inputs (initialize_data_knots)
  Pyramid,    ///< depth 2: the exact representation of relu(1 - ||x||_1) (DeepReluNet::pyramid)
};
InitScheme parse_init_scheme(std::string_view name);  ///< "torch", ..., "data_knots", "pyramid"
std::string_view init_scheme_name(InitScheme scheme);
/// The InitKind of a random initialisation; throws InputError for DataKnots and Pyramid.
InitKind init_kind_of(InitScheme scheme);

/// What is done to the output layer before the steps.
enum class OutputLayerFit {
  None,     ///< nothing
  MinNorm,  ///< the minimum-norm least-squares output layer for the fixed first layer (fit_output_min_norm)
};
OutputLayerFit parse_output_fit(std::string_view name);  ///< "none", "min_norm"
std::string_view output_fit_name(OutputLayerFit fit);

/// The two classes of a binary image task: `positive` is labelled +1, `negative` -1.
struct ClassPair {
  int positive = 0;
  int negative = 1;
  friend bool operator==(const ClassPair&, const ClassPair&) = default;
};

/// Everything one training run needs. A run's result depends on these values only (not on the
/// number of jobs or ranks, nor on the order in which runs execute). Names from files and the command
/// line are parsed into these types once, by the parameter table (run_parameters); below it every
/// choice is an enum. The strings left are file paths and the back-end name.
struct RunConfig {
  // [data]: generated (data.file empty) or read from a CSV file.
  std::string data_file;
  std::int64_t n = 30;
  std::int64_t dim = 1;
  InputLaw inputs = InputLaw::Uniform;
  double lo = -1.0;
  double hi = 1.0;
  Target::Kind target = Target::Kind::Sin3;  ///< any kind but Table
  double noise = 0.3;
  std::uint64_t data_seed = 0;
  DataSource source = DataSource::Generated;
  std::string idx_images;           ///< source = idx: the images file
  std::string idx_labels;           ///< source = idx: the labels file
  ClassPair classes;                ///< image sources
  std::int64_t n_val = 0;           ///< validation / test samples (0: none)
  bool center = false;              ///< image sources: subtract the training mean image
  // [model]
  std::int64_t width = 100;
  InitScheme init = InitScheme::Torch;
  double init_scale = 1.0;
  std::int64_t depth = 1;           ///< hidden layers: 1 or 2
  std::int64_t width2 = 0;          ///< second hidden width (depth 2; 0: same as width)
  Activation activation = Activation::Relu;
  // [optim]
  Optimizer optimizer = Optimizer::GD;  ///< GD is SGD when batch > 0
  OutputLayerFit fit_output = OutputLayerFit::None;
  std::int64_t batch = 0;           ///< 0: full-batch GD; else SGD batch size
  double eta = 0.1;
  /// The loss trained and analysed (Loss): eta, the losses, thresholds and sharpnesses are of it.
  Loss loss = Loss::HalfMse;
  double warmup_from = 0.0;
  std::int64_t warmup_steps = 0;
  double switch_factor = 1.0;
  double switch_below = 0.0;
  std::int64_t max_steps = 10000;
  double loss_tol = 1e-6;
  std::int64_t patience = 200;
  double divergence_loss = 1e12;
  double grad_tol = 0.0;            ///< > 0: also converged once ||grad L|| < grad_tol (StopRule)
  // [measure]
  std::int64_t log_every = 0;       ///< 0: no per-step log
  double log_growth = 0.0;          ///< > 1: also logarithmically spaced rows (TrainOptions)
  bool log_sharpness = false;       ///< sharpness in each log row
  bool final_analysis = true;       ///< sharpness, weighted TV, knots and bounds at the end
  bool save_net = true;             ///< store the final network
  bool flattest = false;            ///< flattest implementation over rescalings (Mulayoff et al. 2021, App. XI; our method)
  bool alignment = false;           ///< alignment with the linear teacher (Boursier and Flammarion 2025)
  bool kinks = false;               ///< mode analysis at knots on data points (Mulayoff et al. 2021, Thm 2 and Lemmas 2-3)
  bool knot_stats = false;          ///< active-knot quantiles and distances (d = 1; Qiao et al. 2024)
  /// Strict interior of the data range for mse_interior: [x_min + m w, x_max - m w], w = x_max - x_min.
  double interior_margin = 0.1;
  std::int64_t grid_points = 2001;  ///< grid of mse_full and mse_interior (d = 1, known target)
  /// The Hessian's spectrum at the end (SpectrumRequest of api.h; 0 / false: not measured).
  std::int64_t spectrum_top_k = 0;       ///< the k largest eigenvalues with residuals
  bool spectrum_lambda_min = false;      ///< the smallest eigenvalue with its residual
  std::int64_t trace_samples = 0;        ///< Hutchinson probes for the trace
  std::uint64_t spectrum_seed = 0x5eed;  ///< seed of the Lanczos start vector and the probes
  // [run]
  std::uint64_t seed = 0;           ///< initialisation and SGD batch stream
  /// "auto" or a back-end name of the registry (make_backend), checked when set. A name, not an
  /// enum: the set of back ends is open (a device back end registers one more).
  std::string backend = "auto";
};

/// A parameter's value as written in a file or on the command line.
using ParamValue = std::variant<std::int64_t, double, bool, std::string>;

enum class ParamType { Int, UInt, Double, Bool, String };

/// One entry of the parameter table: its dotted key ("optim.eta"), type, one line of help, and how
/// to read and write it in a RunConfig. The TOML reader, validation, sweeps, the database columns and
/// `relustab params` are all driven by this one table.
struct ParamSpec {
  std::string_view key;
  ParamType type;
  std::string_view help;
  std::function<ParamValue(const RunConfig&)> get;
  /// Sets the value; throws InputError naming the key if the value is out of range or of the wrong
  /// type (an integer is accepted where a double is expected).
  std::function<void(RunConfig&, const ParamValue&)> set;
  /// In canonical_json only when set to something other than its default. Parameters added after
  /// results were first stored are marked so: a run that does not use them keeps the key and the
  /// canonical JSON it had before they existed, so existing results directories resume and extend.
  bool keyed_when_set = false;
};

/// The parameter table, in a fixed order.
std::span<const ParamSpec> run_parameters();

/// The spec for `key`, or nullptr.
const ParamSpec* find_parameter(std::string_view key);

/// Canonical JSON of a run's configuration: every parameter of the table in table order (those marked
/// keyed_when_set only when they differ from their default), numbers in shortest round-trip form.
/// Equal configs give equal strings.
std::string canonical_json(const RunConfig& config);

/// A stable identifier of a run: 16 hex digits of a 64-bit FNV-1a hash of canonical_json().
std::string run_key(const RunConfig& config);

/// A value as plain text: integers in decimal, doubles in shortest round-trip form (std::to_chars;
/// -0 is written 0), booleans true/false, strings as they are. Used in messages and CSV cells.
std::string format_param_value(const ParamValue& value);

/// "a,b" -> {a, b}: two different class labels >= 0. Throws InputError otherwise.
ClassPair parse_class_pair(std::string_view text);
std::string format_class_pair(const ClassPair& classes);  ///< "a,b"

/// Cross-field validation (e.g. lo < hi, width >= 1, eta > 0); throws InputError naming the key.
void validate_run_config(const RunConfig& config);

namespace detail {
/// `value` of parameter `spec` as JSON text (as in canonical_json: an integer given for a double
/// parameter is written as that double, an unsigned parameter as unsigned).
std::string json_value(const ParamSpec& spec, const ParamValue& value);
/// `text` as a JSON string literal (quotes, backslashes and control characters escaped).
std::string json_string(std::string_view text);
}  // namespace detail

}  // namespace relustab
