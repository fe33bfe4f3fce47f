// SPDX-License-Identifier: MIT
// Rerunning a sweep into its directory: an axis with new values adds the new runs and keeps the
// finished ones untouched (rows, timestamps, metrics); a changed fixed setting or a dropped axis value
// is refused naming the key with both values. Runs on a data file record the file's sample count and
// content hash (not the generator's unused defaults). The CSV export: shortest numbers, no quoted
// lists, the outcome as text, and `export DIR` without --csv.
#include "cli/cli_runner.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace relustab::test {
namespace {



/// The rows of one query as text cells (NULL as "NULL"), read with SQLite directly.
std::vector<std::vector<std::string>> query(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::vector<std::string>> rows;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(statement) == SQLITE_ROW) {
      auto& row = rows.emplace_back();
      for (int c = 0; c < sqlite3_column_count(statement); ++c) {
        const unsigned char* text = sqlite3_column_text(statement, c);
        row.emplace_back(sqlite3_column_type(statement, c) == SQLITE_NULL ? "NULL"
                                                                          : reinterpret_cast<const char*>(text));
      }
    }
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

std::string experiment(const std::string& etas) {
  return "name = \"grow\"\n[data]\nn = 8\nnoise = 0.1\nseed = 2\n[model]\nwidth = 6\n[optim]\nmax_steps = 60\n"
         "[measure]\nlog_every = 20\n[sweep]\n\"optim.eta\" = [" + etas + "]\nseeds = [1, 2]\n";
}

class SweepExtend : public ::testing::Test {
 protected:
  void SetUp() override {
    if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set (run through ctest)";
  }
  std::string db(const std::string& dir) const { return dir + "/results.sqlite"; }
  TempDir tmp_;
};

TEST_F(SweepExtend, NewAxisValuesAddRunsAndKeepTheFinishedOnes) {
  const std::string out = tmp_.file("runs");
  must_run("sweep " + quote(tmp_.write("a.toml", experiment("0.02, 0.05"))) + " --quiet --out " + quote(out));
  const std::string every_run = "SELECT id, key, status, attempts, completions, started_at, finished_at, "
                                "wall_seconds FROM runs ORDER BY id";
  const std::string every_metric = "SELECT run_id, metric, value FROM metrics ORDER BY run_id, metric";
  const std::string every_log = "SELECT run_id, step, metric, value FROM logs ORDER BY run_id, step, metric";
  const auto runs_before = query(db(out), every_run);
  const auto metrics_before = query(db(out), every_metric);
  const auto logs_before = query(db(out), every_log);
  ASSERT_EQ(runs_before.size(), 4u);
  ASSERT_FALSE(metrics_before.empty());

  // The same experiment with a third step size (in another file: the name is the experiment's).
  const CommandResult grown =
      run_relustab("sweep " + quote(tmp_.write("b.toml", experiment("0.02, 0.05, 0.08"))) + " --quiet --out " + quote(out));
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  const auto runs_after = query(db(out), every_run);
  ASSERT_EQ(runs_after.size(), 6u);
  // The four finished runs: the same rows, byte for byte (one attempt, same start and finish times).
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(runs_after[i], runs_before[i]) << "run " << i + 1;
  const auto metrics_after = query(db(out), every_metric + "");
  std::vector<std::vector<std::string>> old_metrics, old_logs;
  for (const auto& row : metrics_after) {
    if (std::stoi(row[0]) <= 4) old_metrics.push_back(row);
  }
  for (const auto& row : query(db(out), every_log)) {
    if (std::stoi(row[0]) <= 4) old_logs.push_back(row);
  }
  EXPECT_EQ(old_metrics, metrics_before);
  EXPECT_EQ(old_logs, logs_before);
  // The two new runs ran once each, and equal the same runs swept alone (a run depends only on its
  // configuration).
  for (std::size_t i = 4; i < 6; ++i) {
    EXPECT_EQ(runs_after[i][2], "done");
    EXPECT_EQ(runs_after[i][3], "1");
  }
  const std::string alone = tmp_.file("alone");
  must_run("sweep " + quote(tmp_.write("c.toml", experiment("0.08"))) + " --quiet --out " + quote(alone));
  const std::string by_key = "SELECT r.key, m.metric, m.value FROM metrics m JOIN runs r ON r.id = m.run_id "
                             "WHERE r.key IN (SELECT key FROM runs WHERE id > 4) ORDER BY r.key, m.metric";
  const std::string alone_by_key = "SELECT r.key, m.metric, m.value FROM metrics m JOIN runs r ON r.id = m.run_id "
                                   "ORDER BY r.key, m.metric";
  const auto grown_new = query(db(out), by_key);
  ASSERT_FALSE(grown_new.empty());
  EXPECT_EQ(grown_new, query(db(alone), alone_by_key));
  // Running the grown experiment again adds nothing.
  must_run("sweep " + quote(tmp_.file("b.toml")) + " --quiet --out " + quote(out));
  EXPECT_EQ(query(db(out), every_run), runs_after);
}

TEST_F(SweepExtend, AChangedFixedSettingOrADroppedValueIsRefusedNamingTheKey) {
  const std::string out = tmp_.file("runs");
  const std::string toml = tmp_.write("a.toml", experiment("0.02, 0.05"));
  must_run("sweep " + quote(toml) + " --quiet --out " + quote(out));
  const auto runs_before = query(db(out), "SELECT * FROM runs ORDER BY id");

  CommandResult r = run_relustab("sweep " + quote(toml) + " --quiet --out " + quote(out) + " --set optim.max_steps=70");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("optim.max_steps: 60 stored, 70 now"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("different experiment"), std::string::npos) << r.err;
  // An extension and a changed fixed key together: still refused.
  r = run_relustab("sweep " + quote(tmp_.write("b.toml", experiment("0.02, 0.05, 0.08"))) + " --quiet --out " +
                   quote(out) + " --set data.noise=0.2");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("data.noise: 0.1 stored, 0.2 now"), std::string::npos) << r.err;
  // A value dropped from an axis: its finished runs would no longer belong to the experiment.
  r = run_relustab("sweep " + quote(tmp_.write("c.toml", experiment("0.02"))) + " --quiet --out " + quote(out));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("axis \"optim.eta\" no longer has 0.05"), std::string::npos) << r.err;
  // Nothing was changed by the refusals.
  EXPECT_EQ(query(db(out), "SELECT * FROM runs ORDER BY id"), runs_before);
}

/// FNV-1a 64 of `bytes` as "fnv1a64:" + 16 hex digits, written here from the definition
/// (offset basis 14695981039346656037, prime 1099511628211).
std::string fnv1a64(const std::string& bytes) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const unsigned char c : bytes) {
    hash = (hash ^ c) * 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::string("fnv1a64:") + hex;
}

TEST_F(SweepExtend, RunsOnADataFileRecordItsSizeAndHashNotTheGeneratorsDefaults) {
  const std::string data = "x1,x2,y\n-1,0.5,0.2\n-0.3,0.1,0.1\n0.4,-0.7,-0.2\n0.9,0.2,0.5\n0.1,0.1,0\n";
  tmp_.write("d.csv", data);
  const std::string toml = tmp_.write(
      "f.toml", "name = \"file\"\n[data]\nfile = \"d.csv\"\n[model]\nwidth = 4\n[optim]\nmax_steps = 20\n"
                "[sweep]\nseeds = [1, 2]\n");
  const std::string out = tmp_.file("runs");
  must_run("sweep " + quote(toml) + " --quiet --out " + quote(out));
  const auto params = query(db(out), "SELECT run_id, key, value FROM params WHERE key IN ('data.n', 'data.dim', "
                                     "'data.target', 'data.noise', 'data.lo', 'data.hi', 'data.inputs', "
                                     "'data.seed', 'data.file_hash') ORDER BY run_id, key");
  std::map<std::string, std::string> first;
  for (const auto& row : params) {
    if (row[0] == "1") first[row[1]] = row[2];
  }
  EXPECT_EQ(first["data.n"], "5");  // the file's rows, not the default 30
  EXPECT_EQ(first["data.dim"], "2");
  EXPECT_EQ(first["data.file_hash"], fnv1a64(data));
  for (const char* unused : {"data.target", "data.noise", "data.lo", "data.hi", "data.inputs", "data.seed"}) {
    EXPECT_EQ(first[unused], "NULL") << unused;
  }
  EXPECT_EQ(params.size(), 18u);  // both runs
  // The export carries the same: n 5, empty generator cells, the hash column.
  const std::string csv = must_run("export " + quote(out));
  std::istringstream lines(csv);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  const auto cells = [](const std::string& line) {
    std::vector<std::string> fields;
    std::string cell;
    std::istringstream in(line);
    while (std::getline(in, cell, ',')) fields.push_back(cell);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    return fields;
  };
  const auto names = cells(header), values = cells(row);
  ASSERT_EQ(names.size(), values.size()) << header << "\n" << row;
  std::map<std::string, std::string> by_name;
  for (std::size_t i = 0; i < names.size(); ++i) by_name[names[i]] = values[i];
  EXPECT_EQ(by_name["data.n"], "5");
  EXPECT_EQ(by_name["data.target"], "");
  EXPECT_EQ(by_name["data.file_hash"], fnv1a64(data));
}

TEST_F(SweepExtend, ExportIsPlainCsvWithShortestNumbersAndTheOutcomeAsText) {
  const std::string out = tmp_.file("runs");
  must_run("sweep " + quote(tmp_.write("a.toml", experiment("0.05, 300"))) + " --quiet --out " + quote(out));
  const std::string plain = must_run("export " + quote(out));
  EXPECT_EQ(plain, must_run("export " + quote(out) + " --csv"));  // CSV is the default
  EXPECT_EQ(plain.find('"'), std::string::npos) << "no quoted cells:\n" << plain;
  std::istringstream lines(plain);
  std::string header;
  std::getline(lines, header);
  std::vector<std::string> names;
  {
    std::string cell;
    std::istringstream in(header);
    while (std::getline(in, cell, ',')) names.push_back(cell);
  }
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
  };
  ASSERT_LT(column("optim.eta"), names.size());
  ASSERT_LT(column("outcome"), names.size());
  ASSERT_LT(column("data.classes"), names.size());
  std::string line;
  std::map<std::string, int> outcomes;
  int rows = 0;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream in(line);
    while (std::getline(in, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    ASSERT_EQ(cells.size(), names.size()) << line;
    EXPECT_TRUE(cells[column("optim.eta")] == "0.05" || cells[column("optim.eta")] == "300") << line;
    EXPECT_EQ(cells[column("data.classes")], "0;1");
    ++outcomes[cells[column("outcome")]];
    ++rows;
  }
  EXPECT_EQ(rows, 4);
  // eta = 300 diverges; eta = 0.05 does not converge to 1e-6 in 60 steps.
  EXPECT_EQ(outcomes["diverged"], 2) << plain;
  EXPECT_EQ(outcomes["max_steps"], 2) << plain;
  // The stored outcome codes agree (2 diverged, 1 max_steps), read with SQLite.
  const auto codes = query(db(out), "SELECT r.id, m.value FROM runs r JOIN metrics m ON m.run_id = r.id "
                                    "WHERE m.metric = 'outcome' ORDER BY r.id");
  ASSERT_EQ(codes.size(), 4u);
}

}  // namespace
}  // namespace relustab::test
