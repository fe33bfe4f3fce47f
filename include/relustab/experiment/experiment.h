// SPDX-License-Identifier: MIT
// An experiment: a base run configuration and sweep axes, expanded into the list of runs.
#pragma once

#include <relustab/experiment/run_config.h>

#include <string>
#include <vector>

namespace relustab {

/// The name of the axis whose values each set several keys (a "case"); see detail::encode_case.
inline constexpr std::string_view kCasesAxis = "cases";

/// One sweep axis: a parameter key and the values it takes. The axis named kCasesAxis holds cases:
/// string values made by detail::encode_case, each setting several keys at once.
struct SweepAxis {
  std::string key;
  std::vector<ParamValue> values;
};

struct ExperimentSpec {
  std::string name;
  RunConfig base;
  std::vector<SweepAxis> axes;  ///< Cartesian product, first axis slowest
};

/// All runs of the experiment in a fixed order (first axis slowest, last fastest). Throws
/// InputError if an axis is empty or names an unknown key.
std::vector<RunConfig> expand_runs(const ExperimentSpec& spec);

namespace detail {
/// A case as one string value: "key=value" pairs (format_param_value) joined by '\n'.
std::string encode_case(const std::vector<std::pair<std::string, ParamValue>>& settings);
/// Applies an encoded case to `config` through the parameter table; InputError for an unknown key or
/// a value its type cannot read.
void apply_case(const std::string& encoded, RunConfig& config);
}  // namespace detail

/// The experiment as canonical JSON (name, base config, axes): stored with the results.
std::string experiment_json(const ExperimentSpec& spec);

}  // namespace relustab
