// SPDX-License-Identifier: MIT
// Internal: the smoothing and L-BFGS settings and the two-loop recursion shared by the
// flattest-implementation solvers (flattest.cpp over rescalings, flattest_all.cpp over implementations).
#pragma once

#include <relustab/core/types.h>

#include <deque>
#include <utility>
#include <vector>

namespace relustab::detail {

/// Eigenpairs whose softmax weight exp((lambda - lambda_max) / mu) is below e^-60 (< 1e-26) are left
/// out of the smoothed function and of Z: their contribution is far below float64 resolution.
inline constexpr double kSoftmaxCutoff = 60.0;
/// First smoothing level, relative to lambda_max at the warm start, and the factor by which it
/// shrinks once the smoothed problem is solved to the accuracy its own smoothing allows.
inline constexpr double kInitialSmoothing = 1e-2;
inline constexpr double kSmoothingDecrease = 8.0;
/// L-BFGS memory, Armijo constant, largest change of any log-scale in one step (keeps exp() tame),
/// and the number of step halvings before a line search gives up.
inline constexpr int kLbfgsMemory = 10;
inline constexpr double kArmijo = 1e-4;
inline constexpr double kMaxLogScaleStep = 2.0;
inline constexpr int kMaxHalvings = 50;

/// -H g for the L-BFGS inverse-Hessian estimate H built from the (step, gradient change) pairs in
/// `memory`, oldest first.
inline Vec lbfgs_direction(const Vec& gradient, const std::deque<std::pair<Vec, Vec>>& memory) {
  Vec q = gradient;
  std::vector<double> alpha(memory.size());
  for (std::size_t m = memory.size(); m-- > 0;) {
    const auto& [s, y] = memory[m];
    alpha[m] = s.dot(q) / y.dot(s);
    q -= alpha[m] * y;
  }
  if (!memory.empty()) {
    const auto& [s, y] = memory.back();
    q *= s.dot(y) / y.squaredNorm();
  }
  for (std::size_t m = 0; m < memory.size(); ++m) {
    const auto& [s, y] = memory[m];
    q += s * (alpha[m] - y.dot(q) / y.dot(s));
  }
  return -q;
}

}  // namespace relustab::detail
