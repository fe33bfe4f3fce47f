// SPDX-License-Identifier: MIT
// An experiment: a base run configuration and sweep axes, expanded into the list of runs.
#pragma once

#include <relustab/experiment/run_config.h>

#include <string>
#include <vector>

namespace relustab {

/// One sweep axis: a parameter key and the values it takes.
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

/// The experiment as canonical JSON (name, base config, axes): stored with the results.
std::string experiment_json(const ExperimentSpec& spec);

}  // namespace relustab
