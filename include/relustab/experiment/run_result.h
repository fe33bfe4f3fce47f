// SPDX-License-Identifier: MIT
// What one finished run produces, and the pure function that produces it.
#pragma once

#include <relustab/data/dataset.h>
#include <relustab/experiment/run_config.h>

#include <functional>

#include <cstdint>
#include <string>
#include <utility>
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
  std::string reason;              ///< why it failed (e.g. "diverged at step 12: loss 3e13")
  /// Final scalar measurements: outcome code, steps, loss, mse_clean, sharpness (+residual),
  /// gn_sharpness, weighted_tv, weighted_norm, knots, lemma4_bound, two_over_eta, thm1_rhs, ...
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<LogEntry> log;
  std::string net_json;            ///< final network (relustab-net JSON), empty if not saved
  std::string backend;             ///< back end that actually ran
  double wall_seconds = 0.0;
};

/// Loads a CSV data file for runs that name one (the interface layer supplies it; the library does
/// no I/O). Called from worker threads: must be thread-safe.
using DataFileLoader = std::function<Dataset(const std::string& path)>;

/// Runs one configuration single-threaded: builds the data (generated from data.seed, or loaded),
/// initialises from run.seed, trains, measures. A diverged run is returned with status Failed and the
/// reason; bad configuration throws InputError. Deterministic: the result (wall time aside) depends
/// only on `config`.
RunResult execute_run(const RunConfig& config, const DataFileLoader& load_data);

}  // namespace relustab
