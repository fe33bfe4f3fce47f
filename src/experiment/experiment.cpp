// SPDX-License-Identifier: MIT
// Expanding an experiment's sweep axes into its runs, and the experiment's canonical JSON.
#include <relustab/experiment/experiment.h>

#include <relustab/core/error.h>
#include <relustab/core/limits.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace relustab {
namespace {

/// A guard against a sweep whose run list would not fit in memory (a RunConfig is a few hundred
/// bytes, so this is a few GB); real sweeps are 10^3 to 10^5 runs.
constexpr std::int64_t kMaxRuns = limits::kMaxRuns;

const ParamSpec& axis_parameter(const SweepAxis& axis) {
  const ParamSpec* spec = find_parameter(axis.key);
  require(spec != nullptr, "sweep axis '" + axis.key + "': unknown key");
  return *spec;
}

/// "optim.eta = 0.1, run.seed = 3": the axis values of one run, for messages.
std::string describe_run(const std::vector<SweepAxis>& axes, const std::vector<std::size_t>& at) {
  std::string text;
  for (std::size_t a = 0; a < axes.size(); ++a) {
    if (a > 0) text += ", ";
    text += axes[a].key + " = " + format_param_value(axes[a].values[at[a]]);
  }
  return text;
}

}  // namespace

namespace detail {

std::string encode_case(const std::vector<std::pair<std::string, ParamValue>>& settings) {
  std::string out;
  for (const auto& [key, value] : settings) {
    if (!out.empty()) out += '\n';
    out += key + "=" + format_param_value(value);
  }
  return out;
}

void apply_case(const std::string& encoded, RunConfig& config) {
  std::size_t begin = 0;
  while (begin <= encoded.size()) {
    const std::size_t end = std::min(encoded.find('\n', begin), encoded.size());
    const std::string item = encoded.substr(begin, end - begin);
    const std::size_t equals = item.find('=');
    require(equals != std::string::npos, "sweep case: expected key=value, got '" + item + "'");
    const std::string key = item.substr(0, equals), text = item.substr(equals + 1);
    const ParamSpec* spec = find_parameter(key);
    require(spec != nullptr, "sweep case: unknown key '" + key + "'");
    // format_param_value writes doubles in shortest round-trip form, so reading back is exact.
    try {
      switch (spec->type) {
        case ParamType::Int:
        case ParamType::UInt:  // held as its int64 view, and written so by format_param_value
          spec->set(config, ParamValue(std::int64_t{std::stoll(text)}));
          break;
        case ParamType::Double: spec->set(config, ParamValue(std::stod(text))); break;
        case ParamType::Bool: spec->set(config, ParamValue(text == "true")); break;
        case ParamType::String: spec->set(config, ParamValue(text)); break;
      }
    } catch (const std::logic_error&) {
      throw InputError("sweep case: key '" + key + "': cannot read '" + text + "'");
    }
    begin = end + 1;
  }
}

}  // namespace detail

std::vector<RunConfig> expand_runs(const ExperimentSpec& spec) {
  std::vector<const ParamSpec*> parameters;
  std::int64_t count = 1;
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    const SweepAxis& axis = spec.axes[a];
    const bool cases = axis.key == kCasesAxis;
    const ParamSpec* parameter = cases ? nullptr : &axis_parameter(axis);
    require(!axis.values.empty(), "sweep axis '" + axis.key + "' has no values");
    for (std::size_t b = 0; b < a; ++b) {
      require(spec.axes[b].key != axis.key, "sweep axis '" + axis.key + "' is given twice");
    }
    // Each value on its own first, so that a bad one is reported without the rest of the run.
    RunConfig scratch = spec.base;
    for (const ParamValue& value : axis.values) {
      if (cases) {
        const auto* text = std::get_if<std::string>(&value);
        require(text != nullptr, "sweep axis 'cases': expected encoded cases");
        detail::apply_case(*text, scratch);
      } else {
        parameter->set(scratch, value);
      }
    }
    const auto size = static_cast<std::int64_t>(axis.values.size());
    require(count <= kMaxRuns / size, "sweep: more than " + std::to_string(kMaxRuns) +
                                          " runs; split the experiment into several");
    count *= size;
    parameters.push_back(parameter);  // null for the cases axis
  }

  std::vector<RunConfig> runs;
  runs.reserve(static_cast<std::size_t>(count));
  // An odometer over the axes: the last axis turns fastest.
  std::vector<std::size_t> at(spec.axes.size(), 0);
  for (std::int64_t r = 0; r < count; ++r) {
    RunConfig config = spec.base;
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      if (parameters[a] == nullptr) {
        detail::apply_case(std::get<std::string>(spec.axes[a].values[at[a]]), config);
        continue;
      }
      parameters[a]->set(config, spec.axes[a].values[at[a]]);
    }
    try {
      validate_run_config(config);
    } catch (const InputError& e) {
      if (spec.axes.empty()) throw;
      throw InputError("sweep run " + std::to_string(r) + " (" + describe_run(spec.axes, at) +
                       "): " + e.what());
    }
    runs.push_back(std::move(config));
    for (std::size_t a = spec.axes.size(); a-- > 0;) {
      if (++at[a] < spec.axes[a].values.size()) break;
      at[a] = 0;
    }
  }
  return runs;
}

std::string experiment_json(const ExperimentSpec& spec) {
  std::string out = "{\"name\":" + detail::json_string(spec.name);
  out += ",\"base\":" + canonical_json(spec.base);
  out += ",\"axes\":[";
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    const SweepAxis& axis = spec.axes[a];
    if (a > 0) out += ',';
    out += "{\"key\":" + detail::json_string(axis.key) + ",\"values\":[";
    for (std::size_t v = 0; v < axis.values.size(); ++v) {
      if (v > 0) out += ',';
      // A case is its encoded text; every other value is typed by its parameter.
      out += axis.key == kCasesAxis ? detail::json_string(std::get<std::string>(axis.values[v]))
                                    : detail::json_value(axis_parameter(axis), axis.values[v]);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

}  // namespace relustab
