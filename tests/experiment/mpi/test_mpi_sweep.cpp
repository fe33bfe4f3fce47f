// SPDX-License-Identifier: MIT
// run_sweep_mpi under `mpiexec -n 2`: every run once, results bit-identical to execute_run, faults.
//
// Every test is collective: all ranks run it in the same order. Rank 0 owns an in-memory store
// that records each call; the oracles are execute_run called directly in this process, the local
// engine run_sweep on its own store, and counts gathered from every rank.
#include <relustab/core/error.h>
#include <relustab/data/generators.h>
#include <relustab/experiment/mpi_sweep.h>

#include <gtest/gtest.h>
#include <mpi.h>

#include <unistd.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace relustab::mpi {
namespace {

const Session* g_session = nullptr;

int rank() { return g_session->rank(); }

// ---------------------------------------------------------------------------------------------
// An in-memory ResultStore that keeps every call, to check what the sweep did to the database.

struct StoredRun {
  store::RunRow row;
  int attempts = 0;          ///< mark_running calls
  int writes = 0;            ///< results actually stored
  std::int64_t marked_at = -1;   ///< event number of the last mark_running
  std::int64_t written_at = -1;  ///< event number of the stored result
  std::optional<RunResult> result;
};

struct MemoryState {
  std::vector<StoredRun> runs;  ///< index = id - 1
  std::int64_t events = 0;
  int resets = 0;
  bool fail_writes = false;

  explicit MemoryState(const std::vector<RunConfig>& configs) {
    for (std::size_t i = 0; i < configs.size(); ++i) {
      StoredRun run;
      run.row.id = static_cast<std::int64_t>(i) + 1;
      run.row.key = run_key(configs[i]);
      run.row.config_json = canonical_json(configs[i]);
      run.row.status = RunStatus::Pending;
      runs.push_back(run);
    }
  }
  StoredRun* find(const std::string& key) {
    for (auto& run : runs) {
      if (run.row.key == key) return &run;
    }
    return nullptr;
  }
};

class MemoryStore final : public store::ResultStore {
 public:
  explicit MemoryStore(MemoryState& state) : state_(state) {}

  void register_runs(const std::string&, std::string_view, std::span<const RunConfig>) override {
    throw std::logic_error("not used by the sweep");
  }
  void reset_in_flight() override {
    ++state_.resets;
    for (auto& run : state_.runs) {
      if (run.row.status == RunStatus::Running) run.row.status = RunStatus::Pending;
    }
  }
  std::vector<store::RunRow> pending_runs() override {
    std::vector<store::RunRow> rows;
    for (const auto& run : state_.runs) {
      if (run.row.status == RunStatus::Pending) rows.push_back(run.row);
    }
    return rows;
  }
  void mark_running(std::span<const std::int64_t> ids) override {
    ++state_.events;
    for (const std::int64_t id : ids) {
      StoredRun& run = state_.runs.at(static_cast<std::size_t>(id - 1));
      run.row.status = RunStatus::Running;
      ++run.attempts;
      run.marked_at = state_.events;
    }
  }
  void write_results(std::span<const RunResult> results) override {
    if (state_.fail_writes) throw std::runtime_error("disk full (injected)");
    ++state_.events;
    for (const RunResult& result : results) {
      StoredRun* run = state_.find(result.key);
      if (run == nullptr) throw std::logic_error("result for an unknown run " + result.key);
      if (run->row.status == RunStatus::Done) continue;  // as documented: never overwritten
      run->row.status = result.status;
      run->row.reason = result.reason;
      run->result = result;
      ++run->writes;
      run->written_at = state_.events;
    }
  }
  store::StoreSummary summary() override {
    store::StoreSummary summary;
    for (const auto& run : state_.runs) {
      ++summary.total;
      summary.pending += run.row.status == RunStatus::Pending;
      summary.running += run.row.status == RunStatus::Running;
      summary.done += run.row.status == RunStatus::Done;
      summary.failed += run.row.status == RunStatus::Failed;
    }
    return summary;
  }
  std::vector<store::RunRow> runs() override {
    std::vector<store::RunRow> rows;
    for (const auto& run : state_.runs) rows.push_back(run.row);
    return rows;
  }
  std::string export_csv() override { return {}; }
  std::int64_t merge_from(const std::string&) override {
    throw std::logic_error("not used by the sweep");
  }

 private:
  MemoryState& state_;
};

/// The factory run_sweep_mpi calls on rank 0. Other ranks pass it too and it must stay unused.
std::function<std::unique_ptr<store::ResultStore>()> factory_of(MemoryState* state) {
  return [state]() -> std::unique_ptr<store::ResultStore> {
    if (state == nullptr) throw std::logic_error("the store factory was called on a worker rank");
    return std::make_unique<MemoryStore>(*state);
  };
}

// ---------------------------------------------------------------------------------------------
// Runs: tiny, a few milliseconds each, different enough that a mix-up shows.

RunConfig tiny_run(std::uint64_t seed, double eta) {
  RunConfig config;
  config.n = 12;
  config.width = 8;
  config.eta = eta;
  config.max_steps = 1500;
  config.loss_tol = 0.0;  // run all steps: every run takes about the same time
  config.log_every = 500;
  config.final_analysis = true;
  config.save_net = true;
  config.seed = seed;
  config.data_seed = seed % 3;
  return config;
}

/// `count` runs; every fifth has a step size far beyond 2/sharpness, so it diverges (a failed run
/// with a reason travels through the protocol too).
std::vector<RunConfig> tiny_runs(int count) {
  std::vector<RunConfig> configs;
  for (int i = 0; i < count; ++i) {
    configs.push_back(tiny_run(static_cast<std::uint64_t>(100 + i), i % 5 == 4 ? 50.0 : 0.05));
  }
  return configs;
}

bool same_bits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

/// Everything but the wall time must match bit for bit: a run depends only on its configuration.
void expect_same_result(const RunResult& actual, const RunResult& expected) {
  EXPECT_EQ(actual.key, expected.key);
  EXPECT_EQ(actual.status, expected.status) << expected.key;
  EXPECT_EQ(actual.reason, expected.reason);
  EXPECT_EQ(actual.backend, expected.backend);
  EXPECT_EQ(actual.net_json, expected.net_json);
  ASSERT_EQ(actual.metrics.size(), expected.metrics.size()) << expected.key;
  for (std::size_t i = 0; i < expected.metrics.size(); ++i) {
    EXPECT_EQ(actual.metrics[i].first, expected.metrics[i].first);
    EXPECT_TRUE(same_bits(actual.metrics[i].second, expected.metrics[i].second))
        << expected.metrics[i].first << ": " << actual.metrics[i].second << " vs "
        << expected.metrics[i].second;
  }
  ASSERT_EQ(actual.log.size(), expected.log.size());
  for (std::size_t i = 0; i < expected.log.size(); ++i) {
    EXPECT_EQ(actual.log[i].step, expected.log[i].step);
    EXPECT_EQ(actual.log[i].metric, expected.log[i].metric);
    EXPECT_TRUE(same_bits(actual.log[i].value, expected.log[i].value));
  }
}

/// Rank 0: every listed run was executed exactly once, marked running before its result was
/// written, and stored exactly what execute_run returns for it in this process.
void expect_executed_once(const MemoryState& state, const std::vector<RunConfig>& configs,
                          const std::vector<std::int64_t>& ids) {
  for (const std::int64_t id : ids) {
    const StoredRun& run = state.runs.at(static_cast<std::size_t>(id - 1));
    SCOPED_TRACE("run " + std::to_string(id));
    EXPECT_EQ(run.attempts, 1);
    EXPECT_EQ(run.writes, 1);
    EXPECT_LT(run.marked_at, run.written_at);
    ASSERT_TRUE(run.result.has_value());
    const RunResult expected = execute_run(configs.at(static_cast<std::size_t>(id - 1)), {});
    expect_same_result(*run.result, expected);
    EXPECT_GT(run.result->wall_seconds, 0.0);  // measured where the run executed, and carried
    EXPECT_EQ(run.row.status, expected.status);
  }
}

std::vector<std::int64_t> all_ids(std::size_t count) {
  std::vector<std::int64_t> ids;
  for (std::size_t i = 1; i <= count; ++i) ids.push_back(static_cast<std::int64_t>(i));
  return ids;
}

std::int64_t sum_over_ranks(std::int64_t value) {
  std::int64_t total = 0;
  MPI_Allreduce(&value, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

std::int64_t min_over_ranks(std::int64_t value) {
  std::int64_t smallest = 0;
  MPI_Allreduce(&value, &smallest, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
  return smallest;
}

// ---------------------------------------------------------------------------------------------

TEST(MpiSweep, RunsEveryRunOnceWithTheResultOfExecuteRun) {
  const auto configs = tiny_runs(20);
  std::optional<MemoryState> state;
  if (rank() == 0) state.emplace(configs);
  SweepOptions options;
  options.write_batch = 3;  // several write transactions
  const SweepProgress progress =
      run_sweep_mpi(*g_session, factory_of(state ? &*state : nullptr), options, {});
  if (rank() != 0) {
    EXPECT_EQ(progress.total, 0);  // documented: zeros on worker ranks
    return;
  }
  EXPECT_EQ(progress.total, 20);
  EXPECT_EQ(progress.done, 16);
  EXPECT_EQ(progress.failed, 4);  // i % 5 == 4
  EXPECT_EQ(progress.running, 0);
  EXPECT_EQ(progress.eta_s, 0.0);
  EXPECT_EQ(state->resets, 1);
  expect_executed_once(*state, configs, all_ids(configs.size()));
  for (std::size_t i = 4; i < configs.size(); i += 5) {
    EXPECT_EQ(state->runs[i].row.status, RunStatus::Failed);
    EXPECT_NE(state->runs[i].row.reason.find("diverged"), std::string::npos);
  }
}

/// A directory every rank of this job agrees on (rank 0 names it and broadcasts the name).
std::filesystem::path shared_scratch_dir() {
  std::string name;
  if (rank() == 0) {
    name = (std::filesystem::temp_directory_path() /
            ("relustab-mpi-test-" + std::to_string(::getpid())))
               .string();
    std::filesystem::create_directories(name);
  }
  int length = static_cast<int>(name.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
  name.resize(static_cast<std::size_t>(length));
  MPI_Bcast(name.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
  return name;
}

TEST(MpiSweep, OtherRanksGetWorkWhileRankZeroIsBusy) {
  // Runs that read their data through the loader: each call is one run executed on that rank.
  // Rank 0's first run waits (up to kRendezvousTimeout) until another rank has started a run, which
  // only dynamic scheduling allows; without the wait, rank 0 might finish tiny runs alone.
  constexpr auto kRendezvousTimeout = std::chrono::seconds(30);
  if (g_session->size() < 2) GTEST_SKIP() << "needs 2 ranks (run under mpiexec -n 2)";
  const std::filesystem::path scratch = shared_scratch_dir();
  const std::filesystem::path marker = scratch / "a worker rank started a run";
  std::vector<RunConfig> configs = tiny_runs(16);
  for (auto& config : configs) config.data_file = "memory";
  std::atomic<std::int64_t> loads{0};
  const DataFileLoader loader = [&](const std::string&) {
    if (++loads == 1) {
      if (rank() != 0) {
        std::ofstream(marker).put('1');
      } else {
        const auto deadline = std::chrono::steady_clock::now() + kRendezvousTimeout;
        while (!std::filesystem::exists(marker) && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
    }
    Rng rng(7);
    const RowMatrix X = sample_inputs(InputLaw::Uniform, 12, 1, rng);
    return make_dataset(X, Target{}, 0.3, rng);
  };
  std::optional<MemoryState> state;
  if (rank() == 0) state.emplace(configs);
  run_sweep_mpi(*g_session, factory_of(state ? &*state : nullptr), SweepOptions{}, RunInputs{.load_data = loader});
  EXPECT_EQ(sum_over_ranks(loads), 16);
  EXPECT_GE(min_over_ranks(loads), 1) << "a rank executed nothing";
  if (rank() == 0) {
    for (const auto& run : state->runs) EXPECT_EQ(run.writes, 1);
    EXPECT_TRUE(std::filesystem::exists(marker));
    std::filesystem::remove_all(scratch);
  }
}

TEST(MpiSweep, SeveralThreadsPerRank) {
  const auto configs = tiny_runs(12);
  std::optional<MemoryState> state;
  if (rank() == 0) state.emplace(configs);
  SweepOptions options;
  options.jobs = 2;
  run_sweep_mpi(*g_session, factory_of(state ? &*state : nullptr), options, {});
  if (rank() == 0) expect_executed_once(*state, configs, all_ids(configs.size()));
}

TEST(MpiSweep, ResumesRunsLeftRunningAndKeepsFinishedOnes) {
  const auto configs = tiny_runs(10);
  std::optional<MemoryState> state;
  if (rank() == 0) {
    state.emplace(configs);
    // Runs 1-3 finished earlier (a marker result that a rerun would overwrite); runs 4-5 were in
    // flight in a process that died.
    for (int i = 0; i < 3; ++i) {
      state->runs[i].row.status = RunStatus::Done;
      state->runs[i].result = RunResult{};
      state->runs[i].result->reason = "finished earlier";
    }
    state->runs[3].row.status = RunStatus::Running;
    state->runs[4].row.status = RunStatus::Running;
  }
  const SweepProgress progress =
      run_sweep_mpi(*g_session, factory_of(state ? &*state : nullptr), SweepOptions{}, {});
  if (rank() != 0) return;
  EXPECT_EQ(progress.total, 10);
  EXPECT_EQ(progress.done + progress.failed, 10);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(state->runs[i].attempts, 0);
    EXPECT_EQ(state->runs[i].result->reason, "finished earlier");
  }
  expect_executed_once(*state, configs, {4, 5, 6, 7, 8, 9, 10});
}

TEST(MpiSweep, ShardSelectsTheRunsOfTheLocalEngine) {
  const auto configs = tiny_runs(11);
  SweepOptions options;
  options.shard_index = 1;
  options.shard_count = 3;
  std::optional<MemoryState> state;
  if (rank() == 0) state.emplace(configs);
  const SweepProgress progress =
      run_sweep_mpi(*g_session, factory_of(state ? &*state : nullptr), options, {});
  if (rank() != 0) return;
  // Oracle: the single-process engine on the same shard of a fresh store.
  MemoryState local(configs);
  MemoryStore local_store(local);
  const SweepProgress local_progress = run_sweep(local_store, options, {});
  EXPECT_EQ(progress.total, local_progress.total);
  std::vector<std::int64_t> executed;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    EXPECT_EQ(state->runs[i].row.status, local.runs[i].row.status) << "run " << i + 1;
    if (local.runs[i].writes == 1) executed.push_back(static_cast<std::int64_t>(i) + 1);
  }
  EXPECT_FALSE(executed.empty());
  EXPECT_LT(executed.size(), configs.size());
  expect_executed_once(*state, configs, executed);
}

TEST(MpiSweep, NothingLeftToDo) {
  const auto configs = tiny_runs(4);
  std::optional<MemoryState> state;
  if (rank() == 0) {
    state.emplace(configs);
    for (auto& run : state->runs) run.row.status = RunStatus::Done;
  }
  const SweepProgress progress =
      run_sweep_mpi(*g_session, factory_of(state ? &*state : nullptr), SweepOptions{}, {});
  if (rank() != 0) return;
  EXPECT_EQ(progress.total, 4);
  EXPECT_EQ(progress.done, 4);
  for (const auto& run : state->runs) EXPECT_EQ(run.attempts + run.writes, 0);
}

TEST(MpiSweep, StoreThatCannotOpenReleasesEveryRank) {
  // Rank 0 throws the factory's error; the other ranks must return, not wait for work for ever.
  const auto failing = []() -> std::unique_ptr<store::ResultStore> {
    throw InputError("results.sqlite: schema version 9 is newer than this build's 1");
  };
  if (rank() == 0) {
    EXPECT_THROW(run_sweep_mpi(*g_session, failing, SweepOptions{}, {}), InputError);
  } else {
    const SweepProgress progress = run_sweep_mpi(*g_session, failing, SweepOptions{}, {});
    EXPECT_EQ(progress.total, 0);
  }
}

TEST(MpiSweep, WriteFailureReleasesEveryRankAndTheNextSweepFinishes) {
  const auto configs = tiny_runs(8);
  std::optional<MemoryState> state;
  if (rank() == 0) {
    state.emplace(configs);
    state->fail_writes = true;
  }
  const auto factory = factory_of(state ? &*state : nullptr);
  if (rank() == 0) {
    EXPECT_THROW(run_sweep_mpi(*g_session, factory, SweepOptions{}, {}), std::runtime_error);
    for (const auto& run : state->runs) EXPECT_EQ(run.writes, 0);
    state->fail_writes = false;
  } else {
    EXPECT_NO_THROW(run_sweep_mpi(*g_session, factory, SweepOptions{}, {}));
  }
  // The runs marked running by the failed sweep go back to pending and are done now.
  const SweepProgress progress = run_sweep_mpi(*g_session, factory, SweepOptions{}, {});
  if (rank() != 0) return;
  EXPECT_EQ(progress.done + progress.failed, 8);
  for (const auto& run : state->runs) {
    EXPECT_EQ(run.writes, 1);
    EXPECT_NE(run.row.status, RunStatus::Running);
    EXPECT_NE(run.row.status, RunStatus::Pending);
  }
}

TEST(MpiSweep, BadOptionsFailOnEveryRank) {
  SweepOptions options;
  options.jobs = 0;
  EXPECT_THROW(run_sweep_mpi(*g_session, factory_of(nullptr), options, {}), InputError);
  options.jobs = 1;
  options.shard_index = 2;
  options.shard_count = 2;
  EXPECT_THROW(run_sweep_mpi(*g_session, factory_of(nullptr), options, {}), InputError);
}

TEST(MpiSweep, LauncherEnvironment) {
  // Under mpiexec -n 2 (OpenMPI sets OMPI_COMM_WORLD_SIZE, others PMI_SIZE).
  EXPECT_EQ(launched_with_several_ranks(), g_session->size() > 1);
  const char* names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
  std::map<std::string, std::string> saved;
  for (const char* name : names) {
    if (const char* value = std::getenv(name)) saved[name] = value;
    unsetenv(name);
  }
  EXPECT_FALSE(launched_with_several_ranks());
  setenv("PMI_SIZE", "1", 1);
  EXPECT_FALSE(launched_with_several_ranks());
  setenv("PMI_SIZE", "4", 1);
  EXPECT_TRUE(launched_with_several_ranks());
  unsetenv("PMI_SIZE");
  for (const auto& [name, value] : saved) setenv(name.c_str(), value.c_str(), 1);
}

}  // namespace
}  // namespace relustab::mpi

int main(int argc, char** argv) {
  relustab::mpi::Session session(&argc, &argv);
  relustab::mpi::g_session = &session;
  // Every rank runs every test; ranks other than 0 print only their failures.
  if (session.rank() != 0) GTEST_FLAG_SET(brief, true);
  ::testing::InitGoogleTest(&argc, argv);
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any_failed;
}
