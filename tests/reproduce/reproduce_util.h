// SPDX-License-Identifier: MIT
// Helpers of the reproduction tests: read a results database (runs, metrics, logs, nets) with SQLite
// directly, check figure files (PNG and PDF signatures) and the links of DIR/index.html, set
// environment variables for one scope.
#pragma once

#include "cli/cli_runner.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace relustab::test {

/// One row of the runs table with its parsed configuration and its metrics.
struct StoredRun {
  std::int64_t id = 0;
  nlohmann::json config;
  std::string status;
  std::string reason;
  std::map<std::string, double> metrics;
  /// The log rows: per metric, (step, value) in step order.
  std::map<std::string, std::vector<std::pair<std::int64_t, double>>> logs;

  bool has(const std::string& name) const { return metrics.count(name) > 0; }

  double metric(const std::string& name) const {
    const auto it = metrics.find(name);
    if (it == metrics.end()) {
      ADD_FAILURE() << "run " << id << " has no metric '" << name << "'";
      return std::nan("");
    }
    return it->second;
  }
};

/// The experiment name (meta key 'name') and every run of DIR/results.sqlite, in id order.
struct StoredExperiment {
  std::string name;
  std::vector<StoredRun> runs;
};

inline StoredExperiment read_results(const std::string& dir) {
  StoredExperiment experiment;
  const std::string path = dir + "/results.sqlite";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << path << ": cannot open";
    sqlite3_close(db);
    return experiment;
  }
  const auto query = [&](const char* sql, auto&& row) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
      return;
    }
    while (sqlite3_step(statement) == SQLITE_ROW) row(statement);
    sqlite3_finalize(statement);
  };
  const auto text = [](sqlite3_stmt* s, int column) {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
    return t == nullptr ? std::string() : std::string(t);
  };
  query("SELECT value FROM meta WHERE key = 'name'",
        [&](sqlite3_stmt* s) { experiment.name = text(s, 0); });
  std::map<std::int64_t, std::size_t> position;
  query("SELECT id, config, status, reason FROM runs ORDER BY id", [&](sqlite3_stmt* s) {
    StoredRun run;
    run.id = sqlite3_column_int64(s, 0);
    run.config = nlohmann::json::parse(text(s, 1));
    run.status = text(s, 2);
    run.reason = text(s, 3);
    position[run.id] = experiment.runs.size();
    experiment.runs.push_back(std::move(run));
  });
  query("SELECT run_id, metric, value FROM metrics WHERE value IS NOT NULL", [&](sqlite3_stmt* s) {
    const auto it = position.find(sqlite3_column_int64(s, 0));
    if (it != position.end()) {
      experiment.runs[it->second].metrics[text(s, 1)] = sqlite3_column_double(s, 2);
    }
  });
  query("SELECT run_id, step, metric, value FROM logs WHERE value IS NOT NULL ORDER BY run_id, step",
        [&](sqlite3_stmt* s) {
          const auto it = position.find(sqlite3_column_int64(s, 0));
          if (it != position.end()) {
            experiment.runs[it->second].logs[text(s, 2)].emplace_back(sqlite3_column_int64(s, 1),
                                                                      sqlite3_column_double(s, 3));
          }
        });
  sqlite3_close(db);
  return experiment;
}

/// One run's log rows of DIR/results.sqlite: per metric, the (step, value) pairs in step order.
using StoredLog = std::map<std::string, std::vector<std::pair<std::int64_t, double>>>;

/// Runs `sql` (one `?` bound to run_id) on DIR/results.sqlite and hands each row to `row`.
template <typename RowFn>
void query_run(const std::string& dir, const char* sql, std::int64_t run_id, RowFn&& row) {
  const std::string path = dir + "/results.sqlite";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << path << ": cannot open";
    sqlite3_close(db);
    return;
  }
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else {
    sqlite3_bind_int64(statement, 1, run_id);
    while (sqlite3_step(statement) == SQLITE_ROW) row(statement);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

/// The run's log rows (NULL values, i.e. NaN, left out).
inline StoredLog read_log(const std::string& dir, std::int64_t run_id) {
  StoredLog log;
  const char* sql =
      "SELECT step, metric, value FROM logs WHERE run_id = ? AND value IS NOT NULL ORDER BY step";
  query_run(dir, sql, run_id, [&](sqlite3_stmt* s) {
    const auto* metric = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    log[metric == nullptr ? "" : metric].emplace_back(sqlite3_column_int64(s, 0),
                                                      sqlite3_column_double(s, 2));
  });
  return log;
}

/// The run's stored net (relustab-net JSON), or null when it has none.
inline nlohmann::json read_net(const std::string& dir, std::int64_t run_id) {
  nlohmann::json net;
  query_run(dir, "SELECT net FROM nets WHERE run_id = ?", run_id, [&](sqlite3_stmt* s) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    if (text != nullptr) net = nlohmann::json::parse(text);
  });
  return net;
}

/// PNG: the 8-byte signature followed by the IHDR chunk (length 13), as the PNG specification
/// requires of every file.
inline bool is_png(const std::string& path) {
  const std::string bytes = slurp(path);
  static const std::string kSignature = "\x89PNG\r\n\x1a\n";
  return bytes.size() >= 33 && bytes.compare(0, 8, kSignature) == 0 &&
         bytes.compare(8, 4, std::string("\0\0\0\x0d", 4)) == 0 && bytes.compare(12, 4, "IHDR") == 0;
}

/// PDF: the %PDF- header and a %%EOF marker at the end (trailing end-of-line bytes allowed).
inline bool is_pdf(const std::string& path) {
  const std::string bytes = slurp(path);
  if (bytes.size() < 16 || bytes.compare(0, 5, "%PDF-") != 0) return false;
  std::size_t end = bytes.size();
  while (end > 0 && (bytes[end - 1] == '\n' || bytes[end - 1] == '\r' || bytes[end - 1] == ' ')) --end;
  return end >= 5 && bytes.compare(end - 5, 5, "%%EOF") == 0;
}

/// Checks DIR/index.html against DIR/figures: every PNG or PDF it links (src= or href=) exists and is
/// valid, and every PNG or PDF under DIR/figures is linked. Returns the number of figure files.
inline std::size_t check_figures_and_index(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string index_path = dir + "/index.html";
  EXPECT_TRUE(fs::is_regular_file(index_path)) << index_path;
  const std::string index = slurp(index_path);
  static const std::regex kLink(R"re((?:src|href)\s*=\s*"([^"]+\.(?:png|pdf))")re");
  std::set<std::string> linked;
  for (auto it = std::sregex_iterator(index.begin(), index.end(), kLink); it != std::sregex_iterator();
       ++it) {
    linked.insert(fs::path((*it)[1].str()).lexically_normal().string());
  }
  for (const std::string& link : linked) {
    const std::string path = dir + "/" + link;
    if (!fs::is_regular_file(path)) {
      ADD_FAILURE() << "index.html links " << link << ", which is missing";
      continue;
    }
    const bool valid = fs::path(link).extension() == ".png" ? is_png(path) : is_pdf(path);
    EXPECT_TRUE(valid) << path << " is not a valid " << fs::path(link).extension();
  }
  std::size_t produced = 0;
  std::error_code error;
  for (const auto& entry : fs::recursive_directory_iterator(dir + "/figures", error)) {
    const std::string extension = entry.path().extension().string();
    if (extension != ".png" && extension != ".pdf") continue;
    ++produced;
    const std::string relative = fs::relative(entry.path(), dir).lexically_normal().string();
    EXPECT_TRUE(linked.count(relative) == 1) << relative << " is not listed in index.html";
  }
  EXPECT_GT(produced, 0u) << dir << "/figures holds no PNG or PDF";
  return produced;
}

/// Sets (or, with nullopt, unsets) an environment variable until the end of the scope; the relustab
/// processes started meanwhile inherit it.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

/// The source tree: $RELUSTAB_SOURCE_DIR, else the one these tests were built from, else empty.
inline std::string source_dir() {
  const char* dir = std::getenv("RELUSTAB_SOURCE_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
#ifdef RELUSTAB_TEST_SOURCE_DIR
  return RELUSTAB_TEST_SOURCE_DIR;
#else
  return {};
#endif
}

/// The outcome DIR/figures/verdict.json states ("reproduced", "partly reproduced", ...); empty when
/// there is no verdict.
inline std::string verdict_outcome(const std::string& dir) {
  const std::string text = slurp(dir + "/figures/verdict.json");
  if (text.empty()) return {};
  return nlohmann::json::parse(text).at("outcome").get<std::string>();
}

/// The eight reproduction targets of issue 4.
inline const std::vector<std::string>& reproduction_targets() {
  static const std::vector<std::string> targets = {
      "mulayoff2021-fig1", "mulayoff2021-fig2", "mulayoff2021-fig3", "qiao2024-fig1",
      "qiao2024-eta",      "qiao2024-width",    "qiao2024-knots",    "qiao2024-rate"};
  return targets;
}

}  // namespace relustab::test
