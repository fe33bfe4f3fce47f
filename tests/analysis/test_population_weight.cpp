// SPDX-License-Identifier: MIT
// Population weight functions against quadrature of their defining integrals and against samples.
#include <relustab/analysis/function_space.h>
#include <relustab/core/rng.h>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

namespace relustab {
namespace {

using Integrand = std::function<double(double)>;

double simpson(double fa, double fm, double fb, double a, double b) {
  return (b - a) / 6.0 * (fa + 4.0 * fm + fb);
}

double adaptive_simpson_step(const Integrand& f, double a, double b, double fa, double fm, double fb,
                             double whole, double tolerance, int depth) {
  const double m = 0.5 * (a + b);
  const double lm = 0.5 * (a + m), rm = 0.5 * (m + b);
  const double flm = f(lm), frm = f(rm);
  const double left = simpson(fa, flm, fm, a, m);
  const double right = simpson(fm, frm, fb, m, b);
  const double delta = left + right - whole;
  if (depth <= 0 || std::abs(delta) <= 15.0 * tolerance) return left + right + delta / 15.0;
  return adaptive_simpson_step(f, a, m, fa, flm, fm, left, 0.5 * tolerance, depth - 1) +
         adaptive_simpson_step(f, m, b, fm, frm, fb, right, 0.5 * tolerance, depth - 1);
}

/// Adaptive Simpson quadrature with Richardson correction of int_a^b f.
double integrate(const Integrand& f, double a, double b) {
  constexpr double kQuadratureTolerance = 1e-13;
  if (b <= a) return 0.0;
  const double fa = f(a), fb = f(b), fm = f(0.5 * (a + b));
  return adaptive_simpson_step(f, a, b, fa, fm, fb, simpson(fa, fm, fb, a, b), kQuadratureTolerance,
                               50);
}

struct Law {
  Distribution kind;
  Integrand density;
  double lo, hi;  ///< support, or a range outside which the mass is below 1e-30
  double kink;    ///< a point where the density is not smooth (split there for quadrature)
};

std::vector<Law> laws() {
  const double a = std::sqrt(3.0);
  const double b = 1.0 / std::sqrt(2.0);
  return {
      {Distribution::Uniform, [a](double) { return 1.0 / (2.0 * a); }, -a, a, 0.0},
      {Distribution::Gaussian,
       [](double s) { return std::exp(-0.5 * s * s) / std::sqrt(2.0 * std::numbers::pi); }, -12.0, 12.0,
       0.0},
      {Distribution::Laplace, [b](double s) { return std::exp(-std::abs(s) / b) / (2.0 * b); },
       -50.0 * b, 50.0 * b, 0.0},
  };
}

/// int_lo^hi f over [lo, hi] intersected with the law's range, split at the kink.
double integrate_on(const Law& law, const Integrand& f, double lo, double hi) {
  lo = std::max(lo, law.lo);
  hi = std::min(hi, law.hi);
  if (hi <= lo) return 0.0;
  if (law.kink > lo && law.kink < hi) return integrate(f, lo, law.kink) + integrate(f, law.kink, hi);
  return integrate(f, lo, hi);
}

/// g(x) from the definitions: with the side S = {s < x} or {s > x}, g_side = P(S)^2 E[|x - X| | S]
/// sqrt(1 + E[X | S]^2) = P(S) * int_S |x - s| p(s) ds * sqrt(1 + (int_S s p(s) ds / P(S))^2).
double quadrature_g(const Law& law, double x) {
  const auto side = [&](double lo, double hi) {
    const double mass = integrate_on(law, law.density, lo, hi);
    if (mass == 0.0) return 0.0;
    const double distance = integrate_on(
        law, [&](double s) { return std::abs(x - s) * law.density(s); }, lo, hi);
    const double first_moment = integrate_on(
        law, [&](double s) { return s * law.density(s); }, lo, hi);
    const double mean = first_moment / mass;
    return mass * distance * std::sqrt(1.0 + mean * mean);
  };
  return std::min(side(-INFINITY, x), side(x, INFINITY));
}

TEST(PopulationWeight, MatchesQuadratureOfTheDefiningIntegrals) {
  // Adaptive Simpson at 1e-13 on smooth pieces (observed agreement ~3e-14): products of three such
  // integrals stay well within 1e-12.
  constexpr double kQuadratureAgreement = 1e-12;
  for (const Law& law : laws()) {
    for (double x : {-2.5, -1.6, -1.0, -0.3, 0.0, 0.4, 1.2, 1.7, 2.0, 3.0}) {
      const double expected = quadrature_g(law, x);
      EXPECT_NEAR(population_weight(law.kind, x), expected, kQuadratureAgreement)
          << "law " << static_cast<int>(law.kind) << " at x = " << x;
    }
  }
}

TEST(PopulationWeight, CheckValuesAtZeroAndMinusOne) {
  // Mulayoff et al. 2021, eqs. 21-23: check values, given to 5 significant digits: tolerance half a unit of the
  // last digit.
  EXPECT_NEAR(population_weight(Distribution::Uniform, 0.0), 0.28641, 0.5e-5);
  EXPECT_NEAR(population_weight(Distribution::Gaussian, 0.0), 0.25518, 0.5e-5);
  EXPECT_NEAR(population_weight(Distribution::Laplace, 0.0), 0.21651, 0.5e-5);
  EXPECT_NEAR(population_weight(Distribution::Uniform, -1.0), 0.027673, 0.5e-6);
  EXPECT_NEAR(population_weight(Distribution::Gaussian, -1.0), 0.024107, 0.5e-6);
  EXPECT_NEAR(population_weight(Distribution::Laplace, -1.0), 0.020672, 0.5e-6);
}

TEST(PopulationWeight, IsSymmetricAndVanishesOutsideTheUniformSupport) {
  for (Distribution law : {Distribution::Uniform, Distribution::Gaussian, Distribution::Laplace}) {
    for (double x : {0.1, 0.9, 1.5, 4.0}) {
      EXPECT_NEAR(population_weight(law, x), population_weight(law, -x), 1e-15);
    }
    EXPECT_EQ(population_weight(law, INFINITY), 0.0);
  }
  EXPECT_EQ(population_weight(Distribution::Uniform, 1.8), 0.0);
  EXPECT_EQ(population_weight(Distribution::Uniform, std::sqrt(3.0)), 0.0);
  EXPECT_GT(population_weight(Distribution::Gaussian, 5.0), 0.0);
}

TEST(PopulationWeight, EmpiricalWeightOfManySamplesApproachesIt) {
  // n = 20000: g is a smooth functional of the empirical CDF, so its sampling error is O(n^-1/2)
  // times g's scale (~0.3), about 1e-3 (observed up to 1.6e-3 with this seed); 6e-3 leaves several
  // standard errors.
  constexpr Index kSamples = 20000;
  constexpr double kSamplingTolerance = 6e-3;
  Rng rng(424242);
  for (const Law& law : laws()) {
    std::vector<double> x(kSamples);
    for (double& value : x) {
      switch (law.kind) {
        case Distribution::Uniform:
          value = rng.uniform(-std::sqrt(3.0), std::sqrt(3.0));
          break;
        case Distribution::Gaussian:
          value = rng.normal();
          break;
        case Distribution::Laplace:
          value = rng.laplace(1.0 / std::sqrt(2.0));
          break;
      }
    }
    const EmpiricalWeight g(x);
    for (double t : {-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5}) {
      EXPECT_NEAR(g(t), population_weight(law.kind, t), kSamplingTolerance)
          << "law " << static_cast<int>(law.kind) << " at t = " << t;
    }
  }
}

}  // namespace
}  // namespace relustab
