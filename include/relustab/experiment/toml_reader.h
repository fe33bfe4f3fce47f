// SPDX-License-Identifier: MIT
// Reading experiment files (TOML). Part of relustab::config; the core never sees TOML.
#pragma once

#include <relustab/experiment/experiment.h>

#include <string>
#include <vector>

namespace relustab::config {

/// Reads an experiment file:
///
///   name = "eta-sweep"
///   include = "base.toml"            # optional; read first, this file overrides it (recursively,
///                                    # relative to this file; include cycles are errors)
///   [data]    n = 30, target = "sin3", noise = 0.3, seed = 1, file = "data.csv", ...
///   [model]   width = 100, init = "torch", init_scale = 1.0
///   [optim]   eta = 0.1, batch = 0, max_steps = 10000, loss_tol = 1e-6, patience = 200, ...
///   [measure] log_every = 1000, log_sharpness = false, final_analysis = true, save_net = true
///   [run]     seed = 0
///   [sweep]   "optim.eta" = [0.01, 0.1]                    # a list
///             "optim.eta" = { log = [0.001, 0.1], num = 5 } # or a log / linear range
///             seeds = [1, 2, 3]  or  seeds = { count = 100 } # shorthand for "run.seed"
///
/// Keys are those of run_parameters() (section.key). Unknown keys, wrong types, out-of-range values
/// and empty axes throw InputError naming the file, the line and the key. `overrides` are
/// "key=value" strings applied last (command-line --set).
///
/// Details:
///  - Sweep axes keep the order in which the file writes them (first axis slowest). An axis is a list
///    of values of the key's type, or a range: {log = [a, b], num = N} (geometric, a, b > 0) or
///    {linear = [a, b], num = N}, endpoints included exactly; for integer keys a linear range must
///    land on integers and a log range is rounded to distinct integers; {start = S, count = N} gives
///    S, S+1, ..., S+N-1 for integer keys. Axis keys may be quoted ("optim.eta") or dotted (optim.eta).
///  - Include: the included file is applied first, then this file key by key; this file's axes
///    replace included axes of the same key (in place) and append new ones; `name` is the last one
///    set, else the stem of the file name.
///  - data.file, when relative, is relative to the file that sets it (for overrides: the working
///    directory) and is stored absolute, so run keys do not depend on where a sweep is started.
///  - An override of a swept key removes that axis (the command line wins over the file).
ExperimentSpec read_experiment(const std::string& path,
                               const std::vector<std::string>& overrides = {});

/// The same from text (`name` is used in messages and to resolve includes relative to `base_dir`).
ExperimentSpec parse_experiment(const std::string& text, const std::string& name,
                                const std::string& base_dir,
                                const std::vector<std::string>& overrides = {});

}  // namespace relustab::config
