// SPDX-License-Identifier: MIT
// relustab sweep / status / export / merge: run an experiment file into a results directory,
// summarise it, export it as CSV, and combine the shards of a job-array sweep.
#include "commands.h"
#include "common.h"
#include "sweep_command.h"

#include <relustab/experiment/experiment.h>
#include <relustab/experiment/result_store.h>
#include <relustab/experiment/sweep.h>
#include <relustab/experiment/toml_reader.h>
#include <relustab/io/atomic_file.h>
#include <relustab/io/formats.h>
#if RELUSTAB_WITH_MPI
#include <relustab/experiment/mpi_sweep.h>
#endif

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <cstdlib>
#include <thread>

namespace relustab::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabaseFile = "results.sqlite";
/// How long `status` waits for the sweep writing the database to finish a transaction.
constexpr int kStatusBusyTimeoutMs = 10000;
/// Width of the progress bar in characters.
constexpr int kBarWidth = 30;

/// Reads each data file once (runs of a sweep share them) and hands out copies; called from the
/// sweep's worker threads.
class CachedCsvLoader {
 public:
  Dataset operator()(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(path);
    if (it == cache_.end()) it = cache_.emplace(path, io::read_csv(path)).first;
    return it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, Dataset> cache_;
};

struct Shard {
  int index = 0;
  int count = 1;
};

/// "i/N" with 0 <= i < N.
Shard parse_shard(const std::string& text) {
  const std::string expected = "--shard: expected i/N with 0 <= i < N (e.g. 0/4), got '" + text + "'";
  const auto slash = text.find('/');
  require(slash != std::string::npos, expected);
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

/// The shard a directory named shard-i-of-N holds, if its name is one.
std::optional<Shard> shard_of(const fs::path& dir) {
  static const std::regex pattern(R"(shard-(\d+)-of-(\d+))");
  const std::string name = dir.filename().string();
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

/// The shard subdirectories DIR/shard-i-of-N, by index.
std::vector<std::pair<Shard, fs::path>> find_shards(const fs::path& dir) {
  std::vector<std::pair<Shard, fs::path>> shards;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::optional<Shard> shard = shard_of(entry.path());
    if (entry.is_directory(error) && shard) shards.emplace_back(*shard, entry.path());
  }
  std::sort(shards.begin(), shards.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.count, a.first.index) < std::pair(b.first.count, b.first.index);
  });
  return shards;
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0.0)) return "--";
  const auto total = static_cast<long long>(std::llround(seconds));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total / 60 % 60);
  } else if (total >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%llds", total);
  }
  return text;
}

/// "[#####.....]  120/200 runs  3 failed  2 running  ETA 1m05s" on one terminal line.
void draw_progress(const SweepProgress& p) {
  const std::int64_t finished = p.done + p.failed;
  const int filled = p.total > 0 ? static_cast<int>(kBarWidth * finished / p.total) : kBarWidth;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kBarWidth, '.');
  std::fprintf(stderr, "\r[%s] %lld/%lld runs  %lld failed  %lld running  ETA %s   ", bar.c_str(),
               static_cast<long long>(finished), static_cast<long long>(p.total),
               static_cast<long long>(p.failed), static_cast<long long>(p.running),
               format_duration(p.eta_s).c_str());
  std::fflush(stderr);
}

void print_sweep_summary(const std::string& name, const SweepProgress& p, const std::string& dir) {
  std::printf("sweep '%s': %lld runs, %lld done, %lld failed, %lld not finished; %.2f s; results in %s\n",
              name.c_str(), static_cast<long long>(p.total), static_cast<long long>(p.done),
              static_cast<long long>(p.failed),
              static_cast<long long>(p.total - p.done - p.failed), p.elapsed_s, dir.c_str());
}

}  // namespace

/// Worker threads when --jobs is not given: every hardware thread, shared among the ranks that an MPI
/// launcher started on this machine (OpenMPI's OMPI_COMM_WORLD_LOCAL_SIZE), so that `mpirun -np 2` on
/// two cores runs two workers rather than four.
static int default_jobs() {
  const int hardware = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const char* local_ranks = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const int ranks = local_ranks == nullptr ? 1 : std::max(1, std::atoi(local_ranks));
  return std::max(1, hardware / ranks);
}

void run_sweep_command(const SweepArgs& a, [[maybe_unused]] int* argc,
                       [[maybe_unused]] char*** argv) {
  const ExperimentSpec spec = config::read_experiment(a.experiment_path, a.overrides);
  const std::vector<RunConfig> runs = expand_runs(spec);
  const Shard shard = a.shard.empty() ? Shard{} : parse_shard(a.shard);
  fs::path dir = a.out_dir.empty() ? fs::path("runs") / fs::path(a.experiment_path).stem()
                                   : fs::path(a.out_dir);
  if (!a.shard.empty()) dir /= shard_dir_name(shard);

  SweepOptions options;
  options.jobs = a.jobs > 0 ? a.jobs : default_jobs();
  options.shard_index = shard.index;
  options.shard_count = shard.count;
  CachedCsvLoader cache;
  const DataFileLoader load_data = [&cache](const std::string& path) { return cache(path); };
  const auto open_store = [&] {
    auto store = store::ResultStore::open(dir.string(), true);
    store->register_runs(experiment_json(spec), spec.name, runs);
    return store;
  };

#if RELUSTAB_WITH_MPI
  if (mpi::launched_with_several_ranks()) {
    const mpi::Session session(argc, argv);
    const bool show = !a.quiet && session.rank() == 0 && stderr_is_terminal();
    const SweepProgress result = mpi::run_sweep_mpi(
        session, open_store, options, load_data,
        show ? SweepProgressCallback(draw_progress) : SweepProgressCallback());
    if (show) std::fprintf(stderr, "\n");
    if (session.rank() == 0) print_sweep_summary(spec.name, result, dir.string());
    return;
  }
#endif
  const auto store = open_store();
  const bool show = !a.quiet && stderr_is_terminal();
  const SweepProgress result = run_sweep(
      *store, options, load_data, show ? SweepProgressCallback(draw_progress) : SweepProgressCallback());
  if (show) std::fprintf(stderr, "\n");
  print_sweep_summary(spec.name, result, dir.string());
}

namespace {

/// Counts by status of one results database, read without the writer lock so that `status` works
/// while a sweep writes (WAL readers see the last committed transaction).
struct StatusCounts {
  std::string experiment_name;
  std::int64_t total = 0, pending = 0, running = 0, done = 0, failed = 0;
};

/// A read-only SQLite connection, closed on destruction.
class ReadOnlyDatabase {
 public:
  explicit ReadOnlyDatabase(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw InputError(path + ": cannot open the results database (" + message + ")");
    }
    sqlite3_busy_timeout(db_, kStatusBusyTimeoutMs);
  }
  ~ReadOnlyDatabase() { sqlite3_close(db_); }
  ReadOnlyDatabase(const ReadOnlyDatabase&) = delete;
  ReadOnlyDatabase& operator=(const ReadOnlyDatabase&) = delete;

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
  sqlite3* db_ = nullptr;
};

std::string column_text(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  return text == nullptr ? std::string() : std::string(text);
}

/// The counts of `dir`'s database; with a shard, only the runs of that shard ((id - 1) % N == i),
/// which are the ones its sweep executes.
StatusCounts read_status(const fs::path& dir, const std::optional<Shard>& shard) {
  const std::string path = (dir / kDatabaseFile).string();
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
  require(*version <= store::kSchemaVersion,
          path + ": schema version " + std::to_string(*version) + " is newer than this relustab (" +
              std::to_string(store::kSchemaVersion) + "); upgrade relustab");
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

nlohmann::ordered_json counts_to_json(const std::string& dir, const StatusCounts& c) {
  nlohmann::ordered_json j;
  j["dir"] = dir;
  j["experiment"] = c.experiment_name;
  j["total"] = c.total;
  j["pending"] = c.pending;
  j["running"] = c.running;
  j["done"] = c.done;
  j["failed"] = c.failed;
  return j;
}

void print_counts(const std::string& label, const StatusCounts& c) {
  std::printf("%s: %lld runs: %lld done, %lld failed, %lld running, %lld pending\n", label.c_str(),
              static_cast<long long>(c.total), static_cast<long long>(c.done),
              static_cast<long long>(c.failed), static_cast<long long>(c.running),
              static_cast<long long>(c.pending));
}

void run_status_command(const std::string& dir_text, bool json) {
  const fs::path dir(dir_text);
  std::error_code error;
  require(fs::is_directory(dir, error), dir_text + ": no such experiment directory");
  const bool has_database = fs::is_regular_file(dir / kDatabaseFile, error);
  const auto shards = find_shards(dir);
  require(has_database || !shards.empty(),
          dir_text + ": no results database (results.sqlite) and no shard-i-of-N directories");

  std::vector<std::pair<std::string, StatusCounts>> shard_counts;
  StatusCounts overall;
  for (const auto& [shard, path] : shards) {
    StatusCounts counts = read_status(path, shard);
    overall.experiment_name = counts.experiment_name;
    overall.total += counts.total;
    overall.pending += counts.pending;
    overall.running += counts.running;
    overall.done += counts.done;
    overall.failed += counts.failed;
    shard_counts.emplace_back(path.string(), std::move(counts));
  }
  // A shard's own directory counts only that shard's runs (its database registers them all).
  if (has_database) {
    fs::path normal = fs::absolute(dir).lexically_normal();
    if (normal.filename().empty()) normal = normal.parent_path();  // "DIR/" names DIR
    overall = read_status(dir, shard_of(normal));
  }

  if (json) {
    nlohmann::ordered_json j = counts_to_json(dir_text, overall);
    if (!shards.empty()) {
      j["shards"] = nlohmann::ordered_json::array();
      for (const auto& [path, counts] : shard_counts) j["shards"].push_back(counts_to_json(path, counts));
    }
    std::cout << j.dump() << "\n";
    return;
  }
  std::printf("experiment '%s'\n", overall.experiment_name.c_str());
  print_counts(has_database ? dir_text : dir_text + " (all shards)", overall);
  for (const auto& [path, counts] : shard_counts) print_counts("  " + path, counts);
  if (overall.running > 0) {
    std::printf("(running: executing now, or left by a sweep that was killed; re-running the "
                "sweep redoes those)\n");
  }
}

void run_export_command(const std::string& dir, const std::string& out_path) {
  const auto store = store::ResultStore::open(dir, false);
  const std::string csv = store->export_csv();
  if (out_path.empty()) {
    std::cout << csv;
  } else {
    io::write_file_atomically(out_path, csv);
  }
}

void run_merge_command(const std::string& dir_text) {
  const fs::path dir(dir_text);
  std::error_code error;
  require(fs::is_directory(dir, error), dir_text + ": no such experiment directory");
  const auto shards = find_shards(dir);
  require(!shards.empty(), dir_text + ": no shard-i-of-N directories to merge");
  const int count = shards.front().first.count;
  std::vector<bool> present(static_cast<std::size_t>(count), false);
  for (const auto& [shard, path] : shards) {
    require(shard.count == count, path.string() + ": a shard of " + std::to_string(shard.count) +
                                      " beside shards of " + std::to_string(count) +
                                      "; merge shards of one split only");
    present[static_cast<std::size_t>(shard.index)] = true;
  }
  const auto store = store::ResultStore::open(dir_text, true);
  std::int64_t merged = 0;
  for (const auto& [shard, path] : shards) merged += store->merge_from(path.string());
  for (int i = 0; i < count; ++i) {
    if (!present[static_cast<std::size_t>(i)]) {
      std::fprintf(stderr, "relustab: warning: %s has no shard-%d-of-%d; its runs stay pending\n",
                   dir_text.c_str(), i, count);
    }
  }
  const store::StoreSummary summary = store->summary();
  std::printf("merged %lld finished runs from %zu shards into %s: %lld runs, %lld done, %lld failed, "
              "%lld not finished\n",
              static_cast<long long>(merged), shards.size(), (dir / kDatabaseFile).string().c_str(),
              static_cast<long long>(summary.total), static_cast<long long>(summary.done),
              static_cast<long long>(summary.failed),
              static_cast<long long>(summary.pending + summary.running));
}

}  // namespace

Command add_sweep(CLI::App& app, int* argc, char*** argv) {
  auto a = std::make_shared<SweepArgs>();
  auto* sub = app.add_subcommand("sweep", "Run every run of an experiment file (resumable)");
  sub->add_option("experiment", a->experiment_path, "experiment file (TOML)")->required();
  sub->add_option("--out", a->out_dir,
                  "results directory (default: runs/NAME, NAME the experiment file's name without "
                  "extension, under the working directory)");
  sub->add_option("--jobs", a->jobs, "worker threads (default: the hardware threads, shared among MPI ranks on this machine)")
      ->check(CLI::PositiveNumber);
  // One key=value per --set, so that `--set a=1 EXP.toml` does not swallow the file name.
  sub->add_option("--set", a->overrides, "override a parameter: key=value (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--shard", a->shard,
                  "run only shard i of N: the runs whose id - 1 is i modulo N, into DIR/shard-i-of-N");
  sub->add_flag("--quiet", a->quiet, "no progress bar");
  return [a, argc, argv] { run_sweep_command(*a, argc, argv); };
}

Command add_status(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("status", "Count the runs of a results directory by status");
  sub->add_option("dir", *dir, "results directory (of a sweep, or holding shard-i-of-N)")->required();
  sub->add_flag("--json", *json, "print one JSON object");
  return [dir, json] { run_status_command(*dir, *json); };
}

Command add_export(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto csv = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("export", "Write a results directory as tidy CSV (one row per run)");
  sub->add_option("dir", *dir, "results directory")->required();
  // The one format today; the flag is required so that others can be added without ambiguity.
  sub->add_flag("--csv", *csv, "CSV: id, key, status, reason, every parameter, every metric")
      ->required();
  sub->add_option("--out", *out, "output file (written atomically; default: standard output)");
  // The callback owns `csv` too: CLI11 writes the flag through the reference above while parsing,
  // after this function has returned, so its storage must live as long as the command.
  return [dir, out, csv] { run_export_command(*dir, *out); };
}

Command add_merge(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("merge", "Merge DIR/shard-i-of-N into DIR/results.sqlite");
  sub->add_option("dir", *dir, "results directory holding the shards")->required();
  return [dir] { run_merge_command(*dir); };
}

}  // namespace relustab::cli
