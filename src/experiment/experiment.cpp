// SPDX-License-Identifier: MIT
// Expanding an experiment's sweep axes into its runs, and the experiment's canonical JSON.
#include <relustab/experiment/experiment.h>

#include <relustab/core/error.h>

#include <cstdint>
#include <string>
#include <vector>

namespace relustab {
namespace {

/// A guard against a sweep whose run list would not fit in memory (a RunConfig is a few hundred
/// bytes, so this is a few GB); real sweeps are 10^3 to 10^5 runs.
constexpr std::int64_t kMaxRuns = 10'000'000;

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

std::vector<RunConfig> expand_runs(const ExperimentSpec& spec) {
  std::vector<const ParamSpec*> parameters;
  std::int64_t count = 1;
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    const SweepAxis& axis = spec.axes[a];
    const ParamSpec& parameter = axis_parameter(axis);
    require(!axis.values.empty(), "sweep axis '" + axis.key + "' has no values");
    for (std::size_t b = 0; b < a; ++b) {
      require(spec.axes[b].key != axis.key, "sweep axis '" + axis.key + "' is given twice");
    }
    // Each value on its own first, so that a bad one is reported without the rest of the run.
    RunConfig scratch = spec.base;
    for (const ParamValue& value : axis.values) parameter.set(scratch, value);
    const auto size = static_cast<std::int64_t>(axis.values.size());
    require(count <= kMaxRuns / size, "sweep: more than " + std::to_string(kMaxRuns) +
                                          " runs; split the experiment into several");
    count *= size;
    parameters.push_back(&parameter);
  }

  std::vector<RunConfig> runs;
  runs.reserve(static_cast<std::size_t>(count));
  // An odometer over the axes: the last axis turns fastest.
  std::vector<std::size_t> at(spec.axes.size(), 0);
  for (std::int64_t r = 0; r < count; ++r) {
    RunConfig config = spec.base;
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
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
    const ParamSpec& parameter = axis_parameter(axis);
    if (a > 0) out += ',';
    out += "{\"key\":" + detail::json_string(axis.key) + ",\"values\":[";
    for (std::size_t v = 0; v < axis.values.size(); ++v) {
      if (v > 0) out += ',';
      out += detail::json_value(parameter, axis.values[v]);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

}  // namespace relustab
