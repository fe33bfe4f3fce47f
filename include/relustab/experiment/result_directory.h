// SPDX-License-Identifier: MIT
// A results directory as a whole: the shards of a job-array sweep (DIR/shard-i-of-N), the status of
// a directory read without the writer lock, and merging the shards. Part of relustab::store.
#pragma once

#include <relustab/experiment/experiment.h>
#include <relustab/experiment/result_store.h>
#include <relustab/experiment/sweep.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relustab::store {

/// The database file of a results directory.
inline constexpr const char* kDatabaseFileName = "results.sqlite";

/// Shard `index` of `count`: the runs whose id - 1 is `index` modulo `count`.
struct Shard {
  int index = 0;
  int count = 1;
};

/// "i/N" with 0 <= i < N. Throws InputError "expected i/N with 0 <= i < N ..." otherwise.
Shard parse_shard(std::string_view text);
/// "shard-i-of-N", the directory a shard's sweep writes under the results directory.
std::string shard_dir_name(const Shard& shard);
/// The shard a directory named shard-i-of-N holds (by its last path component), if its name is one.
std::optional<Shard> shard_of(const std::string& dir);
/// The subdirectories DIR/shard-i-of-N, ordered by (N, i).
std::vector<std::pair<Shard, std::string>> find_shards(const std::string& dir);

/// The results directory of a sweep of the experiment file `experiment_path`: `out` or, when empty,
/// runs/NAME under the working directory (NAME the file's name without its extension); with a
/// shard, its subdirectory shard-i-of-N.
std::string sweep_directory(const std::string& experiment_path, const std::string& out,
                            const std::optional<Shard>& shard = std::nullopt);
/// The options of a sweep on `jobs` threads, of `shard` when given (else of every run).
SweepOptions sweep_options(int jobs, const std::optional<Shard>& shard = std::nullopt);
/// Opens (creating it and its directory) DIR/results.sqlite for a sweep of `spec` and registers the
/// experiment's runs: a new directory, the same experiment again (the sweep resumes) or the same
/// experiment with axes extended (the new runs are added); anything else throws InputError naming
/// the keys that differ (ResultStore::register_runs).
std::unique_ptr<ResultStore> open_sweep_store(const std::string& dir, const ExperimentSpec& spec);
/// A sweep on this machine: open_sweep_store(dir, spec), then run_sweep on options.jobs threads, each
/// data file and image set read once for all runs (cached_run_inputs). Resumable: runs finished
/// by an earlier invocation are kept. An exception from `progress` stops the sweep as described at
/// drain_queue; the runs it left marked running are redone by the next sweep of the directory.
SweepProgress sweep_experiment(const ExperimentSpec& spec, const std::string& dir,
                               const SweepOptions& options,
                               const SweepProgressCallback& progress = {});

/// Counts of runs by status.
struct StatusCounts {
  std::string experiment_name;
  std::int64_t total = 0, pending = 0, running = 0, done = 0, failed = 0;
};

/// The counts of DIR/results.sqlite, read read-only and without the writer lock, so it works while a
/// sweep writes (WAL readers see the last committed transaction); with a shard, only that shard's
/// runs (the ones its sweep executes). Throws InputError naming the file when it is missing, not a
/// relustab database, or of a newer schema.
StatusCounts read_status(const std::string& dir, const std::optional<Shard>& shard = std::nullopt);

/// The status of a results directory: its own database (of its shard's runs only when the directory
/// is itself a shard-i-of-N) or, without one, the sum over its shard directories; and each shard's.
struct DirectoryStatus {
  bool has_database = false;
  StatusCounts overall;
  std::vector<std::pair<std::string, StatusCounts>> shards;  ///< (shard directory, its counts)
};
/// Throws InputError when `dir` is not a directory or has neither a database nor shards.
DirectoryStatus directory_status(const std::string& dir);

/// The export of a results directory (ResultStore::export_csv documents the CSV), read without the
/// writer lock and without write access to the directory: a sweep may still be writing (the export
/// is the snapshot it has committed), and a directory the user may only read exports as well.
std::string export_csv(const std::string& dir);

/// What merge_shards did.
struct MergeSummary {
  std::int64_t runs_copied = 0;       ///< finished runs copied from the shards
  std::size_t shards = 0;             ///< shard directories merged
  std::vector<int> missing_shards;    ///< indices i of the split with no shard-i-of-N (their runs stay pending)
  StoreSummary result;                ///< the merged database afterwards
  std::string database;               ///< its path
};
/// Copies every DIR/shard-i-of-N into DIR's own database (ResultStore::merge_from). Throws InputError
/// when `dir` has no shards or holds shards of different splits (N).
MergeSummary merge_shards(const std::string& dir);

}  // namespace relustab::store
