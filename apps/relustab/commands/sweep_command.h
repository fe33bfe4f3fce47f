// SPDX-License-Identifier: MIT
// Running an experiment file into a results directory: the work of `relustab sweep`, shared with
// `relustab reproduce`.
#pragma once

#include <string>
#include <vector>

namespace relustab::cli {

struct SweepArgs {
  std::string experiment_path;
  std::string out_dir;                 ///< empty: runs/<experiment file stem>
  int jobs = 0;                        ///< 0: the number of hardware threads
  std::vector<std::string> overrides;  ///< key=value, applied after the file
  std::string shard;                   ///< "i/N" or empty
  bool quiet = false;                  ///< no progress bar
};

/// Reads the experiment, registers its runs in the results directory (resuming a sweep already
/// there), runs the pending ones on a pool of threads (or across MPI ranks when launched with several)
/// and prints a one-line summary. Failed runs are counted, not thrown; bad input throws InputError.
/// `argc`/`argv` reach MPI_Init under an MPI launcher.
void run_sweep_command(const SweepArgs& args, int* argc, char*** argv);

}  // namespace relustab::cli
