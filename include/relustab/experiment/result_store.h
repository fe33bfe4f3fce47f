// SPDX-License-Identifier: MIT
// The results database of an experiment directory (SQLite, WAL mode). Part of relustab::store.
#pragma once

#include <relustab/experiment/run_result.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace relustab::store {

/// Schema version written by this build. A database with a newer version is refused.
inline constexpr int kSchemaVersion = 1;

/// The params row of a run with data.file that holds the file's content hash (io::content_hash).
inline constexpr std::string_view kDataFileHashKey = "data.file_hash";

struct RunRow {
  std::int64_t id = 0;
  std::string key;
  std::string config_json;  ///< canonical_json of the run
  RunStatus status = RunStatus::Pending;
  std::string reason;
};

struct StoreSummary {
  std::int64_t total = 0, pending = 0, running = 0, done = 0, failed = 0;
  std::string experiment_name;
};

/// DIR/results.sqlite. Tables (schema 1):
///   meta(key PRIMARY KEY, value)                         schema_version, experiment (JSON), name
///   runs(id PRIMARY KEY, key UNIQUE, config JSON, status, reason, attempts, completions,
///        backend, wall_seconds, started_at, finished_at)
///   params(run_id, key, value)                           one row per parameter (for queries)
///   metrics(run_id, metric, value, PRIMARY KEY(run_id, metric))
///   logs(run_id, step, metric, value)
///   nets(run_id PRIMARY KEY, net JSON)
/// One writer at a time (an exclusive lock file DIR/results.lock held while open for writing).
/// runs.status is the text pending|running|done|failed; timestamps are UTC ISO 8601 text. Values in
/// params, metrics and logs keep their type (integer, real, text; booleans 0/1); a NaN metric is
/// stored as NULL (SQLite has no NaN) and exported as an empty cell.
class ResultStore {
 public:
  /// Opens (creating with `create`) the database of `dir`. Throws InputError naming the file when it
  /// is not a relustab database, has a newer schema, or is locked by another writer. Without
  /// `create`, a missing directory or database is an InputError. The lock is held until the object
  /// is destroyed (or the process dies).
  static std::unique_ptr<ResultStore> open(const std::string& dir, bool create);
  virtual ~ResultStore() = default;

  /// Records the experiment and inserts every run not yet present as pending (idempotent: re-running
  /// the same sweep adds nothing). An experiment whose axes only gained values replaces the stored
  /// one: its new runs are added, the finished ones kept. Any other difference (name, the set of axes,
  /// a dropped axis value, a fixed setting) is an InputError naming each key with both values.
  virtual void register_runs(const std::string& experiment_json, std::string_view name,
                             std::span<const RunConfig> runs) = 0;
  /// Runs left running by a process that died go back to pending.
  virtual void reset_in_flight() = 0;
  /// Pending runs in id order.
  virtual std::vector<RunRow> pending_runs() = 0;
  /// Marks runs running and counts an attempt, in one transaction. A run already done is left as it
  /// is; an unknown id is an InputError (nothing is marked).
  virtual void mark_running(std::span<const std::int64_t> ids) = 0;
  /// Stores finished runs (status, metrics, logs, net) in one transaction. A run already done is not
  /// overwritten; a failed one is replaced. A key not in the database is an InputError and nothing of
  /// the batch is stored.
  virtual void write_results(std::span<const RunResult> results) = 0;
  virtual StoreSummary summary() = 0;
  virtual std::vector<RunRow> runs() = 0;
  /// Tidy CSV (the schema is in docs/design.md): one row per run (id order) with id, key, status,
  /// reason, every parameter of run_parameters() in table order, the further params rows (e.g.
  /// data.file_hash) by name, then every metric by name. Numbers in shortest round-trip form
  /// (0.05), booleans true/false, the list data.classes as "a;b", the metric outcome as text
  /// (converged, max_steps, diverged), empty cells where a run has no such value; only free text
  /// (reason, file paths) holding a comma, quote or line break is quoted (RFC 4180).
  virtual std::string export_csv() = 0;
  /// Copies the finished runs of another experiment directory (a shard) into this one, matching
  /// runs by key: a done or failed run there replaces a run not done here (a failure does not
  /// replace a failure), with its metrics, log and network. Runs there but not here are added (as
  /// pending unless finished there). An empty directory adopts the other's experiment; a different
  /// experiment is an InputError. Reads the other database without its lock. Returns the number of
  /// runs copied.
  virtual std::int64_t merge_from(const std::string& other_dir) = 0;
};

}  // namespace relustab::store
