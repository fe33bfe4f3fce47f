// SPDX-License-Identifier: MIT
// The sweep engine: runs an experiment's pending runs on a pool of threads, writing results in
// batches through one writer, so that a killed sweep resumes where it stopped.
#pragma once

#include <relustab/experiment/result_store.h>
#include <relustab/experiment/run_result.h>

#include <cstdint>
#include <functional>

namespace relustab {

namespace io {
class FileCache;
}

struct SweepOptions {
  int jobs = 1;                    ///< worker threads; each run is single-threaded
  int shard_index = 0;             ///< --shard i/N: run only runs whose position p has p % N == i
  int shard_count = 1;
  std::int64_t write_batch = 64;   ///< results per database transaction ...
  double write_interval_s = 0.5;   ///< ... or at least this often
};

/// Whether the run with store id `run_id` (1-based position in the sweep) belongs to the shard of
/// `options`: (run_id - 1) % shard_count == shard_index, with and without MPI alike.
inline bool in_shard(std::int64_t run_id, const SweepOptions& options) {
  return (run_id - 1) % options.shard_count == options.shard_index;
}

struct SweepProgress {
  std::int64_t total = 0;          ///< runs of this sweep (this shard)
  std::int64_t done = 0;           ///< finished, including those finished by earlier invocations
  std::int64_t failed = 0;
  std::int64_t running = 0;
  double elapsed_s = 0.0;
  double eta_s = -1.0;             ///< estimated seconds left, -1 when unknown
};
using SweepProgressCallback = std::function<void(const SweepProgress&)>;

/// A source of work and a sink of results, so the same scheduling serves threads, MPI ranks and
/// tests. The local implementation wraps a ResultStore; the MPI one forwards to rank 0.
/// drain_queue calls take() and finish() only from the thread that called drain_queue (never from
/// its workers), so a queue needs no locking and may use MPI under MPI_THREAD_FUNNELED.
class RunQueue {
 public:
  virtual ~RunQueue() = default;
  /// Up to `max_runs` runs to do now (marked running); empty when none are left.
  virtual std::vector<store::RunRow> take(std::int64_t max_runs) = 0;
  /// Hands back finished runs (the queue batches the writes). drain_queue also calls it with no
  /// results at least every 50 ms while it waits, so a queue can do timed work here (flush a batch
  /// of writes, report progress, answer other MPI ranks).
  virtual void finish(std::vector<RunResult> results) = 0;
};

/// Executes runs taken from `queue` on `jobs` threads until the queue is empty: each worker takes its
/// share of the waiting runs with the other idle workers (at most 64) and executes them
/// single-threaded with execute_runs, so the runs that can share SIMD lanes (same data, plain
/// full-batch GD) train together; every result is that of its run alone. A run whose execution throws is finished as Failed with the
/// message. This is the worker loop shared by threads on one machine and by every MPI rank.
///
/// The calling thread feeds the workers: when at most `jobs` runs wait it takes up to 65 `jobs` more
/// (in one take()) and hands results back as they come. A row's configuration is read back
/// from its config_json and must hash to its key, else the run fails with that reason. After take()
/// returns no runs, drain_queue calls take() no more and returns once the runs it holds are
/// finished and handed back. An exception from the queue stops the workers (runs not yet started
/// are dropped, running ones complete and their results are dropped too) and propagates; those
/// runs stay marked running, and the next sweep's reset_in_flight() makes them pending again.
void drain_queue(RunQueue& queue, int jobs, const RunInputs& inputs);

/// Run inputs that read each data file (and its content hash) and each image set once for all runs
/// of a sweep, through `files`, which must outlive them.
RunInputs cached_run_inputs(io::FileCache& files);

/// Runs all pending runs of `store` (of this shard) on options.jobs threads: resets runs left
/// in flight by a killed process, takes work in batches, executes it with drain_queue's workers, and
/// writes results in batches from one writer. Returns the final progress.
SweepProgress run_sweep(store::ResultStore& store, const SweepOptions& options,
                        const RunInputs& inputs, const SweepProgressCallback& progress = {});

}  // namespace relustab
