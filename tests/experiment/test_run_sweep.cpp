// SPDX-License-Identifier: MIT
// run_sweep on a real results store: shards by id, runs left running by a killed sweep redone,
// progress reports consistent, and a sharded sweep's export equal to an unsharded one's.
#include <relustab/core/error.h>
#include <relustab/experiment/experiment.h>
#include <relustab/experiment/sweep.h>

#include "cli/cli_runner.h"

#include <gtest/gtest.h>

#include <vector>

namespace relustab {
namespace {

ExperimentSpec small_experiment() {
  ExperimentSpec spec;
  spec.name = "run-sweep-test";
  spec.base.n = 10;
  spec.base.width = 10;
  spec.base.max_steps = 150;
  spec.base.log_every = 50;
  spec.axes.push_back({"optim.eta", {ParamValue(0.02), ParamValue(0.1), ParamValue(400.0)}});
  spec.axes.push_back({"run.seed", {ParamValue(std::int64_t{1}), ParamValue(std::int64_t{2}),
                                    ParamValue(std::int64_t{3})}});
  return spec;
}

std::unique_ptr<store::ResultStore> open_registered(const std::string& dir,
                                                    const ExperimentSpec& spec) {
  auto store = store::ResultStore::open(dir, true);
  const std::vector<RunConfig> runs = expand_runs(spec);
  store->register_runs(experiment_json(spec), spec.name, runs);
  return store;
}

TEST(RunSweep, ShardRunsOnlyItsIdsAndRedoesRunsLeftRunning) {
  test::TempDir tmp;
  const ExperimentSpec spec = small_experiment();
  auto store = open_registered(tmp.file("sharded"), spec);
  // A sweep killed while runs 2 and 4 were in flight left them running.
  const std::vector<std::int64_t> in_flight = {2, 4};
  store->mark_running(in_flight);

  SweepOptions options;
  options.jobs = 2;
  options.shard_index = 1;
  options.shard_count = 3;  // ids 2, 5, 8
  std::vector<SweepProgress> reports;
  const SweepProgress final_progress =
      run_sweep(*store, options, {}, [&](const SweepProgress& p) { reports.push_back(p); });
  EXPECT_EQ(final_progress.total, 3);
  EXPECT_EQ(final_progress.done + final_progress.failed, 3);
  EXPECT_EQ(final_progress.failed, 1);  // eta = 400 (ids 7..9) diverges: id 8
  EXPECT_EQ(final_progress.running, 0);
  ASSERT_FALSE(reports.empty());
  for (std::size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GE(reports[i].done + reports[i].failed, reports[i - 1].done + reports[i - 1].failed);
  }
  for (const SweepProgress& p : reports) EXPECT_LE(p.done + p.failed + p.running, p.total);

  for (const store::RunRow& row : store->runs()) {
    const bool mine = (row.id - 1) % 3 == 1;
    if (mine) {
      EXPECT_TRUE(row.status == RunStatus::Done || row.status == RunStatus::Failed) << row.id;
    } else {
      // Run 4 belonged to another shard: reset to pending, not executed here.
      EXPECT_EQ(row.status, RunStatus::Pending) << row.id;
    }
  }

  // The other shards complete the experiment; the export equals that of one unsharded sweep.
  for (const int shard : {2, 0}) {
    options.shard_index = shard;
    run_sweep(*store, options, {});
  }
  auto whole = open_registered(tmp.file("whole"), spec);
  SweepOptions one_job;
  one_job.write_batch = 1;  // a transaction per result: the batching must not change anything
  const SweepProgress whole_progress = run_sweep(*whole, one_job, {});
  EXPECT_EQ(whole_progress.total, 9);
  EXPECT_EQ(whole_progress.failed, 3);
  EXPECT_EQ(store->export_csv(), whole->export_csv());

  // Nothing left: a second sweep executes nothing and reports the same totals.
  const SweepProgress again = run_sweep(*whole, one_job, {});
  EXPECT_EQ(again.done, whole_progress.done);
  EXPECT_EQ(again.failed, whole_progress.failed);
}

TEST(RunSweep, RejectsBadShardAndJobs) {
  test::TempDir tmp;
  auto store = open_registered(tmp.file("bad"), small_experiment());
  SweepOptions options;
  options.shard_index = 3;
  options.shard_count = 3;
  EXPECT_THROW(run_sweep(*store, options, {}), InputError);
  options = SweepOptions{};
  options.jobs = 0;
  EXPECT_THROW(run_sweep(*store, options, {}), InputError);
}

}  // namespace
}  // namespace relustab
