// SPDX-License-Identifier: MIT
// Timing and the ETA of sweep progress, shared by the local engine and the MPI coordinator.
#pragma once

#include <relustab/experiment/sweep.h>

#include <chrono>
#include <cstdint>

namespace relustab::detail {

using SweepClock = std::chrono::steady_clock;

/// Seconds between two progress reports.
inline constexpr double kProgressInterval = 0.2;

inline double seconds_since(SweepClock::time_point start) {
  return std::chrono::duration<double>(SweepClock::now() - start).count();
}

/// `state` with the elapsed time and the estimated seconds left. The rate counts only the runs this
/// invocation finished (`finished_now`): runs resumed from an earlier invocation took no time here.
inline SweepProgress with_estimate(SweepProgress state, SweepClock::time_point start,
                                   std::int64_t finished_now) {
  state.elapsed_s = seconds_since(start);
  const std::int64_t left = state.total - state.done - state.failed;
  if (left == 0) {
    state.eta_s = 0.0;
  } else if (finished_now > 0) {
    state.eta_s = state.elapsed_s / static_cast<double>(finished_now) * static_cast<double>(left);
  }
  return state;
}

}  // namespace relustab::detail
