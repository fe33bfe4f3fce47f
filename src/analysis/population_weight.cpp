// SPDX-License-Identifier: MIT
// Closed forms of the weight function g for unit-variance uniform, Gaussian and Laplace laws.
#include <relustab/analysis/function_space.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace relustab {
namespace {

// Each g_minus below is F(x) I(x) sqrt(1 + (m(x)/F(x))^2) of Mulayoff et al. 2021, eqs. 21-23, with F the CDF,
// I(x) = int_{-inf}^x F and m(x) = int_{-inf}^x s p(s) ds; g_plus(x) = g_minus(-x) by symmetry.

double uniform_g_minus(double x) {
  const double a = std::numbers::sqrt3;  // Uniform[-a, a] has variance a^2 / 3 = 1
  if (x <= -a) return 0.0;
  // Beyond the support F = 1, I = x (the mean is 0) and m = 0.
  if (x >= a) return x;
  const double half_gap = (x - a) / 2.0;  // E[X | X < x]
  return (x + a) * (x + a) * (x + a) / (8.0 * a * a) * std::sqrt(1.0 + half_gap * half_gap);
}

double gaussian_g_minus(double x) {
  const double density = std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi);
  const double cdf = 0.5 * std::erfc(-x / std::numbers::sqrt2);
  const double integrated_cdf = x * cdf + density;
  // F sqrt(1 + (m/F)^2) with m = -density, written so that it stays finite where F underflows.
  return integrated_cdf * std::hypot(cdf, density);
}

double laplace_g_minus(double x) {
  const double b = 1.0 / std::numbers::sqrt2;  // Laplace(0, b) has variance 2 b^2 = 1
  if (x < 0.0) {
    // F = e^{x/b}/2, I = (b/2) e^{x/b}, E[X | X < x] = x - b.
    const double e = std::exp(x / b);
    const double conditional_mean = x - b;
    return 0.25 * b * e * e * std::sqrt(1.0 + conditional_mean * conditional_mean);
  }
  const double e = std::exp(-x / b);
  const double cdf = 1.0 - 0.5 * e;
  const double integrated_cdf = x + 0.5 * b * e;
  const double partial_mean = -0.5 * e * (x + b);
  return integrated_cdf * std::hypot(cdf, partial_mean);
}

double g_minus(Distribution law, double x) {
  switch (law) {
    case Distribution::Uniform:
      return uniform_g_minus(x);
    case Distribution::Gaussian:
      return gaussian_g_minus(x);
    case Distribution::Laplace:
      return laplace_g_minus(x);
  }
  return 0.0;
}

}  // namespace

double population_weight(Distribution law, double x) {
  if (std::isnan(x)) return x;
  // At +-infinity one side has probability 0.
  if (std::isinf(x)) return 0.0;
  return std::min(g_minus(law, x), g_minus(law, -x));
}

}  // namespace relustab
