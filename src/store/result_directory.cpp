// SPDX-License-Identifier: MIT
#include <relustab/experiment/result_directory.h>

#include <relustab/core/error.h>
#include <relustab/io/file_cache.h>

#include "store/sqlite_handle.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <regex>
#include <system_error>

namespace relustab::store {
namespace fs = std::filesystem;
namespace {

/// How long `status` waits for the sweep writing the database to finish a transaction.
constexpr int kStatusBusyTimeoutMs = 10000;

/// A read-only connection that needs no write access (detail::Connection's ReadOnly mode), with
/// queries whose failures say the file is not a readable results database.
class ReadOnlyDatabase {
 public:
  explicit ReadOnlyDatabase(const std::string& path)
      : path_(path), connection_(detail::Connection::ReadOnly{}, path), db_(connection_.get()) {
    sqlite3_busy_timeout(db_, kStatusBusyTimeoutMs);
  }

  /// Runs `sql` and calls `row(statement)` per result row.
  template <class Row>
  void query(const char* sql, const Row& row) {
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr);
    while (rc == SQLITE_OK && (rc = sqlite3_step(statement)) == SQLITE_ROW) {
      row(statement);
      rc = SQLITE_OK;
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) {
      throw InputError(path_ + ": not a readable relustab results database (" + sqlite3_errmsg(db_) + ")");
    }
  }

 private:
  std::string path_;
  detail::Connection connection_;
  sqlite3* db_ = nullptr;
};

std::string column_text(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  return text == nullptr ? std::string() : std::string(text);
}

void add_counts(StatusCounts& total, const StatusCounts& part) {
  total.experiment_name = part.experiment_name;
  total.total += part.total;
  total.pending += part.pending;
  total.running += part.running;
  total.done += part.done;
  total.failed += part.failed;
}

}  // namespace

Shard parse_shard(std::string_view text) {
  const std::string expected =
      "expected i/N with 0 <= i < N (e.g. 0/4), got '" + std::string(text) + "'";
  const auto slash = text.find('/');
  require(slash != std::string_view::npos, expected);
  Shard shard;
  const char* end = text.data() + text.size();
  const auto first = std::from_chars(text.data(), text.data() + slash, shard.index);
  const auto second = std::from_chars(text.data() + slash + 1, end, shard.count);
  require(first.ec == std::errc() && first.ptr == text.data() + slash && second.ec == std::errc() &&
              second.ptr == end && shard.count >= 1 && shard.index >= 0 &&
              shard.index < shard.count,
          expected);
  return shard;
}

std::string shard_dir_name(const Shard& shard) {
  return "shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count);
}

std::optional<Shard> shard_of(const std::string& dir) {
  static const std::regex pattern(R"(shard-(\d+)-of-(\d+))");
  fs::path path = fs::path(dir).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();  // "DIR/" names DIR
  const std::string name = path.filename().string();
  std::smatch match;
  if (!std::regex_match(name, match, pattern)) return std::nullopt;
  Shard shard;
  const auto index = std::from_chars(&*match[1].first, &*match[1].first + match[1].length(), shard.index);
  const auto count = std::from_chars(&*match[2].first, &*match[2].first + match[2].length(), shard.count);
  if (index.ec != std::errc() || count.ec != std::errc() || shard.count < 1 ||
      shard.index >= shard.count) {
    return std::nullopt;
  }
  return shard;
}

std::vector<std::pair<Shard, std::string>> find_shards(const std::string& dir) {
  std::vector<std::pair<Shard, std::string>> shards;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::optional<Shard> shard = shard_of(entry.path().string());
    if (entry.is_directory(error) && shard) shards.emplace_back(*shard, entry.path().string());
  }
  std::sort(shards.begin(), shards.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.count, a.first.index) < std::pair(b.first.count, b.first.index);
  });
  return shards;
}

StatusCounts read_status(const std::string& dir, const std::optional<Shard>& shard) {
  const std::string path = (fs::path(dir) / kDatabaseFileName).string();
  std::error_code error;
  require(fs::is_regular_file(path, error), path + ": no results database");
  ReadOnlyDatabase db(path);
  StatusCounts counts;
  std::optional<std::int64_t> version;
  db.query("SELECT key, value FROM meta WHERE key IN ('schema_version', 'name')", [&](sqlite3_stmt* row) {
    if (column_text(row, 0) == "schema_version") version = sqlite3_column_int64(row, 1);
    if (column_text(row, 0) == "name") counts.experiment_name = column_text(row, 1);
  });
  require(version.has_value(), path + ": not a relustab results database (no schema_version)");
  require(*version <= kSchemaVersion,
          path + ": schema version " + std::to_string(*version) + " is newer than this relustab (" +
              std::to_string(kSchemaVersion) + "); upgrade relustab");
  db.query("SELECT id, status FROM runs", [&](sqlite3_stmt* row) {
    const std::int64_t id = sqlite3_column_int64(row, 0);
    if (shard && (id - 1) % shard->count != shard->index) return;
    const std::string status = column_text(row, 1);
    ++counts.total;
    if (status == "pending") ++counts.pending;
    if (status == "running") ++counts.running;
    if (status == "done") ++counts.done;
    if (status == "failed") ++counts.failed;
  });
  return counts;
}

DirectoryStatus directory_status(const std::string& dir) {
  std::error_code error;
  require(fs::is_directory(dir, error), dir + ": no such experiment directory");
  DirectoryStatus status;
  status.has_database = fs::is_regular_file(fs::path(dir) / kDatabaseFileName, error);
  const auto shards = find_shards(dir);
  require(status.has_database || !shards.empty(),
          dir + ": no results database (" + kDatabaseFileName + ") and no shard-i-of-N directories");
  for (const auto& [shard, path] : shards) {
    StatusCounts counts = read_status(path, shard);
    add_counts(status.overall, counts);
    status.shards.emplace_back(path, std::move(counts));
  }
  // A shard's own directory counts only that shard's runs (its database registers them all).
  if (status.has_database) {
    status.overall = read_status(dir, shard_of(fs::absolute(dir).string()));
  }
  return status;
}

MergeSummary merge_shards(const std::string& dir) {
  std::error_code error;
  require(fs::is_directory(dir, error), dir + ": no such experiment directory");
  const auto shards = find_shards(dir);
  require(!shards.empty(), dir + ": no shard-i-of-N directories to merge");
  const int count = shards.front().first.count;
  std::vector<bool> present(static_cast<std::size_t>(count), false);
  for (const auto& [shard, path] : shards) {
    require(shard.count == count, path + ": a shard of " + std::to_string(shard.count) +
                                      " beside shards of " + std::to_string(count) +
                                      "; merge shards of one split only");
    present[static_cast<std::size_t>(shard.index)] = true;
  }
  const auto store = ResultStore::open(dir, true);
  MergeSummary summary;
  for (const auto& [shard, path] : shards) summary.runs_copied += store->merge_from(path);
  summary.shards = shards.size();
  for (int i = 0; i < count; ++i) {
    if (!present[static_cast<std::size_t>(i)]) summary.missing_shards.push_back(i);
  }
  summary.result = store->summary();
  summary.database = (fs::path(dir) / kDatabaseFileName).string();
  return summary;
}

std::string sweep_directory(const std::string& experiment_path, const std::string& out,
                            const std::optional<Shard>& shard) {
  fs::path dir = out.empty() ? fs::path("runs") / fs::path(experiment_path).stem() : fs::path(out);
  if (shard) dir /= shard_dir_name(*shard);
  return dir.string();
}

SweepOptions sweep_options(int jobs, const std::optional<Shard>& shard) {
  SweepOptions options;
  options.jobs = jobs;
  if (shard) {
    options.shard_index = shard->index;
    options.shard_count = shard->count;
  }
  return options;
}

std::unique_ptr<ResultStore> open_sweep_store(const std::string& dir, const ExperimentSpec& spec) {
  auto store = ResultStore::open(dir, true);
  store->register_runs(experiment_json(spec), spec.name, expand_runs(spec));
  return store;
}

SweepProgress sweep_experiment(const ExperimentSpec& spec, const std::string& dir,
                               const SweepOptions& options, const SweepProgressCallback& progress) {
  const auto store = open_sweep_store(dir, spec);
  io::FileCache files;
  return run_sweep(*store, options, cached_run_inputs(files), progress);
}

}  // namespace relustab::store
