// SPDX-License-Identifier: MIT
// The SQLite results store: registration, status transitions, CSV export, refusals, locking, merging.
#include <relustab/experiment/result_store.h>

#include "io/io_test_util.h"
#include "store/store_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <sys/wait.h>
#include <unistd.h>

namespace relustab {
namespace {

using store::ResultStore;
using testing::bits;
using testing::RawDatabase;
using testing::ScratchDir;

const std::string kGridExperiment = R"({"name":"grid","axes":[{"key":"optim.eta"}]})";
const std::string kOtherExperiment = R"({"name":"grid","axes":[{"key":"model.width"}]})";

std::string db_file(const ScratchDir& dir) { return dir.file("results.sqlite"); }

TEST(ResultStore, CreatesTheSchemaInWalMode) {
  const ScratchDir dir;
  const std::string out = dir.file("exp");  // a directory that does not exist yet
  { auto store = ResultStore::open(out, true); }
  RawDatabase raw(out + "/results.sqlite");
  EXPECT_EQ(raw.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
            (std::vector<std::vector<std::string>>{{"logs"}, {"meta"}, {"metrics"}, {"nets"}, {"params"}, {"runs"}}));
  EXPECT_EQ(raw.integer("SELECT value FROM meta WHERE key = 'schema_version'"), store::kSchemaVersion);
  EXPECT_EQ(raw.rows("PRAGMA journal_mode"), (std::vector<std::vector<std::string>>{{"wal"}}));
  // The columns of the header comment, in order.
  std::vector<std::string> run_columns;
  for (const auto& row : raw.rows("SELECT name FROM pragma_table_info('runs')")) run_columns.push_back(row[0]);
  EXPECT_EQ(run_columns, (std::vector<std::string>{"id", "key", "config", "status", "reason", "attempts",
                                                   "completions", "backend", "wall_seconds", "started_at",
                                                   "finished_at"}));
}

TEST(ResultStore, RegisteringTwiceAddsNothing) {
  const ScratchDir dir;
  const std::vector<RunConfig> configs = testing::make_configs(1000);
  {
    auto store = ResultStore::open(dir.path(), true);
    store->register_runs(kGridExperiment, "grid", configs);
    store->register_runs(kGridExperiment, "grid", configs);
    const std::vector<store::RunRow> rows = store->runs();
    ASSERT_EQ(rows.size(), 1000u);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].id, static_cast<std::int64_t>(i + 1));  // ids follow registration order
      EXPECT_EQ(rows[i].key, run_key(configs[i]));
      EXPECT_EQ(rows[i].config_json, canonical_json(configs[i]));
      EXPECT_EQ(rows[i].status, RunStatus::Pending);
    }
    const store::StoreSummary summary = store->summary();
    EXPECT_EQ(summary.total, 1000);
    EXPECT_EQ(summary.pending, 1000);
    EXPECT_EQ(summary.done + summary.failed + summary.running, 0);
    EXPECT_EQ(summary.experiment_name, "grid");
  }
  // Reopened (a resumed sweep) with 10 more runs: only those are added.
  std::vector<RunConfig> grown = configs;
  for (const RunConfig& config : testing::make_configs(10, 3.1)) grown.push_back(config);
  {
    auto store = ResultStore::open(dir.path(), false);
    store->register_runs(kGridExperiment, "grid", grown);
    EXPECT_EQ(store->summary().total, 1010);
  }
  RawDatabase raw(db_file(dir));
  EXPECT_EQ(raw.integer("SELECT count(*) FROM runs"), 1010);
  EXPECT_EQ(raw.integer("SELECT count(DISTINCT key) FROM runs"), 1010);
  // One params row per run and parameter, each holding the config's value with its type.
  EXPECT_EQ(raw.integer("SELECT count(*) FROM params"), 1010 * static_cast<std::int64_t>(run_parameters().size()));
  const auto etas = raw.named_numbers("SELECT r.key, p.value FROM params p JOIN runs r ON r.id = p.run_id "
                                      "WHERE p.key = 'optim.eta' ORDER BY r.id");
  ASSERT_EQ(etas.size(), grown.size());
  for (std::size_t i = 0; i < grown.size(); ++i) EXPECT_EQ(bits(etas[i].second), bits(grown[i].eta)) << i;
  EXPECT_EQ(raw.integer("SELECT value FROM params WHERE key = 'run.seed' AND run_id = 17"), 16);
  EXPECT_EQ(raw.rows("SELECT typeof(value) FROM params WHERE key = 'model.init' AND run_id = 1"),
            (std::vector<std::vector<std::string>>{{"text"}}));
}

TEST(ResultStore, StatusTransitions) {
  const ScratchDir dir;
  const std::vector<RunConfig> configs = testing::make_configs(5);
  auto store = ResultStore::open(dir.path(), true);
  store->register_runs(kGridExperiment, "grid", configs);
  std::vector<store::RunRow> pending = store->pending_runs();
  ASSERT_EQ(pending.size(), 5u);
  EXPECT_TRUE(std::is_sorted(pending.begin(), pending.end(), [](const auto& a, const auto& b) { return a.id < b.id; }));

  const std::vector<std::int64_t> first_two = {pending[0].id, pending[1].id};
  store->mark_running(first_two);
  store::StoreSummary summary = store->summary();
  EXPECT_EQ(summary.pending, 3);
  EXPECT_EQ(summary.running, 2);
  pending = store->pending_runs();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].id, first_two[1] + 1);

  Rng rng(7);
  std::vector<RunResult> results = {testing::make_result(configs[0], rng), testing::make_result(configs[1], rng)};
  results[1].status = RunStatus::Failed;
  results[1].reason = "diverged at step 12: loss 3e13";
  store->write_results(results);
  summary = store->summary();
  EXPECT_EQ(summary.total, 5);
  EXPECT_EQ(summary.done, 1);
  EXPECT_EQ(summary.failed, 1);
  EXPECT_EQ(summary.running, 0);
  EXPECT_EQ(summary.pending, 3);
  const std::vector<store::RunRow> rows = store->runs();
  EXPECT_EQ(rows[0].status, RunStatus::Done);
  EXPECT_EQ(rows[1].status, RunStatus::Failed);
  EXPECT_EQ(rows[1].reason, "diverged at step 12: loss 3e13");

  // A run in flight when its process died goes back to pending; its attempt stays counted.
  const std::vector<std::int64_t> third = {rows[2].id};
  store->mark_running(third);
  EXPECT_EQ(store->summary().running, 1);
  store->reset_in_flight();
  summary = store->summary();
  EXPECT_EQ(summary.running, 0);
  EXPECT_EQ(summary.pending, 3);
  store->mark_running(third);

  RawDatabase raw(db_file(dir));
  EXPECT_EQ(raw.rows("SELECT id, status, attempts, completions, backend FROM runs ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"1", "done", "1", "1", "cpu"},
                                                   {"2", "failed", "1", "1", "cpu"},
                                                   {"3", "running", "2", "0", "<null>"},
                                                   {"4", "pending", "0", "0", "<null>"},
                                                   {"5", "pending", "0", "0", "<null>"}}));
  EXPECT_EQ(raw.integer("SELECT count(*) FROM runs WHERE started_at IS NOT NULL"), 3);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL"), 2);
  // The metrics, log and network as written, bit for bit.
  const auto metrics = raw.named_numbers("SELECT metric, value FROM metrics WHERE run_id = 1 ORDER BY metric");
  std::vector<std::pair<std::string, double>> expected = results[0].metrics;
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(metrics.size(), expected.size());
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    EXPECT_EQ(metrics[i].first, expected[i].first);
    EXPECT_EQ(bits(metrics[i].second), bits(expected[i].second));
  }
  const auto log = raw.named_numbers("SELECT step, value FROM logs WHERE run_id = 1 ORDER BY step");
  ASSERT_EQ(log.size(), results[0].log.size());
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].first, std::to_string(results[0].log[i].step));
    EXPECT_EQ(bits(log[i].second), bits(results[0].log[i].value));
  }
  EXPECT_EQ(raw.rows("SELECT net FROM nets WHERE run_id = 1"),
            (std::vector<std::vector<std::string>>{{results[0].net_json}}));
}

TEST(ResultStore, DoneRunIsNeverRecordedTwice) {
  const ScratchDir dir;
  const std::vector<RunConfig> configs = testing::make_configs(2);
  auto store = ResultStore::open(dir.path(), true);
  store->register_runs(kGridExperiment, "grid", configs);
  Rng rng(11);
  const RunResult first = testing::make_result(configs[0], rng);
  store->write_results(std::span(&first, 1));

  RunResult second = testing::make_result(configs[0], rng, 5);
  second.status = RunStatus::Failed;
  second.reason = "second write";
  store->write_results(std::span(&second, 1));
  // Marking it running again (a stale queue) does not disturb it either.
  const std::vector<std::int64_t> done_id = {1};
  store->mark_running(done_id);

  EXPECT_EQ(store->runs()[0].status, RunStatus::Done);
  EXPECT_EQ(store->runs()[0].reason, "");
  RawDatabase raw(db_file(dir));
  EXPECT_EQ(raw.integer("SELECT completions FROM runs WHERE id = 1"), 1);
  EXPECT_EQ(raw.integer("SELECT attempts FROM runs WHERE id = 1"), 0);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM logs WHERE run_id = 1"), 3);
  const auto loss = raw.named_numbers("SELECT metric, value FROM metrics WHERE run_id = 1 AND metric = 'loss'");
  ASSERT_EQ(loss.size(), 1u);
  EXPECT_EQ(bits(loss[0].second), bits(first.metrics[0].second));

  // A failed run, in contrast, is replaced by a later completion, with nothing of the failure left.
  RunResult failure = testing::make_result(configs[1], rng, 4);
  failure.status = RunStatus::Failed;
  failure.reason = "diverged";
  failure.metrics.push_back({"only_in_failure", 1.0});
  store->write_results(std::span(&failure, 1));
  const RunResult success = testing::make_result(configs[1], rng, 2);
  store->write_results(std::span(&success, 1));
  EXPECT_EQ(raw.rows("SELECT status, reason, completions FROM runs WHERE id = 2"),
            (std::vector<std::vector<std::string>>{{"done", "", "2"}}));
  EXPECT_EQ(raw.integer("SELECT count(*) FROM metrics WHERE run_id = 2"), 3);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM logs WHERE run_id = 2"), 2);
}

TEST(ResultStore, BatchWithAnUnknownRunWritesNothing) {
  const ScratchDir dir;
  const std::vector<RunConfig> configs = testing::make_configs(3);
  auto store = ResultStore::open(dir.path(), true);
  store->register_runs(kGridExperiment, "grid", configs);
  Rng rng(3);
  std::vector<RunResult> batch = {testing::make_result(configs[0], rng), testing::make_result(configs[1], rng)};
  batch[1].key = "0123456789abcdef";
  RELUSTAB_EXPECT_INPUT_ERROR(store->write_results(batch), "results.sqlite", "no run with key 0123456789abcdef");
  // One transaction: the valid first result was rolled back with the rest.
  EXPECT_EQ(store->summary().done, 0);
  RawDatabase raw(db_file(dir));
  EXPECT_EQ(raw.integer("SELECT count(*) FROM metrics"), 0);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM logs"), 0);
}

TEST(ResultStore, ExportCsvReadsBackExactly) {
  const ScratchDir dir;
  std::vector<RunConfig> configs = testing::make_configs(40);
  configs[3].data_file = "data, \"quoted\".csv";      // needs CSV quoting
  configs[4].seed = 18446744073709551557ULL;          // above 2^63: an unsigned column
  configs[5].log_sharpness = true;
  configs[6].eta = 0.1 + 0.2;                         // 0.30000000000000004
  auto store = ResultStore::open(dir.path(), true);
  store->register_runs(kGridExperiment, "grid", configs);

  // Metric values that stress exact printing, a NaN and -0; some runs lack some metrics.
  const Vec stress = testing::stress_values(200, 99);
  std::map<std::string, std::map<std::string, double>> written;  // key -> metric -> value
  std::vector<RunResult> results;
  Index next = 0;
  for (std::size_t i = 0; i < configs.size(); i += 2) {
    RunResult result;
    result.key = run_key(configs[i]);
    result.status = i % 6 == 0 ? RunStatus::Failed : RunStatus::Done;
    if (result.status == RunStatus::Failed) result.reason = "diverged at step " + std::to_string(i) + ", loss \"inf\"\nstop";
    result.metrics = {{"loss", stress[next++]}, {"sharpness", stress[next++]}};
    if (i % 4 == 0) result.metrics.push_back({"mse_clean", stress[next++]});
    if (i == 8) result.metrics.push_back({"gn_sharpness", std::nan("")});
    if (i == 10) result.metrics.push_back({"gn_sharpness", -0.0});
    for (const auto& [name, value] : result.metrics) written[result.key][name] = value;
    results.push_back(result);
  }
  store->write_results(results);

  const auto table = testing::parse_csv(store->export_csv());
  const std::span<const ParamSpec> parameters = run_parameters();
  std::set<std::string> metric_names;
  for (const auto& [key, metrics] : written) {
    for (const auto& [name, value] : metrics) metric_names.insert(name);
  }
  std::vector<std::string> header = {"id", "key", "status", "reason"};
  for (const ParamSpec& spec : parameters) header.emplace_back(spec.key);
  header.insert(header.end(), metric_names.begin(), metric_names.end());  // std::set: sorted
  ASSERT_EQ(table.size(), configs.size() + 1);
  EXPECT_EQ(table[0], header);

  std::map<std::string, std::size_t> column;
  for (std::size_t c = 0; c < header.size(); ++c) column[header[c]] = c;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    SCOPED_TRACE("run " + std::to_string(i));
    const std::vector<std::string>& row = table[i + 1];
    ASSERT_EQ(row.size(), header.size());
    const std::string key = run_key(configs[i]);
    EXPECT_EQ(row[0], std::to_string(i + 1));
    EXPECT_EQ(row[1], key);
    const bool finished = i % 2 == 0;
    EXPECT_EQ(row[2], !finished ? "pending" : i % 6 == 0 ? "failed" : "done");
    EXPECT_EQ(row[3], finished && i % 6 == 0 ? "diverged at step " + std::to_string(i) + ", loss \"inf\"\nstop" : "");
    // Parameters: the RunConfig fields themselves, read back from their text.
    EXPECT_EQ(bits(std::strtod(row[column["optim.eta"]].c_str(), nullptr)), bits(configs[i].eta));
    EXPECT_EQ(std::stoll(row[column["model.width"]]), configs[i].width);
    EXPECT_EQ(std::stoull(row[column["run.seed"]]), configs[i].seed);
    // A run on a data file: the generator's keys are not what ran, so their cells are empty.
    const bool from_file = !configs[i].data_file.empty();
    if (from_file) {
      EXPECT_EQ(row[column["data.seed"]], "");
      EXPECT_EQ(row[column["data.noise"]], "");
    } else {
      EXPECT_EQ(std::stoull(row[column["data.seed"]]), configs[i].data_seed);
      EXPECT_EQ(bits(std::strtod(row[column["data.noise"]].c_str(), nullptr)), bits(configs[i].noise));
    }
    EXPECT_EQ(row[column["data.file"]], configs[i].data_file);
    EXPECT_EQ(row[column["measure.log_sharpness"]], configs[i].log_sharpness ? "true" : "false");
    // Metrics: bit-exact through the shortest round-trip text; empty where the run has none or NaN.
    for (const std::string& name : metric_names) {
      const std::string& cell = row[column[name]];
      const auto run = written.find(key);
      if (run == written.end() || !run->second.contains(name)) {
        EXPECT_EQ(cell, "") << name;
        continue;
      }
      const double value = run->second.at(name);
      const double read = std::strtod(cell.c_str(), nullptr);
      if (std::isnan(value)) {
        EXPECT_EQ(cell, "") << name;
      } else {
        EXPECT_EQ(bits(read), bits(value)) << name << " = " << cell;
      }
    }
  }
  EXPECT_EQ(table[7][column["optim.eta"]], "0.30000000000000004");  // shortest that reads back exactly
  EXPECT_EQ(table[2][column["optim.eta"]], "0.02");                 // not 0.020000000000000000416
  EXPECT_EQ(table[11][column["gn_sharpness"]], "-0");
}

TEST(ResultStore, NewerSchemaIsRefused) {
  const ScratchDir dir;
  { auto store = ResultStore::open(dir.path(), true); }
  {
    RawDatabase raw(db_file(dir));
    raw.exec("UPDATE meta SET value = 7 WHERE key = 'schema_version'");
  }
  for (const bool create : {false, true}) {
    RELUSTAB_EXPECT_INPUT_ERROR(ResultStore::open(dir.path(), create),
                                db_file(dir) + ": schema version 7 is newer than this relustab (1); upgrade relustab");
  }
  // The refusal leaves the database as it was.
  RawDatabase raw(db_file(dir));
  EXPECT_EQ(raw.integer("SELECT value FROM meta WHERE key = 'schema_version'"), 7);
}

TEST(ResultStore, FilesThatAreNotResultsDatabasesAreRefused) {
  const ScratchDir dir;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "x,y\n0.5,1.25\n";
  testing::write_bytes(db_file(dir), text);
  for (const bool create : {false, true}) {
    RELUSTAB_EXPECT_INPUT_ERROR(ResultStore::open(dir.path(), create), db_file(dir), "not a relustab results database");
  }
  EXPECT_EQ(testing::read_text(db_file(dir)), text);  // untouched

  // An SQLite database of something else.
  std::filesystem::remove(db_file(dir));
  {
    RawDatabase raw(db_file(dir), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    raw.exec("CREATE TABLE points(x REAL, y REAL)");
  }
  RELUSTAB_EXPECT_INPUT_ERROR(ResultStore::open(dir.path(), true), db_file(dir), "no meta table");

  // Nothing there without `create`.
  RELUSTAB_EXPECT_INPUT_ERROR(ResultStore::open(dir.file("absent"), false), dir.file("absent"),
                              "no such experiment directory");
  std::filesystem::create_directory(dir.file("empty"));
  RELUSTAB_EXPECT_INPUT_ERROR(ResultStore::open(dir.file("empty"), false), dir.file("empty") + "/results.sqlite");
  EXPECT_FALSE(std::filesystem::exists(dir.file("empty/results.sqlite")));
}

TEST(ResultStore, OneWriterAtATime) {
  const ScratchDir dir;
  const std::string message = ": another relustab process is writing to this experiment (results.lock)";
  {
    auto writer = ResultStore::open(dir.path(), true);
    // flock locks belong to the open file description: a second open in this process conflicts.
    RELUSTAB_EXPECT_INPUT_ERROR(ResultStore::open(dir.path(), false), dir.path().string() + message);
    // So does an open from another process.
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      int code = 3;
      try {
        ResultStore::open(dir.path(), false);
        code = 0;
      } catch (const InputError& e) {
        code = std::string(e.what()).find(message) != std::string::npos ? 1 : 2;
      } catch (...) {
      }
      _exit(code);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1) << "1: refused with the lock message";
  }
  // Released when the writer is destroyed.
  auto next = ResultStore::open(dir.path(), false);
  EXPECT_EQ(next->summary().total, 0);
}

TEST(ResultStore, DifferentExperimentIsRefused) {
  const ScratchDir dir;
  auto store = ResultStore::open(dir.path(), true);
  store->register_runs(kGridExperiment, "grid", testing::make_configs(3));
  RELUSTAB_EXPECT_INPUT_ERROR(store->register_runs(kOtherExperiment, "widths", testing::make_configs(5)),
                              dir.path().string(), "different experiment", "--out");
  EXPECT_EQ(store->summary().total, 3);
  EXPECT_EQ(store->summary().experiment_name, "grid");
}

/// Merges shards written as `relustab sweep --shard i/2` would: every shard registers all runs and
/// finishes its own.
TEST(ResultStore, MergeOfShardsGivesTheUnion) {
  const ScratchDir dir;
  const std::vector<RunConfig> configs = testing::make_configs(30);
  std::map<std::string, RunResult> written;  // by key
  Rng rng(2024);
  // Shard 1 stays open while merging, as a job still running would: its WAL and shared-memory
  // files exist, and the merge reads its committed state without its lock.
  std::unique_ptr<ResultStore> live_shard;
  for (int shard = 0; shard < 2; ++shard) {
    auto store = ResultStore::open(dir.file("shard" + std::to_string(shard)), true);
    store->register_runs(kGridExperiment, "grid", configs);
    std::vector<RunResult> results;
    for (std::size_t i = static_cast<std::size_t>(shard); i < configs.size(); i += 2) {
      RunResult result = testing::make_result(configs[i], rng, 1 + static_cast<int>(i));
      if (i % 5 == 0) {
        result.status = RunStatus::Failed;
        result.reason = "diverged";
        result.net_json.clear();
      }
      if (i == 7) continue;  // left pending in its shard
      written[result.key] = result;
      results.push_back(result);
    }
    store->write_results(results);
    if (shard == 1) live_shard = std::move(store);
  }
  ASSERT_TRUE(std::filesystem::exists(dir.file("shard1/results.sqlite-wal")));

  const std::string merged_dir = dir.file("merged");
  {
    auto merged = ResultStore::open(merged_dir, true);
    EXPECT_EQ(merged->merge_from(dir.file("shard0")), 15);
    EXPECT_EQ(merged->merge_from(dir.file("shard1")), 14);
    EXPECT_EQ(merged->merge_from(dir.file("shard1")), 0);  // merging again changes nothing
    const store::StoreSummary summary = merged->summary();
    EXPECT_EQ(summary.total, 30);
    EXPECT_EQ(summary.pending, 1);
    EXPECT_EQ(summary.failed, 6);
    EXPECT_EQ(summary.done, 23);
    EXPECT_EQ(summary.experiment_name, "grid");
    // The merged directory is the same experiment: registering it adds nothing.
    merged->register_runs(kGridExperiment, "grid", configs);
    EXPECT_EQ(merged->summary().total, 30);
    EXPECT_EQ(merged->pending_runs().at(0).key, run_key(configs[7]));
  }

  RawDatabase raw(merged_dir + "/results.sqlite");
  for (const auto& [key, result] : written) {
    SCOPED_TRACE(key);
    const std::string where = " WHERE run_id = (SELECT id FROM runs WHERE key = '" + key + "')";
    EXPECT_EQ(raw.rows("SELECT status, reason, backend FROM runs WHERE key = '" + key + "'"),
              (std::vector<std::vector<std::string>>{
                  {result.status == RunStatus::Done ? "done" : "failed", result.reason, result.backend}}));
    auto metrics = raw.named_numbers("SELECT metric, value FROM metrics" + where + " ORDER BY metric");
    std::vector<std::pair<std::string, double>> expected = result.metrics;
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(metrics.size(), expected.size());
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      EXPECT_EQ(metrics[m].first, expected[m].first);
      EXPECT_EQ(bits(metrics[m].second), bits(expected[m].second));
    }
    const auto log = raw.named_numbers("SELECT step, value FROM logs" + where + " ORDER BY step");
    ASSERT_EQ(log.size(), result.log.size());
    for (std::size_t s = 0; s < log.size(); ++s) EXPECT_EQ(bits(log[s].second), bits(result.log[s].value));
    EXPECT_EQ(raw.integer("SELECT count(*) FROM nets" + where), result.net_json.empty() ? 0 : 1);
  }
  EXPECT_EQ(raw.integer("SELECT count(*) FROM params"), 30 * static_cast<std::int64_t>(run_parameters().size()));
  EXPECT_EQ(raw.integer("SELECT count(*) FROM params WHERE key = 'model.width' AND value = 6"), 10);
}

TEST(ResultStore, MergeOfADifferentExperimentIsRefused) {
  const ScratchDir dir;
  {
    auto other = ResultStore::open(dir.file("other"), true);
    other->register_runs(kOtherExperiment, "widths", testing::make_configs(4));
  }
  auto store = ResultStore::open(dir.file("main"), true);
  store->register_runs(kGridExperiment, "grid", testing::make_configs(4));
  RELUSTAB_EXPECT_INPUT_ERROR(store->merge_from(dir.file("other")), dir.file("other") + "/results.sqlite",
                              "different experiment");
  RELUSTAB_EXPECT_INPUT_ERROR(store->merge_from(dir.file("nowhere")), dir.file("nowhere") + "/results.sqlite");
  EXPECT_EQ(store->summary().total, 4);
}

}  // namespace
}  // namespace relustab

namespace relustab {
namespace {

TEST(ResultStore, ADataFileRunRecordsTheFileNotTheGeneratorAndMergeCarriesIt) {
  const ScratchDir dir;
  std::vector<RunConfig> configs = testing::make_configs(2);
  for (RunConfig& config : configs) config.data_file = "/data/points.csv";
  RunResult result;
  result.key = run_key(configs[0]);
  result.metrics = {{"loss", 0.25}};
  result.data_file = RunResult::DataFileRecord{17, 3, "fnv1a64:0123456789abcdef"};
  {
    auto shard = ResultStore::open(dir.file("shard"), true);
    shard->register_runs(kGridExperiment, "grid", configs);
    shard->write_results({&result, 1});
  }
  auto store = ResultStore::open(dir.file("main"), true);
  store->register_runs(kGridExperiment, "grid", configs);
  EXPECT_EQ(store->merge_from(dir.file("shard")), 1);
  for (const std::string& database : {dir.file("shard") + "/results.sqlite", dir.file("main") + "/results.sqlite"}) {
    SCOPED_TRACE(database);
    RawDatabase raw(database, SQLITE_OPEN_READONLY);
    const std::string of_run = "SELECT value FROM params WHERE run_id = ";
    // The finished run: the file's sizes and hash; the generator's other keys NULL.
    EXPECT_EQ(raw.integer(of_run + "1 AND key = 'data.n'"), 17);
    EXPECT_EQ(raw.integer(of_run + "1 AND key = 'data.dim'"), 3);
    EXPECT_EQ(raw.rows(of_run + "1 AND key = 'data.file_hash'"),
              (std::vector<std::vector<std::string>>{{"fnv1a64:0123456789abcdef"}}));
    for (const char* unused : {"data.target", "data.noise", "data.lo", "data.hi", "data.inputs", "data.seed"}) {
      EXPECT_EQ(raw.rows(of_run + "1 AND key = '" + unused + "'"),
                (std::vector<std::vector<std::string>>{{"<null>"}}))
          << unused;
    }
    // The pending run: sizes unknown yet (NULL), no hash row; the file path and the model as given.
    EXPECT_EQ(raw.rows(of_run + "2 AND key = 'data.n'"), (std::vector<std::vector<std::string>>{{"<null>"}}));
    EXPECT_EQ(raw.integer("SELECT count(*) FROM params WHERE run_id = 2 AND key = 'data.file_hash'"), 0);
    EXPECT_EQ(raw.rows(of_run + "2 AND key = 'data.file'"),
              (std::vector<std::vector<std::string>>{{"/data/points.csv"}}));
    EXPECT_EQ(raw.integer(of_run + "2 AND key = 'model.width'"), configs[1].width);
  }
}

}  // namespace
}  // namespace relustab
