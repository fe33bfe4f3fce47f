// SPDX-License-Identifier: MIT
// The results database of an experiment directory: ResultStore on SQLite (WAL), one writer at a time.
#include <relustab/experiment/result_store.h>
#include <relustab/experiment/result_directory.h>

#include <relustab/core/error.h>

#include "store/sqlite_handle.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace relustab::store {
namespace {

using detail::Connection;
using detail::Statement;
using detail::Transaction;

constexpr const char* kDatabaseFile = kDatabaseFileName;
constexpr const char* kLockFile = "results.lock";
// How long a statement waits for a reader (an external sqlite3 shell, a merge reading this
// directory) to release the database before failing with SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 30000;

// Schema 1. `value` columns have no declared type on purpose: without a type affinity SQLite keeps
// each value as bound (integer, real or text), so an integer parameter stays an integer and a real
// stays the exact IEEE double (negative zero included). SQLite stores a NaN as NULL; the readers map
// NULL back to NaN.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY,
  value
);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  config TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  reason TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  completions INTEGER NOT NULL DEFAULT 0,
  backend TEXT,
  wall_seconds REAL,
  started_at TEXT,
  finished_at TEXT
);
CREATE INDEX runs_by_status ON runs(status, id);
CREATE TABLE params(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE metrics(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  metric TEXT NOT NULL,
  value,
  PRIMARY KEY (run_id, metric)
) WITHOUT ROWID;
CREATE TABLE logs(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  metric TEXT NOT NULL,
  value
);
CREATE INDEX logs_by_run ON logs(run_id, step);
CREATE TABLE nets(
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  net TEXT NOT NULL
);
)sql";

// UTC with milliseconds, e.g. 2024-05-01T12:34:56.789Z, computed by SQLite.
#define RELUSTAB_SQL_NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

std::string database_path(const std::string& dir) {
  return (std::filesystem::path(dir) / kDatabaseFile).string();
}

std::string_view status_text(RunStatus status) {
  switch (status) {
    case RunStatus::Pending: return "pending";
    case RunStatus::Running: return "running";
    case RunStatus::Done: return "done";
    case RunStatus::Failed: return "failed";
  }
  throw std::invalid_argument("unknown RunStatus");
}

RunStatus parse_status(const std::string& text, const std::string& path) {
  if (text == "pending") return RunStatus::Pending;
  if (text == "running") return RunStatus::Running;
  if (text == "done") return RunStatus::Done;
  if (text == "failed") return RunStatus::Failed;
  throw InputError(path + ": run status '" + text + "' is not one of pending, running, done, failed");
}

/// The exclusive writer lock DIR/results.lock. flock locks belong to the open file description, so
/// a second open in the same process conflicts too, and the kernel drops the lock when the process
/// dies (kill -9 included): a resumed sweep never finds a stale lock.
class WriterLock {
 public:
  explicit WriterLock(const std::string& dir) {
    const std::string path = (std::filesystem::path(dir) / kLockFile).string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw InputError(path + ": cannot open the lock file (" + std::strerror(errno) + ")");
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd_);
      if (error == EWOULDBLOCK) {
        throw InputError(dir + ": another relustab process is writing to this experiment (results.lock)");
      }
      throw InputError(path + ": cannot lock the file (" + std::strerror(error) + ")");
    }
  }
  ~WriterLock() { ::close(fd_); }  // closing the descriptor releases the lock
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  int fd_ = -1;
};

std::optional<std::string> read_meta(Connection& db, std::string_view key) {
  Statement select(db, "SELECT value FROM meta WHERE key = ?1");
  select.bind(1, key);
  if (!select.step()) return std::nullopt;
  return select.column_text(0);
}

/// Checks that `db` is empty or a relustab results database of a schema this build reads.
/// Returns false for an empty database (no tables yet).
bool holds_results_schema(Connection& db) {
  const std::string& path = db.path();
  // The first read of the schema is where SQLite notices a file that is not a database.
  sqlite3_stmt* probe = nullptr;
  std::int64_t schema_objects = 0;
  int rc = sqlite3_prepare_v2(db.get(), "SELECT count(*) FROM sqlite_master", -1, &probe, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(probe);
    if (rc == SQLITE_ROW) {
      schema_objects = sqlite3_column_int64(probe, 0);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(probe);
  if ((rc & 0xff) == SQLITE_NOTADB) {
    throw InputError(path + ": not a relustab results database (not an SQLite database file)");
  }
  if (rc != SQLITE_OK) db.fail(rc, "cannot read the database schema");
  if (schema_objects == 0) return false;

  Statement meta_table(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (!meta_table.step()) throw InputError(path + ": not a relustab results database (no meta table)");
  const std::optional<std::string> version_text = read_meta(db, "schema_version");
  if (!version_text) throw InputError(path + ": not a relustab results database (no schema_version in meta)");
  int version = 0;
  const char* end = version_text->data() + version_text->size();
  const auto [last, error] = std::from_chars(version_text->data(), end, version);
  if (error != std::errc() || last != end) {
    throw InputError(path + ": meta schema_version '" + *version_text + "' is not an integer");
  }
  if (version > kSchemaVersion) {
    throw InputError(path + ": schema version " + std::to_string(version) + " is newer than this relustab (" +
                     std::to_string(kSchemaVersion) + "); upgrade relustab");
  }
  if (version < 1) throw InputError(path + ": unknown schema version " + std::to_string(version));
  return true;
}

void bind_param(Statement& statement, int index, const ParamValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          statement.bind(index, std::int64_t{v ? 1 : 0});  // SQLite has no boolean: 0/1 as in SQL
        } else if constexpr (std::is_same_v<T, std::string>) {
          statement.bind(index, std::string_view(v));
        } else {
          statement.bind(index, v);
        }
      },
      value);
}

/// Shortest-exact text of a double with 17 significant digits: identical to printf("%.17g") but
/// independent of the C locale, and reads back to the same bits with strtod.
std::string format_double(double value) {
  char buffer[40];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 17);
  return std::string(buffer, result.ptr);
}

/// RFC 4180 quoting: a cell holding a comma, a quote or a line break is quoted, quotes doubled.
std::string csv_cell(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

/// A parameter value read back from the params table, written as its type reads in a file.
std::string param_cell(const Statement& row, int column, ParamType type) {
  switch (row.column_type(column)) {
    case SQLITE_NULL: return "";
    case SQLITE_TEXT: return csv_cell(row.column_text(column));
    case SQLITE_FLOAT: return format_double(row.column_double(column));
    default: break;
  }
  const std::int64_t value = row.column_int(column);
  switch (type) {
    case ParamType::Bool: return value != 0 ? "true" : "false";
    // SQLite integers are signed 64-bit; a seed above 2^63 is stored as its two's complement.
    case ParamType::UInt: return std::to_string(static_cast<std::uint64_t>(value));
    default: return std::to_string(value);
  }
}

/// A metric or log value: real, or NULL for a NaN (SQLite cannot store NaN).
double stored_number(const Statement& row, int column) {
  return row.is_null(column) ? std::numeric_limits<double>::quiet_NaN() : row.column_double(column);
}

/// The statements that replace what a finished run stored (metrics, log, network), shared by
/// write_results and merge_from.
struct RunContentWriter {
  explicit RunContentWriter(Connection& db)
      : delete_metrics(db, "DELETE FROM metrics WHERE run_id = ?1"),
        delete_logs(db, "DELETE FROM logs WHERE run_id = ?1"),
        delete_net(db, "DELETE FROM nets WHERE run_id = ?1"),
        insert_metric(db, "INSERT OR REPLACE INTO metrics(run_id, metric, value) VALUES(?1, ?2, ?3)"),
        insert_log(db, "INSERT INTO logs(run_id, step, metric, value) VALUES(?1, ?2, ?3, ?4)"),
        insert_net(db, "INSERT INTO nets(run_id, net) VALUES(?1, ?2)") {}

  /// Removes what an earlier (failed) completion of the run stored.
  void clear(std::int64_t run_id) {
    delete_metrics.bind(1, run_id).run();
    delete_logs.bind(1, run_id).run();
    delete_net.bind(1, run_id).run();
  }

  Statement delete_metrics, delete_logs, delete_net, insert_metric, insert_log, insert_net;
};

class SqliteStore final : public ResultStore {
 public:
  SqliteStore(std::string dir, bool create)
      : dir_(std::move(dir)),
        lock_(dir_),
        db_(database_path(dir_), SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)) {
    sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);
    const bool initialised = holds_results_schema(db_);
    if (!initialised && !create) {
      throw InputError(db_.path() + ": not a relustab results database (it is empty)");
    }
    // WAL: readers (relustab status, a merge) never block the writer, and a commit is one append.
    // With WAL, synchronous=NORMAL syncs at checkpoints instead of at each commit: a committed
    // transaction survives the process being killed (kill -9, a crash) because it is already in
    // the WAL file in the OS cache; only a power loss or OS crash can roll back the last commits,
    // and never corrupts the database. That is the durability a resumable sweep needs.
    {
      Statement journal(db_, "PRAGMA journal_mode = WAL");
      if (!journal.step() || journal.column_text(0) != "wal") {
        throw std::runtime_error(db_.path() + ": cannot switch the database to WAL mode");
      }
    }
    db_.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    if (!initialised) {
      Transaction transaction(db_);
      db_.exec(kSchemaSql);
      Statement version(db_, "INSERT INTO meta(key, value) VALUES('schema_version', ?1)");
      version.bind(1, std::int64_t{kSchemaVersion}).run();
      transaction.commit();
    }
  }

  void register_runs(const std::string& experiment_json, std::string_view name,
                     std::span<const RunConfig> runs) override {
    Transaction transaction(db_);
    adopt_experiment(experiment_json, name, [&](const std::string& stored_name) {
      return dir_ + ": this directory holds a different experiment ('" + stored_name + "') than '" +
             std::string(name) + "'; use another --out directory";
    });
    Statement insert_run(db_, "INSERT OR IGNORE INTO runs(key, config) VALUES(?1, ?2)");
    Statement stored_config(db_, "SELECT config FROM runs WHERE key = ?1");
    Statement insert_param(db_, "INSERT INTO params(run_id, key, value) VALUES(?1, ?2, ?3)");
    const std::span<const ParamSpec> parameters = run_parameters();
    for (const RunConfig& config : runs) {
      const std::string json = canonical_json(config);
      const std::string key = run_key(config);
      insert_run.bind(1, key).bind(2, json).run();
      if (sqlite3_changes(db_.get()) == 0) {
        // Already registered (a resumed sweep, or a duplicate in `runs`). The key is a 64-bit hash:
        // make sure it does not stand for a different configuration.
        stored_config.bind(1, key);
        const bool found = stored_config.step();
        const bool same = found && stored_config.column_text(0) == json;
        stored_config.reset();
        if (!same) throw std::runtime_error(db_.path() + ": run key " + key + " collides with another configuration");
        continue;
      }
      const std::int64_t run_id = sqlite3_last_insert_rowid(db_.get());
      for (const ParamSpec& spec : parameters) {
        insert_param.bind(1, run_id).bind(2, spec.key);
        bind_param(insert_param, 3, spec.get(config));
        insert_param.run();
      }
    }
    transaction.commit();
  }

  void reset_in_flight() override { db_.exec("UPDATE runs SET status = 'pending' WHERE status = 'running'"); }

  std::vector<RunRow> pending_runs() override {
    return select_runs("SELECT id, key, config, status, reason FROM runs WHERE status = 'pending' ORDER BY id");
  }

  std::vector<RunRow> runs() override {
    return select_runs("SELECT id, key, config, status, reason FROM runs ORDER BY id");
  }

  void mark_running(std::span<const std::int64_t> ids) override {
    Transaction transaction(db_);
    // A run already done stays done: it is never run, nor recorded, twice.
    Statement mark(db_, "UPDATE runs SET status = 'running', attempts = attempts + 1, started_at = " RELUSTAB_SQL_NOW
                        " WHERE id = ?1 AND status <> 'done'");
    Statement exists(db_, "SELECT 1 FROM runs WHERE id = ?1");
    for (const std::int64_t id : ids) {
      mark.bind(1, id).run();
      if (sqlite3_changes(db_.get()) == 0) {
        exists.bind(1, id);
        const bool found = exists.step();
        exists.reset();
        if (!found) throw InputError(db_.path() + ": no run with id " + std::to_string(id));
      }
    }
    transaction.commit();
  }

  void write_results(std::span<const RunResult> results) override {
    Transaction transaction(db_);
    Statement find(db_, "SELECT id, status FROM runs WHERE key = ?1");
    Statement finish(db_, "UPDATE runs SET status = ?2, reason = ?3, completions = completions + 1, backend = ?4, "
                          "wall_seconds = ?5, finished_at = " RELUSTAB_SQL_NOW " WHERE id = ?1");
    RunContentWriter content(db_);
    for (const RunResult& result : results) {
      if (result.status != RunStatus::Done && result.status != RunStatus::Failed) {
        throw std::invalid_argument("write_results: run " + result.key + " has status " +
                                    std::string(status_text(result.status)) + ", expected done or failed");
      }
      find.bind(1, result.key);
      if (!find.step()) throw InputError(db_.path() + ": no run with key " + result.key);
      const std::int64_t run_id = find.column_int(0);
      const RunStatus stored = parse_status(find.column_text(1), db_.path());
      find.reset();
      if (stored == RunStatus::Done) continue;  // never recorded twice

      content.clear(run_id);
      finish.bind(1, run_id).bind(2, status_text(result.status)).bind(3, result.reason);
      if (result.backend.empty()) {
        finish.bind_null(4);
      } else {
        finish.bind(4, result.backend);
      }
      finish.bind(5, result.wall_seconds).run();
      for (const auto& [metric, value] : result.metrics) {
        content.insert_metric.bind(1, run_id).bind(2, metric).bind(3, value).run();
      }
      for (const LogEntry& entry : result.log) {
        content.insert_log.bind(1, run_id).bind(2, entry.step).bind(3, entry.metric).bind(4, entry.value).run();
      }
      if (!result.net_json.empty()) content.insert_net.bind(1, run_id).bind(2, result.net_json).run();
    }
    transaction.commit();
  }

  StoreSummary summary() override {
    StoreSummary summary;
    Transaction snapshot(db_, "BEGIN");  // counts and name from one snapshot
    Statement counts(db_, "SELECT status, count(*) FROM runs GROUP BY status");
    while (counts.step()) {
      const std::int64_t count = counts.column_int(1);
      switch (parse_status(counts.column_text(0), db_.path())) {
        case RunStatus::Pending: summary.pending = count; break;
        case RunStatus::Running: summary.running = count; break;
        case RunStatus::Done: summary.done = count; break;
        case RunStatus::Failed: summary.failed = count; break;
      }
      summary.total += count;
    }
    summary.experiment_name = read_meta(db_, "name").value_or("");
    return summary;
  }

  std::string export_csv() override {
    Transaction snapshot(db_, "BEGIN");
    const std::span<const ParamSpec> parameters = run_parameters();
    std::unordered_map<std::string_view, std::size_t> param_column;
    for (std::size_t i = 0; i < parameters.size(); ++i) param_column.emplace(parameters[i].key, i);

    std::vector<std::string> metric_names;
    Statement distinct_metrics(db_, "SELECT DISTINCT metric FROM metrics");
    while (distinct_metrics.step()) metric_names.push_back(distinct_metrics.column_text(0));
    std::sort(metric_names.begin(), metric_names.end());
    std::unordered_map<std::string, std::size_t> metric_column;
    for (std::size_t i = 0; i < metric_names.size(); ++i) metric_column.emplace(metric_names[i], parameters.size() + i);

    // Cells after the four fixed columns: parameters in table order, then metrics by name.
    struct Row {
      std::string fixed;
      std::vector<std::string> cells;
    };
    std::vector<Row> rows;
    std::unordered_map<std::int64_t, std::size_t> row_of_run;
    Statement select_runs(db_, "SELECT id, key, status, reason FROM runs ORDER BY id");
    while (select_runs.step()) {
      const std::int64_t id = select_runs.column_int(0);
      row_of_run.emplace(id, rows.size());
      rows.push_back({std::to_string(id) + ',' + csv_cell(select_runs.column_text(1)) + ',' +
                          csv_cell(select_runs.column_text(2)) + ',' + csv_cell(select_runs.column_text(3)),
                      std::vector<std::string>(parameters.size() + metric_names.size())});
    }
    Statement select_params(db_, "SELECT run_id, key, value FROM params");
    while (select_params.step()) {
      const std::string key = select_params.column_text(1);
      const auto column = param_column.find(key);
      if (column == param_column.end()) continue;  // a parameter this build no longer has
      rows[row_of_run.at(select_params.column_int(0))].cells[column->second] =
          param_cell(select_params, 2, parameters[column->second].type);
    }
    Statement select_metrics(db_, "SELECT run_id, metric, value FROM metrics");
    while (select_metrics.step()) {
      rows[row_of_run.at(select_metrics.column_int(0))].cells[metric_column.at(select_metrics.column_text(1))] =
          format_double(stored_number(select_metrics, 2));
    }

    std::string csv = "id,key,status,reason";
    for (const ParamSpec& spec : parameters) (csv += ',') += csv_cell(spec.key);
    for (const std::string& metric : metric_names) (csv += ',') += csv_cell(metric);
    csv += '\n';
    for (const Row& row : rows) {
      csv += row.fixed;
      for (const std::string& cell : row.cells) (csv += ',') += cell;
      csv += '\n';
    }
    return csv;
  }

  std::int64_t merge_from(const std::string& other_dir) override {
    const std::string other_path = database_path(other_dir);
    std::error_code ignored;
    if (!std::filesystem::is_regular_file(other_path, ignored)) {
      throw InputError(other_path + ": no results database to merge");
    }
    // Read-only and without the writer lock: a shard may still be running; WAL gives a
    // consistent snapshot of what it has committed.
    Connection other(other_path, SQLITE_OPEN_READONLY);
    sqlite3_busy_timeout(other.get(), kBusyTimeoutMs);
    if (!holds_results_schema(other)) throw InputError(other_path + ": not a relustab results database (it is empty)");
    Transaction other_snapshot(other, "BEGIN");
    const std::optional<std::string> other_experiment = read_meta(other, "experiment");
    if (!other_experiment) throw InputError(other_path + ": holds no experiment; nothing to merge");
    const std::string other_name = read_meta(other, "name").value_or("");

    Transaction transaction(db_);
    adopt_experiment(*other_experiment, other_name, [&](const std::string& stored_name) {
      return other_path + ": a different experiment ('" + other_name + "') than " + db_.path() + " ('" +
             stored_name + "'); only shards of one experiment can be merged";
    });

    Statement source_runs(other, "SELECT id, key, config, status, reason, attempts, completions, backend, "
                                 "wall_seconds, started_at, finished_at FROM runs ORDER BY id");
    Statement source_params(other, "SELECT key, value FROM params WHERE run_id = ?1");
    Statement source_metrics(other, "SELECT metric, value FROM metrics WHERE run_id = ?1");
    Statement source_logs(other, "SELECT step, metric, value FROM logs WHERE run_id = ?1 ORDER BY rowid");
    Statement source_net(other, "SELECT net FROM nets WHERE run_id = ?1");
    Statement find(db_, "SELECT id, status FROM runs WHERE key = ?1");
    Statement insert_run(db_, "INSERT INTO runs(key, config) VALUES(?1, ?2)");
    Statement insert_param(db_, "INSERT INTO params(run_id, key, value) VALUES(?1, ?2, ?3)");
    Statement copy_run(db_, "UPDATE runs SET status = ?2, reason = ?3, attempts = attempts + ?4, "
                            "completions = completions + ?5, backend = ?6, wall_seconds = ?7, started_at = ?8, "
                            "finished_at = ?9 WHERE id = ?1");
    RunContentWriter content(db_);

    std::int64_t merged = 0;
    while (source_runs.step()) {
      const std::int64_t source_id = source_runs.column_int(0);
      const std::string key = source_runs.column_text(1);
      const RunStatus source_status = parse_status(source_runs.column_text(3), other_path);
      const bool finished = source_status == RunStatus::Done || source_status == RunStatus::Failed;

      find.bind(1, key);
      std::optional<std::pair<std::int64_t, RunStatus>> here;
      if (find.step()) here.emplace(find.column_int(0), parse_status(find.column_text(1), db_.path()));
      find.reset();
      if (!here) {
        // A run this directory has not registered (e.g. merging into a fresh directory): add it as
        // pending with its parameters, so the total stays that of the experiment.
        insert_run.bind(1, key).bind_column(2, source_runs, 2).run();
        here.emplace(sqlite3_last_insert_rowid(db_.get()), RunStatus::Pending);
        source_params.bind(1, source_id);
        while (source_params.step()) {
          insert_param.bind(1, here->first).bind_column(2, source_params, 0).bind_column(3, source_params, 1).run();
        }
        source_params.reset();
      }
      // Done here stays; a failure does not replace a failure (merging a shard twice changes nothing).
      if (!finished || here->second == RunStatus::Done ||
          (here->second == RunStatus::Failed && source_status == RunStatus::Failed)) {
        continue;
      }
      const std::int64_t run_id = here->first;
      content.clear(run_id);
      copy_run.bind(1, run_id);
      for (int column = 3; column <= 10; ++column) copy_run.bind_column(column - 1, source_runs, column);
      copy_run.run();
      source_metrics.bind(1, source_id);
      while (source_metrics.step()) {
        content.insert_metric.bind(1, run_id).bind_column(2, source_metrics, 0).bind_column(3, source_metrics, 1).run();
      }
      source_metrics.reset();
      source_logs.bind(1, source_id);
      while (source_logs.step()) {
        content.insert_log.bind(1, run_id)
            .bind_column(2, source_logs, 0)
            .bind_column(3, source_logs, 1)
            .bind_column(4, source_logs, 2)
            .run();
      }
      source_logs.reset();
      source_net.bind(1, source_id);
      if (source_net.step()) content.insert_net.bind(1, run_id).bind_column(2, source_net, 0).run();
      source_net.reset();
      ++merged;
    }
    transaction.commit();
    return merged;
  }

 private:
  /// Records the experiment in meta, or checks that it is the one already recorded (else throws
  /// InputError with different_message(stored name)). Call inside a write transaction.
  template <typename Message>
  void adopt_experiment(const std::string& experiment_json, std::string_view name, const Message& different_message) {
    const std::optional<std::string> stored = read_meta(db_, "experiment");
    if (stored && *stored != experiment_json) {
      throw InputError(different_message(read_meta(db_, "name").value_or("")));
    }
    Statement upsert(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");
    if (!stored) upsert.bind(1, std::string_view("experiment")).bind(2, experiment_json).run();
    upsert.bind(1, std::string_view("name")).bind(2, name).run();
  }

  std::vector<RunRow> select_runs(const char* sql) {
    std::vector<RunRow> rows;
    Statement select(db_, sql);
    while (select.step()) {
      RunRow& row = rows.emplace_back();
      row.id = select.column_int(0);
      row.key = select.column_text(1);
      row.config_json = select.column_text(2);
      row.status = parse_status(select.column_text(3), db_.path());
      row.reason = select.column_text(4);
    }
    return rows;
  }

  std::string dir_;
  WriterLock lock_;  // declared before db_: the connection closes before the lock is released
  Connection db_;
};

}  // namespace

std::unique_ptr<ResultStore> ResultStore::open(const std::string& dir, bool create) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (create) {
    fs::create_directories(dir, error);
    if (error) throw InputError(dir + ": cannot create the experiment directory (" + error.message() + ")");
  }
  if (!fs::is_directory(dir, error)) throw InputError(dir + ": no such experiment directory");
  const std::string path = database_path(dir);
  if (!create && !fs::exists(path, error)) {
    throw InputError(path + ": no results database in this directory (run a sweep into it first)");
  }
  return std::make_unique<SqliteStore>(dir, create);
}

}  // namespace relustab::store
