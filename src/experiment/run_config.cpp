// SPDX-License-Identifier: MIT
// The parameter table of a run (keys, types, range checks), its canonical JSON and its key.
#include <relustab/experiment/run_config.h>

#include <relustab/backend/backend.h>

#include <relustab/analysis/flattest.h>
#include <relustab/analysis/kinks.h>
#include <relustab/core/error.h>
#include <relustab/core/format.h>
#include <relustab/core/limits.h>
#include <relustab/core/rng.h>
#include <relustab/data/generators.h>
#include <relustab/model/init.h>
#include <relustab/train/trainer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

namespace relustab {
namespace {

std::string value_type_name(const ParamValue& value) {
  switch (value.index()) {
    case 0: return "integer";
    case 1: return "float";
    case 2: return "boolean";
    default: return "string";
  }
}

[[noreturn]] void throw_type_error(std::string_view key, std::string_view expected,
                                   const ParamValue& value) {
  throw InputError("key '" + std::string(key) + "' expects " + std::string(expected) + ", got " +
                   value_type_name(value));
}

[[noreturn]] void throw_range_error(std::string_view key, std::string_view expected,
                                    const ParamValue& value) {
  throw InputError("key '" + std::string(key) + "' expects " + std::string(expected) + ", got " +
                   format_param_value(value));
}

/// Lower bound of a numeric parameter; `inclusive` false means the bound itself is rejected.
struct Bound {
  double value;
  bool inclusive;
};

std::string bound_text(const char* noun, Bound bound) {
  return std::string(noun) + (bound.inclusive ? " >= " : " > ") +
         format_param_value(ParamValue(bound.value));
}

std::int64_t int_value(std::string_view key, const ParamValue& value) {
  if (const auto* v = std::get_if<std::int64_t>(&value)) return *v;
  throw_type_error(key, "an integer", value);
}

ParamSpec int_param(std::string_view key, std::string_view help, std::int64_t RunConfig::*field,
                    std::int64_t min) {
  return {key, ParamType::Int, help,
          [field](const RunConfig& c) { return ParamValue(c.*field); },
          [key, field, min](RunConfig& c, const ParamValue& value) {
            const std::int64_t v = int_value(key, value);
            if (v < min) throw_range_error(key, "an integer >= " + std::to_string(min), value);
            c.*field = v;
          }};
}

ParamSpec uint_param(std::string_view key, std::string_view help, std::uint64_t RunConfig::*field) {
  // Values travel as int64 (TOML integers are signed), so seeds above 2^63 - 1 are set in code only.
  return {key, ParamType::UInt, help,
          [field](const RunConfig& c) { return ParamValue(static_cast<std::int64_t>(c.*field)); },
          [key, field](RunConfig& c, const ParamValue& value) {
            const std::int64_t v = int_value(key, value);
            if (v < 0) throw_range_error(key, "an integer >= 0", value);
            c.*field = static_cast<std::uint64_t>(v);
          }};
}

/// A double parameter with an optional lower bound and an optional exclusive upper bound.
ParamSpec double_param(std::string_view key, std::string_view help, double RunConfig::*field,
                       std::optional<Bound> lower, std::optional<double> below = std::nullopt) {
  return {key, ParamType::Double, help,
          [field](const RunConfig& c) { return ParamValue(c.*field); },
          [key, field, lower, below](RunConfig& c, const ParamValue& value) {
            double v = 0.0;
            if (const auto* i = std::get_if<std::int64_t>(&value)) {
              v = static_cast<double>(*i);
            } else if (const auto* d = std::get_if<double>(&value)) {
              v = *d;
            } else {
              throw_type_error(key, "a number", value);
            }
            const bool in_range =
                std::isfinite(v) &&
                (!lower || (lower->inclusive ? v >= lower->value : v > lower->value)) &&
                (!below || v < *below);
            if (!in_range) {
              std::string expected =
                  lower ? bound_text("a finite number", *lower) : std::string("a finite number");
              if (below) expected += " and < " + format_param_value(ParamValue(*below));
              throw_range_error(key, expected, value);
            }
            c.*field = v;
          }};
}

ParamSpec bool_param(std::string_view key, std::string_view help, bool RunConfig::*field) {
  return {key, ParamType::Bool, help,
          [field](const RunConfig& c) { return ParamValue(c.*field); },
          [key, field](RunConfig& c, const ParamValue& value) {
            const auto* v = std::get_if<bool>(&value);
            if (!v) throw_type_error(key, "a boolean", value);
            c.*field = *v;
          }};
}

/// A string parameter; `check` throws InputError for names it does not accept (its message is
/// prefixed with the key).
template <class Check>
ParamSpec string_param(std::string_view key, std::string_view help, std::string RunConfig::*field,
                       Check check) {
  return {key, ParamType::String, help,
          [field](const RunConfig& c) { return ParamValue(c.*field); },
          [key, field, check](RunConfig& c, const ParamValue& value) {
            const auto* v = std::get_if<std::string>(&value);
            if (!v) throw_type_error(key, "a string", value);
            try {
              check(*v);
            } catch (const InputError& e) {
              throw InputError("key '" + std::string(key) + "': " + e.what());
            }
            c.*field = *v;
          }};
}

/// A parameter that is one of a set of names, held as the typed value `parse` makes of it (the
/// configuration boundary: below the table no option is a string). `name` writes it back, so files,
/// canonical JSON and run keys keep the names.
template <class T, class Parse, class Name>
ParamSpec choice_param(std::string_view key, std::string_view help, T RunConfig::*field, Parse parse,
                       Name name) {
  return {key, ParamType::String, help,
          [field, name](const RunConfig& c) { return ParamValue(std::string(name(c.*field))); },
          [key, field, parse](RunConfig& c, const ParamValue& value) {
            const auto* v = std::get_if<std::string>(&value);
            if (!v) throw_type_error(key, "a string", value);
            try {
              c.*field = parse(*v);
            } catch (const InputError& e) {
              throw InputError("key '" + std::string(key) + "': " + e.what());
            }
          }};
}

std::vector<ParamSpec> build_parameter_table() {
  const auto any_name = [](const std::string&) {};
  // make_backend names the back ends compiled in when the name is unknown.
  const auto backend_name = [](const std::string& name) {
    if (name != "auto") (void)make_backend(name);
  };
  // Whether the target suits data.dim is a cross-field check in validate_run_config.
  const auto target_kind = [](std::string_view name) { return parse_target_kind(name); };
  const auto activation = [](std::string_view name) { return parse_activation(name, "activation"); };
  constexpr Bound kPositive{0.0, false};
  constexpr Bound kNonNegative{0.0, true};
  using RC = RunConfig;
  std::vector<ParamSpec> table;
  table.push_back(string_param("data.file",
                               "CSV data file (columns x..., y[, y_clean]); empty: generate the data",
                               &RC::data_file, any_name));
  table.push_back(int_param("data.n", "number of generated samples", &RC::n, 1));
  table.push_back(int_param("data.dim", "input dimension d of generated data", &RC::dim, 1));
  table.push_back(choice_param("data.inputs", "input law: uniform, gaussian, laplace or grid",
                               &RC::inputs, parse_input_law, input_law_name));
  table.push_back(double_param("data.lo", "lower end of the input interval (uniform, grid)",
                               &RC::lo, std::nullopt));
  table.push_back(double_param("data.hi", "upper end of the input interval (uniform, grid)",
                               &RC::hi, std::nullopt));
  table.push_back(choice_param("data.target",
                               "clean target: sin3, cubic, abs, tent, sawtooth, zero, linear, pyramid or bump",
                               &RC::target, target_kind, target_kind_name));
  table.push_back(double_param("data.noise", "standard deviation of the Gaussian label noise",
                               &RC::noise, kNonNegative));
  table.push_back(uint_param("data.seed", "seed of the generated inputs and noise", &RC::data_seed));
  table.push_back(choice_param("data.source",
                               "generated, or a binary image task from fashion-mnist, digits (scikit-"
                               "learn 8x8) or idx (data.idx_images, data.idx_labels)",
                               &RC::source, parse_data_source, data_source_name));
  table.push_back(string_param("data.idx_images", "data.source = idx: the IDX images file",
                               &RC::idx_images, any_name));
  table.push_back(string_param("data.idx_labels", "data.source = idx: the IDX labels file",
                               &RC::idx_labels, any_name));
  table.push_back(choice_param("data.classes",
                               "image sources: \"a,b\": class a is labelled +1, class b -1",
                               &RC::classes, parse_class_pair, format_class_pair));
  table.push_back(int_param("data.n_val",
                            "validation / test samples (images: from the rest of the set, half per "
                            "class; generated: fresh draws of the same law); 0: none",
                            &RC::n_val, 0));
  table.push_back(bool_param("data.center", "image sources: subtract the training mean image",
                             &RC::center));
  table.push_back(int_param("model.width", "number of hidden ReLU neurons k", &RC::width, 1));
  table.push_back(choice_param("model.init",
                               "initialisation: torch, kaiming, scaled, balanced, or data_knots (d = 1: "
                               "knots spread over the gaps between the training inputs, |w1| = "
                               "init_scale, output layer 0)",
                               &RC::init, parse_init_scheme, init_scheme_name));
  table.push_back(double_param("model.init_scale",
                               "scale of the scaled and balanced initialisations; |w1| of data_knots",
                               &RC::init_scale, kPositive));
  table.push_back(int_param("model.depth", "hidden layers: 1, or 2 (f = w3 relu(W2 relu(W1 x + b1) + b2) + b3)",
                            &RC::depth, 1));
  table.push_back(int_param("model.width2", "second hidden width (depth 2); 0: model.width",
                            &RC::width2, 0));
  table.push_back(choice_param("model.activation", "relu, or gelu (depth 1; paper 4's variant)",
                               &RC::activation, activation, activation_name));
  table.push_back(choice_param("optim.optimizer",
                               "gd (SGD when optim.batch > 0) or adam (torch.optim.Adam defaults)",
                               &RC::optimizer, parse_optimizer, optimizer_name));
  table.push_back(choice_param("optim.fit_output",
                               "none, or min_norm: before the steps, replace the output layer (w2, b2) "
                               "by the minimum-norm least-squares solution for the fixed first layer "
                               "(interpolating when the features have rank n)",
                               &RC::fit_output, parse_output_fit, output_fit_name));
  table.push_back(int_param("optim.batch", "SGD batch size; 0 (or >= n): full-batch GD", &RC::batch, 0));
  table.push_back(double_param("optim.eta", "step size", &RC::eta, kPositive));
  table.push_back(choice_param("optim.loss",
                               "half_mse (1/(2n) sum r^2, the papers') or mse (1/n sum r^2, "
                               "torch.nn.MSELoss: gradient and Hessian twice as large)",
                               &RC::loss, parse_loss, loss_name));
  table.push_back(double_param("optim.warmup_from",
                               "> 0: start the step size here and ramp geometrically to eta",
                               &RC::warmup_from, kNonNegative));
  table.push_back(int_param("optim.warmup_steps", "length of the warm-up ramp in steps",
                            &RC::warmup_steps, 0));
  table.push_back(double_param("optim.switch_factor",
                               "multiply the step size by this once the loss falls below switch_below",
                               &RC::switch_factor, kPositive));
  table.push_back(double_param("optim.switch_below", "loss threshold of the step-size switch (0: never)",
                               &RC::switch_below, kNonNegative));
  table.push_back(int_param("optim.max_steps", "maximum number of steps", &RC::max_steps, 0));
  table.push_back(double_param("optim.loss_tol", "converged once the loss stays below this ...",
                               &RC::loss_tol, kNonNegative));
  table.push_back(int_param("optim.patience", "... for this many consecutive steps", &RC::patience, 1));
  table.push_back(double_param("optim.divergence_loss",
                               "a loss above this (or not finite) ends the run as diverged",
                               &RC::divergence_loss, kPositive));
  table.push_back(double_param("optim.grad_tol",
                               "> 0: also converged once the full-batch gradient norm stays below "
                               "this (for optim.patience steps); 0: off",
                               &RC::grad_tol, kNonNegative));
  table.push_back(int_param("measure.log_every", "log a row every this many steps (0: no log)",
                            &RC::log_every, 0));
  table.push_back(double_param("measure.log_growth",
                               "> 1: also log at steps 0, 1, 2, ... spaced by this factor (log step "
                               "axis); 0: off",
                               &RC::log_growth, kNonNegative));
  table.push_back(bool_param("measure.log_sharpness", "measure the sharpness in each log row",
                             &RC::log_sharpness));
  table.push_back(bool_param("measure.final_analysis",
                             "sharpness, weighted TV, knots and bounds at the end", &RC::final_analysis));
  table.push_back(bool_param("measure.save_net", "store the final network", &RC::save_net));
  table.push_back(bool_param("measure.flattest",
                             "flattest implementation over per-neuron rescalings (Mulayoff et al. "
                             "2021, App. XI; our method)",
                             &RC::flattest));
  table.push_back(bool_param("measure.alignment",
                             "neurons' cosines with the linear teacher and the extremal vectors of "
                             "D_n (Boursier and Flammarion 2025)",
                             &RC::alignment));
  table.push_back(bool_param("measure.kinks",
                             "switching-system modes at knots on data points: Lemmas 2 and 3 of "
                             "Mulayoff et al. 2021",
                             &RC::kinks));
  table.push_back(bool_param("measure.knot_stats",
                             "quantiles of active knots and their distances to the inputs (d = 1; "
                             "Qiao et al. 2024)",
                             &RC::knot_stats));
  table.push_back(double_param("measure.interior_margin",
                               "mse_interior uses [x_min + m w, x_max - m w], w = x_max - x_min",
                               &RC::interior_margin, kNonNegative, 0.5));
  table.push_back(int_param("measure.grid_points",
                            "grid points of mse_full and mse_interior (d = 1, generated data)",
                            &RC::grid_points, 2));
  // Added after results were first stored: keyed only when set (ParamSpec::keyed_when_set).
  const auto keyed_when_set = [](ParamSpec spec) {
    spec.keyed_when_set = true;
    return spec;
  };
  table.push_back(keyed_when_set(int_param(
      "measure.top_k", "> 0: the k largest Hessian eigenvalues at the end, with residuals (Lanczos)",
      &RC::spectrum_top_k, 0)));
  table.push_back(keyed_when_set(bool_param(
      "measure.lambda_min", "the smallest Hessian eigenvalue at the end, with its residual",
      &RC::spectrum_lambda_min)));
  table.push_back(keyed_when_set(int_param(
      "measure.trace_samples",
      "> 0: the Hessian trace at the end by Hutchinson's estimator with this many Rademacher probes, "
      "and its standard error",
      &RC::trace_samples, 0)));
  table.push_back(keyed_when_set(uint_param(
      "measure.spectrum_seed", "seed of the Lanczos start vector and the probes of measure.top_k, "
      "lambda_min and trace_samples", &RC::spectrum_seed)));
  table.push_back(uint_param("run.seed", "seed of the initialisation and the SGD batches", &RC::seed));
  table.push_back(string_param("run.backend",
                               "auto (ReLU: sorted-knot 'univariate' for data.dim = 1, else 'cpu'; "
                               "GeLU: 'cpu-gelu') or a back-end name of model.activation",
                               &RC::backend, backend_name));
  return table;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char ch : text) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(ch));
          out += escaped;
        } else {
          out += ch;  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
}

}  // namespace

std::string format_param_value(const ParamValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  const double d = std::get<double>(value);
  if (d == 0.0) return "0";  // one spelling for +0 and -0, which compare equal
  return format_number(d);
}

namespace detail {

std::string json_value(const ParamSpec& spec, const ParamValue& value) {
  std::string out;
  if (spec.type == ParamType::UInt) {
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
      return std::to_string(static_cast<std::uint64_t>(*i));
    }
  }
  if (spec.type == ParamType::Double) {
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
      return format_param_value(ParamValue(static_cast<double>(*i)));
    }
  }
  if (const auto* s = std::get_if<std::string>(&value)) {
    append_json_string(out, *s);
    return out;
  }
  return format_param_value(value);
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

}  // namespace detail

std::span<const ParamSpec> run_parameters() {
  static const std::vector<ParamSpec> table = build_parameter_table();
  return table;
}

const ParamSpec* find_parameter(std::string_view key) {
  for (const ParamSpec& spec : run_parameters()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

std::string canonical_json(const RunConfig& config) {
  const RunConfig defaults;
  std::string out = "{";
  bool first = true;
  for (const ParamSpec& spec : run_parameters()) {
    const std::string value = detail::json_value(spec, spec.get(config));
    if (spec.keyed_when_set && value == detail::json_value(spec, spec.get(defaults))) continue;
    if (!first) out += ',';
    first = false;
    append_json_string(out, spec.key);
    out += ':';
    out += value;
  }
  out += '}';
  return out;
}

namespace {

std::uint64_t fnv1a_64(std::string_view text) {
  constexpr std::uint64_t kOffsetBasis = 0xcbf29ce484222325ULL;
  constexpr std::uint64_t kPrime = 0x100000001b3ULL;
  std::uint64_t hash = kOffsetBasis;
  for (const char ch : text) {
    hash ^= static_cast<unsigned char>(ch);
    hash *= kPrime;
  }
  return hash;
}

}  // namespace

std::string run_key(const RunConfig& config) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a_64(canonical_json(config))));
  return std::string(hex, 16);
}

ClassPair parse_class_pair(std::string_view text) {
  const std::string expected =
      "expected two class labels \"a,b\" (integers >= 0), got '" + std::string(text) + "'";
  const auto comma = text.find(',');
  auto parse_label = [&](std::string_view part) {
    int value = -1;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (error != std::errc() || end != part.data() + part.size() || value < 0) throw InputError(expected);
    return value;
  };
  if (comma == std::string_view::npos) throw InputError(expected);
  const ClassPair classes{parse_label(text.substr(0, comma)), parse_label(text.substr(comma + 1))};
  if (classes.positive == classes.negative) {
    throw InputError("expected two different classes, got '" + std::string(text) + "'");
  }
  return classes;
}

std::string format_class_pair(const ClassPair& classes) {
  return std::to_string(classes.positive) + "," + std::to_string(classes.negative);
}

namespace {

/// A name table of an enum: parse and name from the one list, so they cannot disagree.
template <class E, std::size_t N>
E parse_choice(const std::pair<E, std::string_view> (&names)[N], std::string_view name,
               std::string_view what) {
  std::string choices;
  for (const auto& [value, known] : names) {
    if (known == name) return value;
    choices += (choices.empty() ? "" : ", ") + std::string(known);
  }
  throw InputError(std::string(what) + " '" + std::string(name) + "': expected one of " + choices);
}

template <class E, std::size_t N>
std::string_view choice_name(const std::pair<E, std::string_view> (&names)[N], E value) {
  for (const auto& [known, name] : names) {
    if (known == value) return name;
  }
  return "unknown";
}

constexpr std::pair<InitScheme, std::string_view> kInitSchemes[] = {
    {InitScheme::Torch, "torch"},         {InitScheme::Kaiming, "kaiming"},
    {InitScheme::Scaled, "scaled"},       {InitScheme::Balanced, "balanced"},
    {InitScheme::DataKnots, "data_knots"}, {InitScheme::Pyramid, "pyramid"},
};
constexpr std::pair<OutputLayerFit, std::string_view> kOutputFits[] = {
    {OutputLayerFit::None, "none"},
    {OutputLayerFit::MinNorm, "min_norm"},
};

}  // namespace

InitScheme parse_init_scheme(std::string_view name) {
  return parse_choice(kInitSchemes, name, "initialisation");
}
std::string_view init_scheme_name(InitScheme scheme) { return choice_name(kInitSchemes, scheme); }
OutputLayerFit parse_output_fit(std::string_view name) {
  return parse_choice(kOutputFits, name, "output fit");
}
std::string_view output_fit_name(OutputLayerFit fit) { return choice_name(kOutputFits, fit); }

InitKind init_kind_of(InitScheme scheme) {
  switch (scheme) {
    case InitScheme::Torch: return InitKind::TorchUniform;
    case InitScheme::Kaiming: return InitKind::KaimingNormal;
    case InitScheme::Scaled: return InitKind::Scaled;
    case InitScheme::Balanced: return InitKind::SmallBalanced;
    case InitScheme::DataKnots:
    case InitScheme::Pyramid: break;
  }
  throw InputError("initialisation '" + std::string(init_scheme_name(scheme)) +
                   "' is a construction, not a random initialisation");
}

namespace {

/// The checks between the keys of the newer experiment kinds (image data, depth 2, GeLU, Adam,
/// alignment): combinations the code cannot run are refused before training.
void validate_model_combinations(const RunConfig& config) {
  require(config.depth <= 2, "key 'model.depth': expected 1 or 2, got " + std::to_string(config.depth));
  const bool relu_only_measures = config.flattest || config.kinks || config.knot_stats;
  if (config.depth == 2) {
    require(config.activation == Activation::Relu, "key 'model.activation': depth 2 nets are ReLU nets");
    require(config.optimizer == Optimizer::GD, "key 'optim.optimizer': depth 2 nets train with gd only");
    require(!relu_only_measures && !config.alignment,
            "keys 'measure.flattest/kinks/knot_stats/alignment' are for depth 1 nets");
    require(config.init != InitScheme::Balanced && config.init != InitScheme::DataKnots,
            "key 'model.init': depth 2 nets take torch, kaiming, scaled or pyramid");
    require(config.fit_output == OutputLayerFit::None, "key 'optim.fit_output': for depth 1 nets");
  } else {
    require(config.init != InitScheme::Pyramid, "key 'model.init': 'pyramid' is the exact depth 2 "
                                      "representation; set model.depth = 2");
  }
  if (config.depth == 1 && config.backend != "auto") {
    // A back end computes with its own activation, so it decides what the net is: it must be the
    // model's (model.activation = gelu with run.backend = auto runs on cpu-gelu).
    const std::string backend_activation(
        activation_name(make_backend(config.backend)->activation()));
    require(backend_activation == activation_name(config.activation),
            "keys 'run.backend' and 'model.activation': back end '" + config.backend + "' computes " +
                backend_activation + " nets, but model.activation = " +
                std::string(activation_name(config.activation)));
  }
  if (config.activation == Activation::Gelu) {
    require(!relu_only_measures, "keys 'measure.flattest/kinks/knot_stats' analyse ReLU nets, not "
                                 "model.activation = gelu");
    require(config.fit_output == OutputLayerFit::None, "key 'optim.fit_output': min_norm fits ReLU features, not "
                                         "model.activation = gelu");
  }
  require(config.init != InitScheme::DataKnots || config.source == DataSource::Generated,
          "key 'model.init': data_knots places knots between scalar inputs (data.dim = 1), not "
          "between images");
  if (config.alignment) {
    require(config.source == DataSource::Generated && config.target == Target::Kind::LinearTeacher,
            "key 'measure.alignment': needs the linear teacher (data.target = \"linear\")");
  }
  if (config.source != DataSource::Generated) {
    require(config.data_file.empty(), "keys 'data.file' and 'data.source': give one of them");
    require(config.source != DataSource::Idx || (!config.idx_images.empty() && !config.idx_labels.empty()),
            "keys 'data.idx_images' and 'data.idx_labels': needed for data.source = \"idx\"");
  }
}

}  // namespace

void validate_run_config(const RunConfig& config) {
  // Each field's own range, by passing its value back through the table's setter. Unsigned fields
  // hold any uint64 and need no check (their int64 view may be negative above 2^63 - 1).
  RunConfig scratch;
  for (const ParamSpec& spec : run_parameters()) {
    if (spec.type != ParamType::UInt) spec.set(scratch, spec.get(config));
  }
  // Sizes against the stated limits first: the products below cannot overflow after this.
  limits::require_in_range(config.width, limits::kMaxWidth, "key 'model.width'");
  if (config.width2 > 0) limits::require_in_range(config.width2, limits::kMaxWidth, "key 'model.width2'");
  limits::require_in_range(config.n, limits::kMaxSamples, "key 'data.n'");
  if (config.n_val > 0) limits::require_in_range(config.n_val, limits::kMaxSamples, "key 'data.n_val'");
  limits::require_in_range(config.dim, limits::kMaxInputDim, "key 'data.dim'");
  validate_model_combinations(config);
  require(config.log_growth == 0.0 || config.log_growth >= 1.0,
          "key 'measure.log_growth' expects 0 (off) or a number >= 1, got " +
              format_param_value(ParamValue(config.log_growth)));
  // The remaining checks concern generated data.
  if (!config.data_file.empty() || config.source != DataSource::Generated) return;
  limits::require_data_size(config.n, config.dim, "keys 'data.n' and 'data.dim'");
  if (config.n_val > 0) limits::require_data_size(config.n_val, config.dim, "keys 'data.n_val' and 'data.dim'");
  const std::int64_t n_params =
      limits::checked_shallow_params(config.dim, config.width, "keys 'data.dim' and 'model.width'");
  // The dense eigenproblems of the optional measurements, refused before training rather than after.
  if (config.kinks) {
    const Index limit = KinkOptions{}.dense_max;
    require(n_params <= limit, "key 'measure.kinks': the mode Hessians are dense, P = model.width x "
                               "(data.dim + 2) + 1 = " + std::to_string(n_params) +
                                   " parameters is above " + std::to_string(limit));
  }
  if (config.flattest) {
    const Index limit = FlattestOptions{}.dense_max;
    require(std::min(config.n, n_params) <= limit,
            "key 'measure.flattest': the eigenproblems have size min(data.n, P) = " +
                std::to_string(std::min(config.n, n_params)) + ", above " + std::to_string(limit));
  }
  const InputLaw law = config.inputs;
  if (law == InputLaw::Uniform || law == InputLaw::Grid) {
    require(config.lo < config.hi, "keys 'data.lo' and 'data.hi': expected lo < hi for inputs '" +
                                       std::string(input_law_name(law)) + "', got lo = " +
                                       format_param_value(ParamValue(config.lo)) +
                                       ", hi = " + format_param_value(ParamValue(config.hi)));
  }
  require(config.init != InitScheme::DataKnots || config.dim == 1,
          "key 'model.init': data_knots needs data.dim = 1 (knots between scalar inputs), got dim = " +
              std::to_string(config.dim));
  if (law == InputLaw::Grid) {
    require(config.dim == 1, "key 'data.dim': inputs 'grid' need dim = 1, got " +
                                 std::to_string(config.dim));
    require(config.n >= 2, "key 'data.n': inputs 'grid' need n >= 2 (both endpoints), got " +
                               std::to_string(config.n));
  }
  try {
    Rng unused(0);
    make_target(config.target, static_cast<Index>(config.dim), unused);
  } catch (const InputError& e) {
    throw InputError("key 'data.target' with data.dim = " + std::to_string(config.dim) + ": " +
                     e.what());
  }
}

}  // namespace relustab
