// SPDX-License-Identifier: MIT
// One run of an experiment as plain typed values, and the table of its parameters.
#pragma once

#include <relustab/core/types.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace relustab {

/// Everything one training run needs. A run's result depends on these values only (not on the
/// number of jobs or ranks, nor on the order in which runs execute).
struct RunConfig {
  // [data]: generated (data.file empty) or read from a CSV file.
  std::string data_file;
  std::int64_t n = 30;
  std::int64_t dim = 1;
  std::string inputs = "uniform";   ///< uniform | gaussian | laplace | grid
  double lo = -1.0;
  double hi = 1.0;
  std::string target = "sin3";      ///< sin3 | cubic | abs | tent | sawtooth | zero | linear | pyramid | bump
  double noise = 0.3;
  std::uint64_t data_seed = 0;
  std::string source = "generated"; ///< generated | fashion-mnist | digits | idx (binary image task)
  std::string idx_images;           ///< source = idx: the images file
  std::string idx_labels;           ///< source = idx: the labels file
  std::string classes = "0,1";      ///< image sources: "a,b": class a gets y = +1, class b y = -1
  std::int64_t n_val = 0;           ///< validation / test samples (0: none)
  bool center = false;              ///< image sources: subtract the training mean image
  // [model]
  std::int64_t width = 100;
  std::string init = "torch";       ///< torch | kaiming | scaled | balanced | data_knots (d = 1) | pyramid (depth 2)
  double init_scale = 1.0;
  std::int64_t depth = 1;           ///< hidden layers: 1 or 2
  std::int64_t width2 = 0;          ///< second hidden width (depth 2; 0: same as width)
  std::string activation = "relu";  ///< relu | gelu (depth 1)
  // [optim]
  std::string optimizer = "gd";     ///< gd (SGD when batch > 0) | adam
  std::string fit_output = "none";  ///< none | min_norm: output layer fitted before the steps (fit_output_min_norm)
  std::int64_t batch = 0;           ///< 0: full-batch GD; else SGD batch size
  double eta = 0.1;
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
  // [run]
  std::uint64_t seed = 0;           ///< initialisation and SGD batch stream
  std::string backend = "auto";     ///< auto (univariate for d = 1, else cpu) or a back-end name
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
};

/// The parameter table, in a fixed order.
std::span<const ParamSpec> run_parameters();

/// The spec for `key`, or nullptr.
const ParamSpec* find_parameter(std::string_view key);

/// Canonical JSON of a run's configuration: every parameter of the table in table order, numbers in
/// shortest round-trip form. Equal configs give equal strings.
std::string canonical_json(const RunConfig& config);

/// A stable identifier of a run: 16 hex digits of a 64-bit FNV-1a hash of canonical_json().
std::string run_key(const RunConfig& config);

/// A value as plain text: integers in decimal, doubles in shortest round-trip form (std::to_chars;
/// -0 is written 0), booleans true/false, strings as they are. Used in messages and CSV cells.
std::string format_param_value(const ParamValue& value);

/// "a,b" -> {a, b}: two different class labels >= 0. Throws InputError otherwise.
std::pair<int, int> parse_class_pair(const std::string& text);

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
