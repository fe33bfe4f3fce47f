// SPDX-License-Identifier: MIT
// The results database of an experiment directory: ResultStore on SQLite (WAL), one writer at a time.
#include <relustab/experiment/result_store.h>
#include <relustab/experiment/result_directory.h>

#include <relustab/core/error.h>

#include "store/sqlite_handle.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
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

/// The shortest text that reads back to the same double (0.05, not 0.050000000000000003),
/// independent of the C locale. NaN (NULL in the database) is an empty cell.
std::string format_double(double value) {
  if (std::isnan(value)) return "";
  char buffer[40];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

/// The metric `outcome` (training_metrics' code) as its name, so the export needs no legend.
std::string outcome_text(double code) {
  if (code == 0.0) return "converged";
  if (code == 1.0) return "max_steps";
  if (code == 2.0) return "diverged";
  return format_double(code);
}

/// Parameters whose value is a list ("0,1"): written with ';' between the items, so that no cell
/// of a number list needs quotes.
bool is_list_parameter(std::string_view key) { return key == "data.classes"; }

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
std::string param_cell(const Statement& row, int column, ParamType type, std::string_view key) {
  switch (row.column_type(column)) {
    case SQLITE_NULL: return "";
    case SQLITE_TEXT: {
      std::string text = row.column_text(column);
      if (is_list_parameter(key)) std::replace(text.begin(), text.end(), ',', ';');
      return csv_cell(text);
    }
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

/// How an experiment given now differs from the one a directory holds: what refuses it (a fixed
/// setting, the name, the set of axes, an axis value dropped) and what only extends it (new values
/// of an axis: new runs, every run of the stored experiment still in it).
struct ExperimentDifferences {
  std::vector<std::string> refusing;
  std::vector<std::string> extending;
};

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

ExperimentDifferences compare_experiments(const std::string& stored_text, const std::string& now_text) {
  using Json = nlohmann::json;
  ExperimentDifferences differences;
  const Json stored = Json::parse(stored_text, nullptr, false);
  const Json now = Json::parse(now_text, nullptr, false);
  if (!stored.is_object() || !now.is_object()) {
    differences.refusing.push_back("the stored experiment is not readable JSON");
    return differences;
  }
  const auto member = [](const Json& object, const char* key) {
    const auto it = object.find(key);
    return it == object.end() ? Json() : *it;
  };
  const auto changed = [](const std::string& what, const Json& before, const Json& after) {
    return what + ": " + (before.is_null() ? std::string("(none)") : before.dump()) + " stored, " +
           (after.is_null() ? std::string("(none)") : after.dump()) + " now";
  };
  if (member(stored, "name") != member(now, "name")) {
    differences.refusing.push_back(changed("name", member(stored, "name"), member(now, "name")));
  }
  // Axes: the same keys in the same order; each may gain values, none may lose one.
  const Json stored_axes = member(stored, "axes"), now_axes = member(now, "axes");
  std::vector<std::string> stored_keys, now_keys;
  for (const Json& axis : stored_axes.is_array() ? stored_axes : Json::array()) stored_keys.push_back(member(axis, "key").dump());
  for (const Json& axis : now_axes.is_array() ? now_axes : Json::array()) now_keys.push_back(member(axis, "key").dump());
  if (stored_keys != now_keys) {
    differences.refusing.push_back("sweep axes: [" + join(stored_keys, ", ") + "] stored, [" + join(now_keys, ", ") +
                                   "] now");
  } else {
    for (std::size_t a = 0; a < stored_keys.size(); ++a) {
      const Json old_values = member(stored_axes[a], "values"), new_values = member(now_axes[a], "values");
      const auto values_of = [](const Json& values) {
        std::vector<std::string> texts;
        if (values.is_array()) {
          for (const Json& value : values) texts.push_back(value.dump());
        }
        return texts;
      };
      const std::vector<std::string> old_texts = values_of(old_values), new_texts = values_of(new_values);
      std::vector<std::string> dropped, added;
      for (const std::string& v : old_texts) {
        if (std::find(new_texts.begin(), new_texts.end(), v) == new_texts.end()) dropped.push_back(v);
      }
      for (const std::string& v : new_texts) {
        if (std::find(old_texts.begin(), old_texts.end(), v) == old_texts.end()) added.push_back(v);
      }
      if (!dropped.empty()) {
        differences.refusing.push_back("axis " + stored_keys[a] + " no longer has " + join(dropped, ", "));
      }
      if (!added.empty()) differences.extending.push_back("axis " + stored_keys[a] + " adds " + join(added, ", "));
    }
  }
  // Fixed settings: every base key that no axis sets (an axis overrides its key's base value).
  std::vector<std::string> swept;
  for (const std::string& key : stored_keys) swept.push_back(key);
  for (const std::string& key : now_keys) swept.push_back(key);
  const Json stored_base = member(stored, "base"), now_base = member(now, "base");
  std::vector<std::string> base_keys;
  for (const Json* base : {&stored_base, &now_base}) {
    if (!base->is_object()) continue;
    for (const auto& item : base->items()) {
      if (std::find(base_keys.begin(), base_keys.end(), item.key()) == base_keys.end()) base_keys.push_back(item.key());
    }
  }
  for (const std::string& key : base_keys) {
    if (std::find(swept.begin(), swept.end(), Json(key).dump()) != swept.end()) continue;
    const Json before = stored_base.is_object() ? member(stored_base, key.c_str()) : Json();
    const Json after = now_base.is_object() ? member(now_base, key.c_str()) : Json();
    if (before != after) differences.refusing.push_back(changed(key, before, after));
  }
  return differences;
}

/// The data keys that only the generator reads: with data.file their values are not what ran, so
/// the params rows hold NULL for them (data.n and data.dim then get the file's own sizes).
bool generator_only(std::string_view key) {
  constexpr std::string_view kKeys[] = {"data.n",      "data.dim",   "data.inputs", "data.lo",
                                        "data.hi",     "data.target", "data.noise", "data.seed"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
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
        insert_net(db, "INSERT INTO nets(run_id, net) VALUES(?1, ?2)"),
        upsert_param(db, "INSERT OR REPLACE INTO params(run_id, key, value) VALUES(?1, ?2, ?3)") {}

  /// What a data file held, over the params rows the configuration could not know.
  void record_data_file(std::int64_t run_id, const RunResult::DataFileRecord& file) {
    upsert_param.bind(1, run_id).bind(2, std::string_view("data.n")).bind(3, file.samples).run();
    upsert_param.bind(1, run_id).bind(2, std::string_view("data.dim")).bind(3, file.input_dim).run();
    if (!file.hash.empty()) {
      upsert_param.bind(1, run_id).bind(2, std::string_view(kDataFileHashKey)).bind(3, file.hash).run();
    }
  }

  /// Removes what an earlier (failed) completion of the run stored.
  void clear(std::int64_t run_id) {
    delete_metrics.bind(1, run_id).run();
    delete_logs.bind(1, run_id).run();
    delete_net.bind(1, run_id).run();
  }

  Statement delete_metrics, delete_logs, delete_net, insert_metric, insert_log, insert_net, upsert_param;
};

/// The export (ResultStore::export_csv documents it) of the database `db`, in one read transaction.
std::string export_rows_csv(Connection& db) {
  Transaction snapshot(db, "BEGIN");
  const std::span<const ParamSpec> parameters = run_parameters();
  // Columns after the four fixed ones: the table's parameters in table order (one keyed only when
  // set, only where some run has a value for it: a database written before it existed has none),
  // the further params rows by name (data.file_hash), then the metrics by name.
  std::vector<std::string> stored_params;
  Statement distinct_params(db, "SELECT DISTINCT key FROM params ORDER BY key");
  while (distinct_params.step()) stored_params.push_back(distinct_params.column_text(0));
  const auto stored = [&](std::string_view key) {
    return std::binary_search(stored_params.begin(), stored_params.end(), key);
  };
  std::vector<std::string> columns;
  std::vector<ParamType> param_types;
  std::unordered_map<std::string, std::size_t> param_column;
  for (const ParamSpec& spec : parameters) {
    if (spec.keyed_when_set && !stored(spec.key)) continue;
    param_column.emplace(std::string(spec.key), columns.size());
    columns.emplace_back(spec.key);
    param_types.push_back(spec.type);
  }
  std::vector<std::string> extra_params;
  for (const std::string& key : stored_params) {
    if (find_parameter(key) == nullptr) extra_params.push_back(key);
  }
  for (std::string& key : extra_params) {
    param_column.emplace(key, columns.size());
    columns.push_back(std::move(key));
    param_types.push_back(ParamType::String);
  }
  std::unordered_map<std::string, std::size_t> metric_column;
  Statement distinct_metrics(db, "SELECT DISTINCT metric FROM metrics ORDER BY metric");
  while (distinct_metrics.step()) {
    std::string metric = distinct_metrics.column_text(0);
    // A metric named like a parameter would make two columns of one name: keep the parameter.
    if (param_column.count(metric) != 0) continue;
    metric_column.emplace(metric, columns.size());
    columns.push_back(std::move(metric));
  }

  struct Row {
    std::string fixed;
    std::vector<std::string> cells;
  };
  std::vector<Row> rows;
  std::unordered_map<std::int64_t, std::size_t> row_of_run;
  Statement select_runs(db, "SELECT id, key, status, reason FROM runs ORDER BY id");
  while (select_runs.step()) {
    const std::int64_t id = select_runs.column_int(0);
    row_of_run.emplace(id, rows.size());
    rows.push_back({std::to_string(id) + ',' + csv_cell(select_runs.column_text(1)) + ',' +
                        csv_cell(select_runs.column_text(2)) + ',' + csv_cell(select_runs.column_text(3)),
                    std::vector<std::string>(columns.size())});
  }
  Statement select_params(db, "SELECT run_id, key, value FROM params");
  while (select_params.step()) {
    const std::string key = select_params.column_text(1);
    const std::size_t column = param_column.at(key);
    rows[row_of_run.at(select_params.column_int(0))].cells[column] =
        param_cell(select_params, 2, param_types[column], key);
  }
  Statement select_metrics(db, "SELECT run_id, metric, value FROM metrics");
  while (select_metrics.step()) {
    const std::string metric = select_metrics.column_text(1);
    const auto column = metric_column.find(metric);
    if (column == metric_column.end()) continue;
    const double value = stored_number(select_metrics, 2);
    rows[row_of_run.at(select_metrics.column_int(0))].cells[column->second] =
        metric == "outcome" ? outcome_text(value) : format_double(value);
  }

  std::string csv = "id,key,status,reason";
  for (const std::string& column : columns) (csv += ',') += csv_cell(column);
  csv += '\n';
  for (const Row& row : rows) {
    csv += row.fixed;
    for (const std::string& cell : row.cells) (csv += ',') += cell;
    csv += '\n';
  }
  return csv;
}

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
    const std::optional<std::string> stored = read_meta(db_, "experiment");
    if (stored && *stored != experiment_json) {
      const ExperimentDifferences differences = compare_experiments(*stored, experiment_json);
      if (!differences.refusing.empty()) {
        throw InputError(dir_ + ": this directory holds a different experiment: " + join(differences.refusing, "; ") +
                         ". Only a sweep's axes can grow in place (new values add runs, finished runs are "
                         "kept); use another --out directory");
      }
      // An extension (or a change no run sees, such as the base value of a swept key): the stored
      // experiment becomes this one, and the runs below add what it has beyond the old one.
      Statement replace(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('experiment', ?1)");
      replace.bind(1, experiment_json).run();
    }
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
      const bool from_file = !config.data_file.empty();
      for (const ParamSpec& spec : parameters) {
        insert_param.bind(1, run_id).bind(2, spec.key);
        if (from_file && generator_only(spec.key)) {
          insert_param.bind_null(3);  // not what ran: the file's size is recorded when the run finishes
        } else {
          bind_param(insert_param, 3, spec.get(config));
        }
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
      if (result.data_file) content.record_data_file(run_id, *result.data_file);
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

  std::string export_csv() override { return export_rows_csv(db_); }

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
      const std::optional<std::string> here = read_meta(db_, "experiment");
      const ExperimentDifferences differences = compare_experiments(here.value_or("{}"), *other_experiment);
      std::vector<std::string> all = differences.refusing;
      all.insert(all.end(), differences.extending.begin(), differences.extending.end());
      return other_path + ": a different experiment ('" + other_name + "') than " + db_.path() + " ('" +
             stored_name + "')" + (all.empty() ? std::string() : ": " + join(all, "; ")) +
             "; only shards of one experiment can be merged";
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
      // The params rows a finished run completed (a data file's sizes and hash).
      source_params.bind(1, source_id);
      while (source_params.step()) {
        content.upsert_param.bind(1, run_id).bind_column(2, source_params, 0).bind_column(3, source_params, 1).run();
      }
      source_params.reset();
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
    // The parameter table (every key in table order with its default), for readers that order and
    // type columns as the export does without the table at hand (python/relustab/results.py): a
    // run's configuration leaves out the parameters keyed only when set (ParamSpec::keyed_when_set).
    const RunConfig defaults;
    std::string table = "{";
    for (const ParamSpec& spec : run_parameters()) {
      if (table.size() > 1) table += ',';
      ((table += '"') += spec.key) += "\":";  // keys are plain dotted identifiers
      table += relustab::detail::json_value(spec, spec.get(defaults));
    }
    table += '}';
    upsert.bind(1, std::string_view("parameters")).bind(2, table).run();
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

std::string export_csv(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(dir, error)) throw InputError(dir + ": no such experiment directory");
  const std::string path = database_path(dir);
  if (!fs::exists(path, error)) {
    throw InputError(path + ": no results database in this directory (run a sweep into it first)");
  }
  Connection db(Connection::ReadOnly{}, path);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  if (!holds_results_schema(db)) throw InputError(path + ": not a relustab results database (it is empty)");
  return export_rows_csv(db);
}

}  // namespace relustab::store
