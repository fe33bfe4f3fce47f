// SPDX-License-Identifier: MIT
// Helpers for the results-store tests: raw SQLite access (the oracle side), configs, results, a CSV reader.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/experiment/result_store.h>
#include <relustab/experiment/run_config.h>
#include <relustab/experiment/run_result.h>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace relustab::testing {

/// A direct connection to a results database, independent of the store under test.
class RawDatabase {
 public:
  explicit RawDatabase(const std::string& path, int flags = SQLITE_OPEN_READWRITE) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      throw std::runtime_error(path + ": " + sqlite3_errmsg(db_));
    }
    sqlite3_busy_timeout(db_, 10000);
  }
  ~RawDatabase() { sqlite3_close_v2(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(sql + ": " + message);
    }
  }

  /// Every row of `sql`, each column as text (NULL as "<null>").
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    std::vector<std::vector<std::string>> result;
    for_each_row(sql, [&](sqlite3_stmt* stmt) {
      std::vector<std::string>& row = result.emplace_back();
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row.push_back(text != nullptr ? text : "<null>");
      }
    });
    return result;
  }

  std::int64_t integer(const std::string& sql) {
    std::int64_t value = 0;
    int count = 0;
    for_each_row(sql, [&](sqlite3_stmt* stmt) {
      value = sqlite3_column_int64(stmt, 0);
      ++count;
    });
    if (count != 1) throw std::runtime_error(sql + ": expected one row");
    return value;
  }

  /// (name, value) pairs of two-column rows whose second column is a number (NULL read as NaN).
  std::vector<std::pair<std::string, double>> named_numbers(const std::string& sql) {
    std::vector<std::pair<std::string, double>> result;
    for_each_row(sql, [&](sqlite3_stmt* stmt) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      const double value = sqlite3_column_type(stmt, 1) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(stmt, 1);
      result.emplace_back(text != nullptr ? text : "", value);
    });
    return result;
  }

  template <typename Visit>
  void for_each_row(const std::string& sql, Visit visit) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) visit(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_ = nullptr;
};

/// `count` distinct runs varying the fields a sweep varies (step size, width, seeds).
inline std::vector<RunConfig> make_configs(int count, double eta_scale = 1.0) {
  std::vector<RunConfig> configs;
  for (int i = 0; i < count; ++i) {
    RunConfig config;
    config.eta = eta_scale * 0.01 * (1 + i % 7);
    config.width = 5 + i % 3;
    config.data_seed = static_cast<std::uint64_t>(i / 21);
    config.seed = static_cast<std::uint64_t>(i);
    configs.push_back(config);
  }
  return configs;
}

/// A finished run with metrics drawn from `rng`, a per-step log and a network text.
inline RunResult make_result(const RunConfig& config, Rng& rng, int log_rows = 3) {
  RunResult result;
  result.key = run_key(config);
  result.status = RunStatus::Done;
  result.metrics = {{"loss", rng.uniform() * 1e-3},
                    {"sharpness", 2.0 / config.eta * rng.uniform()},
                    {"steps", static_cast<double>(rng.below(10000))}};
  for (int step = 0; step < log_rows; ++step) result.log.push_back({step * 10, "loss", rng.normal()});
  result.net_json = R"({"format":"relustab-net","seed":)" + std::to_string(config.seed) + "}";
  result.backend = "cpu";
  result.wall_seconds = rng.uniform();
  return result;
}

/// RFC 4180 reader: quoted cells may hold commas, doubled quotes and line breaks.
inline std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      row.push_back(std::move(cell));
      cell.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      cell += c;
    }
  }
  if (!cell.empty() || !row.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

}  // namespace relustab::testing
