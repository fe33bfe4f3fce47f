// SPDX-License-Identifier: MIT
// Crash safety of the results store: a writer killed before or after a commit, then a resume.
#include <relustab/experiment/result_store.h>

#include "io/io_test_util.h"
#include "store/store_test_util.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <filesystem>

#include <sys/wait.h>
#include <unistd.h>

namespace relustab {
namespace {

using store::ResultStore;
using testing::bits;
using testing::RawDatabase;
using testing::ScratchDir;

const std::string kCrashExperiment = R"({"name":"crash"})";
constexpr int kRuns = 40;
constexpr int kCommittedRuns = 10;
// Log rows per run of the batch that is killed: 30 runs x 4000 rows (several MB) overflow SQLite's
// default 2 MB page cache, so the uncommitted transaction has already spilled pages into the WAL
// file when the process dies, and recovery must ignore them.
constexpr int kLargeLogRows = 4000;

// Armed in the child just before the transaction that must not commit.
volatile std::sig_atomic_t g_kill_at_commit = 0;

int kill_at_commit(void*) {
  // kill -9 with every row of the transaction written but the commit not done.
  if (g_kill_at_commit != 0) std::raise(SIGKILL);
  return 0;
}

// An SQLite auto-extension runs for every connection the process opens later, the store's included.
int install_commit_hook(sqlite3* db, const char**, const sqlite3_api_routines*) {
  sqlite3_commit_hook(db, kill_at_commit, nullptr);
  return SQLITE_OK;
}

struct Batches {
  std::vector<RunConfig> configs = testing::make_configs(kRuns);
  std::vector<RunResult> committed, killed;
  Batches() {
    Rng rng(5);
    for (int i = 0; i < kRuns; ++i) {
      if (i < kCommittedRuns) {
        committed.push_back(testing::make_result(configs[i], rng));
      } else {
        killed.push_back(testing::make_result(configs[i], rng, kLargeLogRows));
      }
    }
  }
};

void register_all(const std::string& dir, const Batches& batches) {
  auto store = ResultStore::open(dir, true);
  store->register_runs(kCrashExperiment, "crash", batches.configs);
}

/// Waits for `child` and returns its wait status.
int wait_for(pid_t child) {
  int status = 0;
  if (waitpid(child, &status, 0) != child) ADD_FAILURE() << "waitpid failed";
  return status;
}

void expect_results_stored(const std::string& dir, const std::vector<RunResult>& results) {
  RawDatabase raw(dir + "/results.sqlite");
  for (const RunResult& result : results) {
    const std::string where = " WHERE run_id = (SELECT id FROM runs WHERE key = '" + result.key + "')";
    EXPECT_EQ(raw.rows("SELECT status, completions FROM runs WHERE key = '" + result.key + "'"),
              (std::vector<std::vector<std::string>>{{"done", "1"}}));
    const auto metrics = raw.named_numbers("SELECT metric, value FROM metrics" + where);
    ASSERT_EQ(metrics.size(), result.metrics.size());
    for (const auto& [name, value] : metrics) {
      const auto written = std::find_if(result.metrics.begin(), result.metrics.end(),
                                        [&name = name](const auto& m) { return m.first == name; });
      ASSERT_NE(written, result.metrics.end()) << name;
      EXPECT_EQ(bits(value), bits(written->second)) << name;
    }
    EXPECT_EQ(raw.integer("SELECT count(*) FROM logs" + where), static_cast<std::int64_t>(result.log.size()));
    EXPECT_EQ(raw.integer("SELECT count(*) FROM nets" + where), 1);
  }
}

TEST(ResultStoreCrash, KilledBeforeCommitLeavesNoTrace) {
  const ScratchDir dir;
  const Batches batches;
  register_all(dir.path(), batches);

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      sqlite3_auto_extension(reinterpret_cast<void (*)()>(install_commit_hook));
      auto store = ResultStore::open(dir.path(), false);
      std::vector<std::int64_t> ids;
      for (const store::RunRow& row : store->pending_runs()) ids.push_back(row.id);
      store->mark_running(ids);
      store->write_results(batches.committed);
      g_kill_at_commit = 1;
      store->write_results(batches.killed);
    } catch (...) {
      _exit(2);
    }
    _exit(3);  // the commit hook did not fire
  }
  const int status = wait_for(child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  // The killed transaction had spilled into the WAL, so recovery really has uncommitted frames to
  // ignore: what was committed in the child (marks and the small batch) is a few pages, far below 1 MB.
  EXPECT_GT(std::filesystem::file_size(dir.file("results.sqlite-wal")), 1u << 20);

  // The lock died with the child; committed results are there, the killed batch left nothing.
  auto store = ResultStore::open(dir.path(), false);
  store::StoreSummary summary = store->summary();
  EXPECT_EQ(summary.done, kCommittedRuns);
  EXPECT_EQ(summary.running, kRuns - kCommittedRuns);
  expect_results_stored(dir.path(), batches.committed);
  {
    RawDatabase raw(dir.file("results.sqlite"));
    const std::string killed_ids = " WHERE run_id > " + std::to_string(kCommittedRuns);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM metrics" + killed_ids), 0);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM logs" + killed_ids), 0);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM nets" + killed_ids), 0);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL"), kCommittedRuns);
    EXPECT_EQ(raw.rows("PRAGMA integrity_check"), (std::vector<std::vector<std::string>>{{"ok"}}));
  }

  // The resume: in-flight runs go back to pending and are finished once.
  store->reset_in_flight();
  EXPECT_EQ(store->pending_runs().size(), static_cast<std::size_t>(kRuns - kCommittedRuns));
  store->write_results(batches.killed);
  summary = store->summary();
  EXPECT_EQ(summary.done, kRuns);
  EXPECT_EQ(summary.pending + summary.running + summary.failed, 0);
  expect_results_stored(dir.path(), batches.killed);
}

TEST(ResultStoreCrash, CommittedResultsSurviveTheWriter) {
  for (const bool kill : {true, false}) {
    SCOPED_TRACE(kill ? "kill -9 after the commit" : "_exit(0) after the commit");
    const ScratchDir dir;
    const Batches batches;
    register_all(dir.path(), batches);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        auto store = ResultStore::open(dir.path(), false);
        store->write_results(batches.committed);
        store->write_results(batches.killed);
        // Neither ends the connection properly: no checkpoint, the WAL stays as the commits left it.
        if (kill) std::raise(SIGKILL);
        _exit(0);
      } catch (...) {
        _exit(2);
      }
    }
    const int status = wait_for(child);
    if (kill) {
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
    } else {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    }
    auto store = ResultStore::open(dir.path(), false);
    EXPECT_EQ(store->summary().done, kRuns);
    expect_results_stored(dir.path(), batches.committed);
    expect_results_stored(dir.path(), batches.killed);
  }
}

}  // namespace
}  // namespace relustab
