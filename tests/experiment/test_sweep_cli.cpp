// SPDX-License-Identifier: MIT
// `relustab sweep/status/export/merge` end to end: a sweep run replays from `relustab data` +
// `relustab train`; exports identical for 1 or 2 jobs and for shards run in either order and merged;
// kill -9 in the middle and a resume complete every run exactly once with the uninterrupted result;
// diverging runs failed with a reason; bad experiment files and newer databases refused (exit 2).
#include <relustab/experiment/result_store.h>
#include <relustab/io/formats.h>

#include "cli/cli_runner.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace relustab::test {
namespace {

/// Columns that hold times rather than results; everything else must match exactly.
const std::set<std::string> kTimingColumns = {"wall_seconds", "started_at", "finished_at", "attempts",
                                              "completions"};

/// 24 tiny runs: 3 step sizes (the largest diverges) x 2 sample sizes x 4 seeds.
const char* kDeterminismToml = R"(name = "determinism"
[data]
n = 10
noise = 0.1
seed = 4
[model]
width = 10
[optim]
max_steps = 300
[measure]
log_every = 100
log_sharpness = true
[sweep]
"optim.eta" = [0.02, 0.1, 300.0]
"data.n" = [10, 14]
seeds = [1, 2, 3, 4]
)";

/// 200 short runs (about 10 ms each) for the kill test: the loss never reaches 0, so every run
/// takes max_steps.
const char* kKillToml = R"(name = "kill"
[data]
n = 12
noise = 0.1
[model]
width = 12
[optim]
eta = 0.05
max_steps = 10000
loss_tol = 0.0
[measure]
final_analysis = true
[sweep]
"data.seed" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
seeds = { count = 20 }
)";



/// Splits a CSV line (the export quotes only reasons, which hold no commas in these tests).
std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

/// The CSV without timing columns.
std::string without_timing(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split_line(line);
  std::vector<bool> keep;
  for (const auto& name : header) keep.push_back(kTimingColumns.count(name) == 0);
  std::string out;
  auto append = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i < keep.size() && !keep[i]) continue;
      out += cells[i];
      out += ',';
    }
    out += '\n';
  };
  append(header);
  while (std::getline(in, line)) append(split_line(line));
  return out;
}

std::string export_csv(const std::string& dir) {
  return without_timing(must_run("export " + quote(dir) + " --csv"));
}

/// Results of a database directly through SQLite (the oracle for what the store holds).
class Database {
 public:
  explicit Database(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK) << path;
  }
  ~Database() { sqlite3_close(db_); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// All rows of `sql`, cells separated by '|', rows by '\n'; reals printed exactly.
  std::string dump(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    std::string out;
    while (sqlite3_step(statement) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(statement); ++c) {
        if (sqlite3_column_type(statement, c) == SQLITE_FLOAT) {
          char text[40];
          std::snprintf(text, sizeof text, "%.17g", sqlite3_column_double(statement, c));
          out += text;
        } else if (const auto* t = sqlite3_column_text(statement, c)) {
          out += reinterpret_cast<const char*>(t);
        }
        out += '|';
      }
      out += '\n';
    }
    sqlite3_finalize(statement);
    return out;
  }
  std::int64_t count(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    const std::int64_t value =
        sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : -1;
    sqlite3_finalize(statement);
    return value;
  }
  void exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string database(const std::string& dir) { return dir + "/results.sqlite"; }

/// Logs and nets by run key: together with the export, everything a run stored.
std::string logs_and_nets(const std::string& dir) {
  Database db(database(dir));
  return db.dump("SELECT r.key, l.step, l.metric, l.value FROM logs l JOIN runs r ON r.id = l.run_id "
                 "ORDER BY r.key, l.step, l.metric") +
         db.dump("SELECT r.key, n.net FROM nets n JOIN runs r ON r.id = n.run_id ORDER BY r.key");
}

nlohmann::json status_json(const std::string& dir) {
  return nlohmann::json::parse(must_run("status " + quote(dir) + " --json"));
}

class SweepCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set (run through ctest)";
  }
  std::string dir(const std::string& name) const { return tmp_.file(name); }
  TempDir tmp_;
};

TEST_F(SweepCli, RunReplaysWithDataAndTrainCommands) {
  const std::string toml = tmp_.write("replay.toml", R"(name = "replay"
[data]
n = 12
noise = 0.1
seed = 5
[model]
width = 11
[optim]
eta = 0.07
max_steps = 250
[run]
seed = 9
)");
  must_run("sweep " + quote(toml) + " --out " + quote(dir("replay")) + " --quiet");
  Database db(database(dir("replay")));
  const std::string stored_net = db.dump("SELECT net FROM nets");
  ASSERT_FALSE(stored_net.empty());
  const ShallowReluNet from_sweep =
      io::parse_net_json(stored_net.substr(0, stored_net.size() - 2), "stored net");  // "|\n"

  must_run("data --out " + quote(dir("d.csv")) + " --n 12 --noise 0.1 --seed 5");
  must_run("train --data " + quote(dir("d.csv")) + " --width 11 --lr 0.07 --steps 250 --seed 9 --out " +
           quote(dir("train")));
  const ShallowReluNet from_train = io::read_net_json(dir("train") + "/net.json");
  ASSERT_EQ(from_sweep.n_params(), from_train.n_params());
  for (Index p = 0; p < from_train.n_params(); ++p) {
    EXPECT_EQ(from_sweep.theta()[p], from_train.theta()[p]) << "parameter " << p;
  }
}

TEST_F(SweepCli, ExportsIdenticalForJobsAndShardsInEitherOrder) {
  const std::string toml = tmp_.write("determinism.toml", kDeterminismToml);
  const std::string one = dir("one"), two = dir("two"), sharded = dir("sharded"),
                    reversed = dir("reversed");
  must_run("sweep " + quote(toml) + " --out " + quote(one) + " --jobs 1 --quiet");
  must_run("sweep " + quote(toml) + " --out " + quote(two) + " --jobs 2 --quiet");
  // Shards run in opposite orders, each single-threaded, so the runs execute in different orders.
  must_run("sweep " + quote(toml) + " --out " + quote(sharded) + " --shard 0/2 --jobs 1 --quiet");
  must_run("sweep " + quote(toml) + " --out " + quote(sharded) + " --shard 1/2 --jobs 1 --quiet");
  must_run("sweep " + quote(toml) + " --out " + quote(reversed) + " --shard 1/2 --jobs 2 --quiet");
  must_run("sweep " + quote(toml) + " --out " + quote(reversed) + " --shard 0/2 --jobs 2 --quiet");

  // Before merging: each shard counts only its own runs.
  const nlohmann::json shards = status_json(sharded);
  EXPECT_EQ(shards["total"], 24);
  EXPECT_EQ(shards["done"].get<int>() + shards["failed"].get<int>(), 24);
  ASSERT_EQ(shards["shards"].size(), 2u);
  for (const auto& shard : shards["shards"]) EXPECT_EQ(shard["total"], 12);
  EXPECT_EQ(run_relustab("export " + quote(sharded) + " --csv").exit_code, 2);  // merge first

  must_run("merge " + quote(sharded));
  must_run("merge " + quote(reversed));

  const std::string reference = export_csv(one);
  EXPECT_EQ(std::count(reference.begin(), reference.end(), '\n'), 25);  // header + 24 runs
  EXPECT_EQ(export_csv(two), reference);
  EXPECT_EQ(export_csv(sharded), reference);
  EXPECT_EQ(export_csv(reversed), reference);
  const std::string stored = logs_and_nets(one);
  EXPECT_EQ(logs_and_nets(two), stored);
  EXPECT_EQ(logs_and_nets(sharded), stored);
  EXPECT_EQ(logs_and_nets(reversed), stored);

  // The 8 runs at eta = 300 diverged: failed with the reason, and the sweep finished the rest.
  const nlohmann::json status = status_json(one);
  EXPECT_EQ(status["total"], 24);
  EXPECT_EQ(status["done"], 16);
  EXPECT_EQ(status["failed"], 8);
  Database db(database(one));
  EXPECT_EQ(db.count("SELECT count(*) FROM runs r JOIN params p ON p.run_id = r.id "
                     "WHERE p.key = 'optim.eta' AND p.value = 300.0 AND r.status = 'failed' "
                     "AND r.reason LIKE 'diverged at step %'"),
            8);
}

TEST_F(SweepCli, ExportToFile) {
  const std::string toml = tmp_.write("determinism.toml", kDeterminismToml);
  must_run("sweep " + quote(toml) + " --out " + quote(dir("x")) + " --quiet --set optim.max_steps=20");
  must_run("export " + quote(dir("x")) + " --csv --out " + quote(dir("x.csv")));
  EXPECT_EQ(slurp(dir("x.csv")), must_run("export " + quote(dir("x")) + " --csv"));
}

/// Starts `relustab args...` in the background, output discarded; returns its pid.
pid_t spawn_relustab(const std::vector<std::string>& args) {
  std::vector<std::string> argv_storage = {relustab_bin()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "posix_spawn " << argv[0];
  return rc == 0 ? pid : -1;
}

TEST_F(SweepCli, KillNineThenResumeDoesEveryRunExactlyOnce) {
  const std::string toml = tmp_.write("kill.toml", kKillToml);
  const std::string killed = dir("killed");
  constexpr int kRuns = 200;
  constexpr int kKillAfter = 20;  // finished runs before the kill

  const pid_t pid = spawn_relustab({"sweep", toml, "--out", killed, "--jobs", "2", "--quiet"});
  ASSERT_GT(pid, 0);
  int finished = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (finished < kKillAfter && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const CommandResult r = run_relustab("status " + quote(killed) + " --json");
    if (r.exit_code != 0) continue;  // the database is not created yet
    const nlohmann::json status = nlohmann::json::parse(r.out);
    finished = status["done"].get<int>() + status["failed"].get<int>();
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int wait_status = 0;
  ASSERT_EQ(::waitpid(pid, &wait_status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << "the sweep ended before it could be killed";
  EXPECT_EQ(WTERMSIG(wait_status), SIGKILL);

  const nlohmann::json at_kill = status_json(killed);
  ASSERT_EQ(at_kill["total"], kRuns);
  const int unfinished = at_kill["pending"].get<int>() + at_kill["running"].get<int>();
  EXPECT_GE(at_kill["done"].get<int>(), kKillAfter);
  ASSERT_GT(unfinished, 0) << "every run finished before the kill: make the runs longer";
  const int running_at_kill = at_kill["running"].get<int>();

  // The same command again finishes what is missing.
  must_run("sweep " + quote(toml) + " --out " + quote(killed) + " --jobs 2 --quiet");
  const nlohmann::json resumed = status_json(killed);
  EXPECT_EQ(resumed["done"], kRuns);
  EXPECT_EQ(resumed["running"], 0);
  EXPECT_EQ(resumed["pending"], 0);
  {
    Database db(database(killed));
    EXPECT_EQ(db.count("SELECT count(*) FROM runs"), kRuns);
    EXPECT_EQ(db.count("SELECT count(*) FROM runs WHERE completions = 1"), kRuns);
    EXPECT_EQ(db.count("SELECT count(*) FROM nets"), kRuns);
    // Runs in flight at the kill were started again.
    if (running_at_kill > 0) {
      EXPECT_GE(db.count("SELECT count(*) FROM runs WHERE attempts > 1"), 1);
    }
  }

  const std::string uninterrupted = dir("uninterrupted");
  must_run("sweep " + quote(toml) + " --out " + quote(uninterrupted) + " --jobs 2 --quiet");
  EXPECT_EQ(export_csv(killed), export_csv(uninterrupted));
  EXPECT_EQ(logs_and_nets(killed), logs_and_nets(uninterrupted));
}


TEST_F(SweepCli, MalformedExperimentFileNamesFileAndLine) {
  const std::string syntax = tmp_.write("syntax.toml", "name = \"x\"\n[optim]\neta = = 0.1\n");
  expect_bad_input("sweep " + quote(syntax) + " --out " + quote(dir("o1")), {"syntax.toml", ":3"});
  const std::string unknown = tmp_.write("unknown.toml", "name = \"x\"\n[optim]\netaa = 0.1\n");
  expect_bad_input("sweep " + quote(unknown) + " --out " + quote(dir("o2")),
                   {"unknown.toml", ":3", "etaa"});
  const std::string type = tmp_.write("type.toml", "name = \"x\"\n\n[model]\nwidth = \"ten\"\n");
  expect_bad_input("sweep " + quote(type) + " --out " + quote(dir("o3")), {"type.toml", ":4", "width"});
  EXPECT_FALSE(std::filesystem::exists(dir("o1")));  // nothing written for bad input
}

TEST_F(SweepCli, EmptyAxisIsBadInput) {
  const std::string empty =
      tmp_.write("empty.toml", "name = \"x\"\n[sweep]\n\"optim.eta\" = []\n");
  expect_bad_input("sweep " + quote(empty) + " --out " + quote(dir("o")), {"empty.toml", "optim.eta"});
}

TEST_F(SweepCli, BadShardAndOverrideAreBadInput) {
  const std::string toml = tmp_.write("determinism.toml", kDeterminismToml);
  expect_bad_input("sweep " + quote(toml) + " --out " + quote(dir("o")) + " --shard 2/2", {"--shard"});
  expect_bad_input("sweep " + quote(toml) + " --out " + quote(dir("o")) + " --shard x", {"--shard"});
  expect_bad_input("sweep " + quote(toml) + " --out " + quote(dir("o")) + " --set optim.nope=1",
                   {"optim.nope"});
  expect_bad_input("status " + quote(dir("absent")), {"absent"});
  expect_bad_input("merge " + quote(tmp_.path().string()), {"shard"});
}

TEST_F(SweepCli, DifferentExperimentInSameDirectoryIsRefused) {
  const std::string toml = tmp_.write("determinism.toml", kDeterminismToml);
  must_run("sweep " + quote(toml) + " --out " + quote(dir("o")) + " --quiet --set optim.max_steps=10");
  expect_bad_input("sweep " + quote(toml) + " --out " + quote(dir("o")) + " --set optim.max_steps=11",
                   {"different experiment"});
}

TEST_F(SweepCli, NewerSchemaIsRefused) {
  const std::string toml = tmp_.write("determinism.toml", kDeterminismToml);
  const std::string out = dir("newer");
  must_run("sweep " + quote(toml) + " --out " + quote(out) + " --quiet --set optim.max_steps=10");
  {
    Database db(database(out));
    db.exec("UPDATE meta SET value = " + std::to_string(store::kSchemaVersion + 1) +
            " WHERE key = 'schema_version'");
  }
  for (const std::string& command :
       {"sweep " + quote(toml) + " --out " + quote(out) + " --quiet --set optim.max_steps=10",
        "status " + quote(out), "export " + quote(out) + " --csv"}) {
    expect_bad_input(command, {"results.sqlite", "schema version", "newer"});
  }
}

}  // namespace
}  // namespace relustab::test
