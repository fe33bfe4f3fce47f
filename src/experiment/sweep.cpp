// SPDX-License-Identifier: MIT
// The sweep engine: a pool of worker threads fed by the calling thread, which alone talks to the
// run queue (and through it to the database or to MPI rank 0).
#include "progress_clock.h"

#include <relustab/core/error.h>
#include <relustab/core/thread_pool.h>
#include <relustab/experiment/sweep.h>
#include <relustab/io/file_cache.h>

#include "config_from_json.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <utility>
#include <vector>

namespace relustab {
namespace {

using Clock = std::chrono::steady_clock;

/// How often the feeding thread wakes when nothing happens, to give the queue its tick.
constexpr auto kQueueTick = std::chrono::milliseconds(50);
using detail::kProgressInterval;
using detail::seconds_since;

/// The most runs a worker takes at once: runs that can share SIMD lanes (run_many) train together in
/// groups of up to this many.
constexpr std::size_t kRunsPerTake = 64;

/// Executes runs of the queue; never throws. A configuration is read back from the stored canonical
/// JSON and must hash to the stored key, so the run executed is the run registered. Runs that can
/// share SIMD lanes train together (execute_runs); each result is that of its run alone.
std::vector<RunResult> execute_rows(const std::vector<store::RunRow>& rows, const RunInputs& inputs) {
  std::vector<RunResult> results(rows.size());
  const auto fail = [&](std::size_t r, std::string reason) {
    results[r] = RunResult{};
    results[r].status = RunStatus::Failed;
    results[r].reason = std::move(reason);
  };
  std::vector<RunConfig> configs;
  std::vector<std::size_t> rows_of_configs;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    try {
      RunConfig config = detail::config_from_json(rows[r].config_json);
      const std::string key = run_key(config);
      if (key != rows[r].key) {
        throw InputError("run " + std::to_string(rows[r].id) + ": its stored configuration hashes to " +
                         key + ", not to its key " + rows[r].key +
                         " (database written by another version of relustab?)");
      }
      configs.push_back(std::move(config));
      rows_of_configs.push_back(r);
    } catch (const std::exception& e) {
      fail(r, e.what());
    } catch (...) {
      fail(r, "unknown error");
    }
  }
  try {
    std::vector<RunResult> executed = execute_runs(configs, inputs);
    for (std::size_t c = 0; c < executed.size(); ++c) results[rows_of_configs[c]] = std::move(executed[c]);
  } catch (const std::exception& e) {
    for (const std::size_t r : rows_of_configs) fail(r, e.what());
  } catch (...) {
    for (const std::size_t r : rows_of_configs) fail(r, "unknown error");
  }
  for (std::size_t r = 0; r < rows.size(); ++r) results[r].key = rows[r].key;
  return results;
}

/// The `jobs` workers of a ThreadPool, each running a loop that takes runs from the buffer the feeding
/// thread fills; the feeding (calling) thread stays outside the pool's loops, so it alone talks to
/// the queue (an MPI rank must make its MPI calls from its main thread).
class WorkerPool {
 public:
  WorkerPool(int jobs, const RunInputs& inputs)
      : inputs_(inputs), threads_(jobs + 1) {  // jobs workers + the (idle) calling thread
    workers_.reserve(static_cast<std::size_t>(jobs));
    try {
      for (int i = 0; i < jobs; ++i) workers_.push_back(threads_.submit([this] { work(); }));
    } catch (...) {
      stop();
      throw;
    }
  }
  ~WorkerPool() { stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Waits until a result is ready, the ready list is at or below `low_water` (and more may be
  /// taken), everything is finished, or `timeout` passes.
  void wait(std::size_t low_water, bool may_take, Clock::duration timeout) {
    std::unique_lock lock(mutex_);
    main_cv_.wait_for(lock, timeout, [&] {
      return !finished_.empty() || (may_take && ready_.size() <= low_water) ||
             (ready_.empty() && executing_ == 0);
    });
  }
  std::vector<RunResult> take_finished() {
    std::lock_guard lock(mutex_);
    return std::exchange(finished_, {});
  }
  std::size_t ready_count() {
    std::lock_guard lock(mutex_);
    return ready_.size();
  }
  /// True when no run is waiting, executing, or finished but not collected.
  bool idle() {
    std::lock_guard lock(mutex_);
    return ready_.empty() && executing_ == 0 && finished_.empty();
  }
  void add(std::vector<store::RunRow> rows) {
    {
      std::lock_guard lock(mutex_);
      for (auto& row : rows) ready_.push_back(std::move(row));
    }
    work_cv_.notify_all();
  }
  /// Discards runs not started, lets running ones finish, and joins the threads.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      ready_.clear();
    }
    work_cv_.notify_all();
    for (auto& worker : workers_) worker.wait();  // work() does not throw (execute_rows catches)
  }

 private:
  void work() {
    for (;;) {
      std::vector<store::RunRow> rows;
      {
        std::unique_lock lock(mutex_);
        ++idle_;
        work_cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
        --idle_;
        if (ready_.empty()) return;
        // An even share of what is waiting among the workers free to take it (busy ones come back
        // for more), so runs are spread at the end of a sweep and lane groups stay full before it.
        const std::size_t sharing = static_cast<std::size_t>(idle_) + 1;
        const std::size_t take = std::min(kRunsPerTake, (ready_.size() + sharing - 1) / sharing);
        for (std::size_t r = 0; r < take; ++r) {
          rows.push_back(std::move(ready_.front()));
          ready_.pop_front();
        }
        executing_ += static_cast<int>(rows.size());
      }
      std::vector<RunResult> results = execute_rows(rows, inputs_);
      {
        std::lock_guard lock(mutex_);
        for (RunResult& result : results) finished_.push_back(std::move(result));
        executing_ -= static_cast<int>(rows.size());
      }
      main_cv_.notify_one();
    }
  }

  const RunInputs& inputs_;
  std::mutex mutex_;
  std::condition_variable work_cv_;  // workers wait for runs
  std::condition_variable main_cv_;  // the feeding thread waits for results
  std::deque<store::RunRow> ready_;
  std::vector<RunResult> finished_;
  int executing_ = 0;
  int idle_ = 0;  // workers waiting for runs
  bool stopping_ = false;
  ThreadPool threads_;
  std::vector<std::future<void>> workers_;  // one per work() loop
};

/// The local run queue: the pending runs of one shard of a store, results written in batches.
class StoreQueue final : public RunQueue {
 public:
  StoreQueue(store::ResultStore& store, const SweepOptions& options,
             const SweepProgressCallback& progress)
      : store_(store), options_(options), progress_(progress) {
    for (const store::RunRow& row : store_.runs()) {
      if (!in_shard(row.id, options_)) continue;
      ++state_.total;
      if (row.status == RunStatus::Done) ++state_.done;
      if (row.status == RunStatus::Failed) ++state_.failed;
    }
    for (store::RunRow& row : store_.pending_runs()) {
      if (in_shard(row.id, options_)) pending_.push_back(std::move(row));
    }
  }

  std::vector<store::RunRow> take(std::int64_t max_runs) override {
    std::vector<store::RunRow> rows;
    while (!pending_.empty() && static_cast<std::int64_t>(rows.size()) < max_runs) {
      rows.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    if (rows.empty()) return rows;
    std::vector<std::int64_t> ids;
    ids.reserve(rows.size());
    for (const auto& row : rows) ids.push_back(row.id);
    store_.mark_running(ids);
    state_.running += static_cast<std::int64_t>(rows.size());
    return rows;
  }

  void finish(std::vector<RunResult> results) override {
    for (auto& result : results) {
      (result.status == RunStatus::Failed ? state_.failed : state_.done) += 1;
      ++finished_now_;
      unwritten_.push_back(std::move(result));
    }
    state_.running -= static_cast<std::int64_t>(results.size());
    if (static_cast<std::int64_t>(unwritten_.size()) >= options_.write_batch ||
        (!unwritten_.empty() && seconds_since(last_write_) >= options_.write_interval_s)) {
      flush();
    }
    if (progress_ && seconds_since(last_report_) >= kProgressInterval) {
      last_report_ = Clock::now();
      progress_(snapshot());
    }
  }

  void flush() {
    if (!unwritten_.empty()) store_.write_results(unwritten_);
    unwritten_.clear();
    last_write_ = Clock::now();
  }

  SweepProgress snapshot() const { return detail::with_estimate(state_, start_, finished_now_); }

 private:
  store::ResultStore& store_;
  const SweepOptions& options_;
  const SweepProgressCallback& progress_;
  std::deque<store::RunRow> pending_;
  std::vector<RunResult> unwritten_;
  SweepProgress state_;
  std::int64_t finished_now_ = 0;  // runs finished by this invocation (for the ETA)
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_write_ = Clock::now();
  Clock::time_point last_report_ = Clock::now();
};

}  // namespace

void drain_queue(RunQueue& queue, int jobs, const RunInputs& inputs) {
  require(jobs >= 1, "jobs: expected an integer >= 1, got " + std::to_string(jobs));
  // Refill when at most `jobs` runs wait, so a worker never idles while the feeding thread is inside
  // the queue (a database transaction, an MPI round trip), with a take per worker and one run more:
  // each take() marks many runs running in one transaction, and a worker finds enough runs to fill
  // SIMD lanes. Refilling no earlier keeps a process from hoarding runs that other MPI ranks could
  // execute (rank 0 also hands out at most a share of what is left).
  const auto low_water = static_cast<std::size_t>(jobs);
  const auto high_water = static_cast<std::size_t>(jobs) * (kRunsPerTake + 1);
  WorkerPool pool(jobs, inputs);
  bool exhausted = false;
  for (;;) {
    pool.wait(low_water, !exhausted, kQueueTick);
    if (!exhausted) {
      const std::size_t ready = pool.ready_count();
      if (ready <= low_water) {
        std::vector<store::RunRow> rows =
            queue.take(static_cast<std::int64_t>(high_water - ready));
        if (rows.empty()) {
          exhausted = true;
        } else {
          pool.add(std::move(rows));
        }
      }
    }
    // Read after take(): a worker that finishes now is seen by the next round, not lost.
    const bool all_done = exhausted && pool.idle();
    queue.finish(pool.take_finished());  // also when empty: the queue's tick
    if (all_done) break;
  }
}

SweepProgress run_sweep(store::ResultStore& store, const SweepOptions& options,
                        const RunInputs& inputs, const SweepProgressCallback& progress) {
  require(options.jobs >= 1, "jobs: expected an integer >= 1, got " + std::to_string(options.jobs));
  require(options.shard_count >= 1 && options.shard_index >= 0 &&
              options.shard_index < options.shard_count,
          "shard: expected i/N with 0 <= i < N, got " + std::to_string(options.shard_index) + "/" +
              std::to_string(options.shard_count));
  require(options.write_batch >= 1, "write_batch: expected an integer >= 1");
  store.reset_in_flight();
  StoreQueue queue(store, options, progress);
  drain_queue(queue, options.jobs, inputs);
  queue.flush();
  SweepProgress final_progress = queue.snapshot();
  if (progress) progress(final_progress);
  return final_progress;
}

RunInputs cached_run_inputs(io::FileCache& files) {
  RunInputs inputs;
  inputs.load_data = [&files](const std::string& path) { return files.csv(path); };
  inputs.hash_data_file = [&files](const std::string& path) { return files.csv_hash(path); };
  inputs.load_images = [&files](DataSource source, const std::string& images,
                                const std::string& labels) {
    return files.images(source, images, labels);
  };
  return inputs;
}

}  // namespace relustab
