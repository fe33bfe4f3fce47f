// SPDX-License-Identifier: MIT
// Distribution of a sweep over MPI ranks: rank 0 owns the database (the one writer) and hands out
// runs; every rank, rank 0 included, executes runs with the same worker loop as a local sweep.
#pragma once

#include <relustab/experiment/sweep.h>

#include <functional>
#include <memory>

namespace relustab::mpi {

/// True when this process was started by an MPI launcher with more than one rank and the build has
/// MPI (RELUSTAB_WITH_MPI). Decided from the launcher's environment, before MPI_Init.
bool launched_with_several_ranks();

/// Initialises MPI (thread level FUNNELED: only the main thread calls MPI) and finalises it on
/// destruction. Only main() should hold one.
class Session {
 public:
  Session(int* argc, char*** argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  int rank_ = 0;
  int size_ = 1;
};

/// Collective: call on every rank. `open_store` is called on rank 0 only (it opens the database and
/// registers the experiment's runs). Ranks that die leave their runs running in the database; the
/// next sweep resets them to pending. Returns the final progress on rank 0 (zeros elsewhere).
SweepProgress run_sweep_mpi(const Session& session,
                            const std::function<std::unique_ptr<store::ResultStore>()>& open_store,
                            const SweepOptions& options, const RunInputs& inputs,
                            const SweepProgressCallback& progress = {});

}  // namespace relustab::mpi
