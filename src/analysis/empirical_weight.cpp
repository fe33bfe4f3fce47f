// SPDX-License-Identifier: MIT
// The empirical weight function g of the training inputs (Mulayoff et al. 2021 eqs (21)-(23)).
#include <relustab/analysis/function_space.h>

#include <relustab/core/error.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace relustab {

EmpiricalWeight::EmpiricalWeight(std::span<const double> inputs)
    : sorted_(inputs.begin(), inputs.end()) {
  require(!sorted_.empty(), "EmpiricalWeight: expected at least one input, got none");
  for (size_t j = 0; j < sorted_.size(); ++j) {
    require(std::isfinite(sorted_[j]), "EmpiricalWeight: input " + std::to_string(j) +
                                           " is not finite (" + std::to_string(sorted_[j]) + ")");
  }
  std::sort(sorted_.begin(), sorted_.end());
  const size_t n = sorted_.size();
  prefix_.assign(n + 1, 0.0);
  suffix_.assign(n + 1, 0.0);
  for (size_t m = 1; m <= n; ++m) {
    prefix_[m] = prefix_[m - 1] + sorted_[m - 1];
    suffix_[m] = suffix_[m - 1] + sorted_[n - m];
  }
}

double EmpiricalWeight::g_minus(double t) const {
  if (std::isnan(t)) return t;
  // m = #{x_j < t} (strict): lower_bound stops at the first x_j >= t.
  const auto m =
      static_cast<size_t>(std::lower_bound(sorted_.begin(), sorted_.end(), t) - sorted_.begin());
  if (m == 0) return 0.0;
  const double n = static_cast<double>(sorted_.size());
  const double fraction = static_cast<double>(m) / n;
  const double mean = prefix_[m] / static_cast<double>(m);
  // P(X < t)^2 E[t - X | X < t] sqrt(1 + E[X | X < t]^2)
  return fraction * fraction * (t - mean) * std::sqrt(1.0 + mean * mean);
}

double EmpiricalWeight::g_plus(double t) const {
  if (std::isnan(t)) return t;
  // m = #{x_j > t} (strict): upper_bound stops at the first x_j > t.
  const auto m =
      static_cast<size_t>(sorted_.end() - std::upper_bound(sorted_.begin(), sorted_.end(), t));
  if (m == 0) return 0.0;
  const double n = static_cast<double>(sorted_.size());
  const double fraction = static_cast<double>(m) / n;
  const double mean = suffix_[m] / static_cast<double>(m);
  return fraction * fraction * (mean - t) * std::sqrt(1.0 + mean * mean);
}

double EmpiricalWeight::operator()(double t) const {
  if (std::isnan(t)) return t;
  if (t < x_min() || t > x_max()) return 0.0;
  return std::min(g_minus(t), g_plus(t));
}

Vec EmpiricalWeight::evaluate(std::span<const double> points) const {
  Vec out(static_cast<Index>(points.size()));
  for (size_t m = 0; m < points.size(); ++m) out[static_cast<Index>(m)] = (*this)(points[m]);
  return out;
}

double EmpiricalWeight::x_min() const { return sorted_.front(); }
double EmpiricalWeight::x_max() const { return sorted_.back(); }

}  // namespace relustab
