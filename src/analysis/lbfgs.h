// SPDX-License-Identifier: MIT
// Internal: the L-BFGS two-loop recursion shared by the flattest-implementation solvers.
#pragma once

#include <relustab/core/types.h>

#include <deque>
#include <utility>
#include <vector>

namespace relustab::detail {

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
