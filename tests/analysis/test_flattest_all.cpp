// SPDX-License-Identifier: MIT
// The flattest implementation over all implementations (d = 1) against: the net's function on a wide
// grid, a dense eigensolver on the implementation's explicit tangent features, a brute-force search
// over every side assignment of small nets, Lemma 4's bound by loops over the definition, and a
// GD-trained interpolating net.
#include "analysis/brute_force.h"
#include "test_util.h"

#include <relustab/analysis/flattest.h>
#include <relustab/core/error.h>
#include <relustab/data/generators.h>
#include <relustab/model/init.h>
#include <relustab/train/trainer.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <limits>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace relustab {
namespace {

/// Values equal in exact arithmetic computed by different float64 routes.
constexpr double kFlattestAllRoundingTol = 1e-10;
/// The rescaling step is certified to 1e-9 relative (FlattestOptions::tol).
constexpr double kRescalingTol = 2e-9;

Dataset dataset_of(const std::vector<double>& x) {
  Dataset data;
  data.X = test::column(x);
  data.y = Vec::Zero(static_cast<Index>(x.size()));
  return data;
}

/// A univariate net with knots inside and outside the data, two neurons sharing a knot (one on each
/// side, so they cannot be merged by the net itself), and optionally a constant (w1 = 0) neuron.
ShallowReluNet mixed_net(Index width, Rng& rng, bool with_constant) {
  ShallowReluNet net = test::random_net(1, width, rng, 1.0);
  for (Index i = 0; i < width; ++i) {
    const double knot = rng.uniform(-1.8, 1.8);  // data in [-1, 1]: some knots outside
    net.b1()[i] = -net.W1()(i, 0) * knot;
  }
  if (width >= 3) {  // neuron 1 on the other side of neuron 0's knot
    const double knot = -net.b1()[0] / net.W1()(0, 0);
    net.W1()(1, 0) = -2.0 * net.W1()(0, 0);
    net.b1()[1] = -net.W1()(1, 0) * knot;
  }
  if (with_constant) {
    net.W1()(width - 1, 0) = 0.0;
    net.b1()[width - 1] = 0.7;
  }
  return net;
}

/// |b2| + sum_i |w2_i| |w1_i x + b1_i|: the size of the terms whose rounding f(x) carries.
double term_scale(const ShallowReluNet& net, double x) {
  double s = std::abs(net.b2());
  for (Index i = 0; i < net.width(); ++i) {
    s += std::abs(net.w2()[i]) * std::abs(net.W1()(i, 0) * x + net.b1()[i]);
  }
  return s;
}

/// The knots of f with their summed slope jumps, by a loop over the neurons (exact float equality).
std::map<double, double> knots_of(const ShallowReluNet& net) {
  std::map<double, double> jumps;
  for (Index i = 0; i < net.width(); ++i) {
    const double w1 = net.W1()(i, 0);
    if (w1 != 0.0) jumps[-net.b1()[i] / w1] += net.w2()[i] * std::abs(w1);
  }
  return jumps;
}

/// Lemma 4's bound 1 + 2 sum_t |s_t| g(t) by the brute-force g.
double lemma4_by_hand(const ShallowReluNet& net, const std::vector<double>& x) {
  double sum = 0.0;
  for (const auto& [knot, jump] : knots_of(net)) sum += std::abs(jump) * test::brute_g(x, knot);
  return 1.0 + 2.0 * sum;
}

double gn_sharpness(const ShallowReluNet& net, const std::vector<double>& x) {
  return test::gauss_newton_lambda_max(test::explicit_tangent_features(net, test::column(x)));
}

void expect_same_function(const ShallowReluNet& a, const ShallowReluNet& b,
                          const std::vector<double>& x, const std::string& label) {
  const double lo = *std::min_element(x.begin(), x.end());
  const double hi = *std::max_element(x.begin(), x.end());
  const double range = hi - lo;
  std::vector<double> grid;
  for (int p = 0; p <= 4000; ++p) grid.push_back(lo - 2 * range + 5 * range * p / 4000.0);
  for (const auto& [knot, jump] : knots_of(a)) {
    for (double offset : {-1e-3, 0.0, 1e-3}) grid.push_back(knot + offset);
  }
  grid.insert(grid.end(), x.begin(), x.end());
  for (const double t : grid) {
    const Vec point = Vec::Constant(1, t);
    const double fa = test::brute_force_output(a, point), fb = test::brute_force_output(b, point);
    const double scale = std::max(term_scale(a, t), term_scale(b, t));
    ASSERT_LE(std::abs(fa - fb), 1e-13 * scale) << label << " at x = " << t;
  }
}

TEST(FlattestAll, SameFunctionOnAWideGridAndTheReportedSharpness) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    Rng rng(seed);
    const Index width = 4 + static_cast<Index>(seed) * 3;
    const ShallowReluNet net = mixed_net(width, rng, seed % 2 == 0);
    const std::vector<double> x = test::random_inputs(rng, 6 + static_cast<Index>(seed), -1.0, 1.0);
    const FlattestAllResult r = flattest_over_implementations(net, dataset_of(x));
    const std::string label = "seed " + std::to_string(seed);
    expect_same_function(net, r.net, x, label);
    // The value is the Gauss-Newton sharpness of the net returned (dense, explicit features).
    EXPECT_NEAR(r.sharpness, gn_sharpness(r.net, x), kFlattestAllRoundingTol * r.sharpness) << label;
    EXPECT_EQ(r.neurons, r.net.width()) << label;
    EXPECT_EQ(r.extra_neurons, std::max<Index>(0, r.net.width() - width)) << label;
    // The per-knot description adds up to f's jumps.
    const std::map<double, double> jumps = knots_of(net);
    Index nonzero = 0;
    for (const auto& [knot, jump] : jumps) nonzero += jump != 0.0 ? 1 : 0;
    ASSERT_EQ(static_cast<Index>(r.knots.size()), nonzero) << label;
    for (const KnotShare& k : r.knots) {
      EXPECT_NEAR(k.right + k.left, jumps.at(k.knot), 1e-12 * std::abs(k.jump)) << label;
    }
  }
}

TEST(FlattestAll, ChainLemma4CertificateFlattestRescalingsSharpness) {
  for (std::uint64_t seed = 20; seed < 32; ++seed) {
    Rng rng(seed);
    const Index width = 3 + static_cast<Index>(seed % 9);
    const ShallowReluNet net = mixed_net(width, rng, seed % 3 == 0);
    const std::vector<double> x = test::random_inputs(rng, 5 + static_cast<Index>(seed % 7), -1.0, 1.0);
    const Dataset data = dataset_of(x);
    const FlattestAllResult r = flattest_over_implementations(net, data);
    const FlattestResult rescaled = flattest_implementation(net, data);
    const std::string label = "seed " + std::to_string(seed);
    EXPECT_EQ(r.rescaling_sharpness, rescaled.sharpness) << label;
    const double lemma4 = lemma4_by_hand(net, x);
    EXPECT_LE(lemma4, r.lower_bound * (1 + kFlattestAllRoundingTol)) << label;
    EXPECT_LE(r.lower_bound, r.sharpness * (1 + kFlattestAllRoundingTol)) << label;
    EXPECT_LE(r.sharpness, r.rescaling_sharpness * (1 + kFlattestAllRoundingTol)) << label;
    EXPECT_LE(r.rescaling_sharpness, gn_sharpness(net, x) * (1 + kRescalingTol)) << label;
    EXPECT_LE(r.net_lower_bound, r.sharpness * (1 + kFlattestAllRoundingTol)) << label;
    if (r.certified) {
      EXPECT_LE(r.sharpness - r.lower_bound, 1e-3 * r.sharpness) << label;
    }
  }
}

/// Every side assignment of f's knots (a knot outside the data: facing it or away), the linear term
/// balanced by a compensating pair just outside either edge (as the search places them), each
/// implementation built by hand and rescaled by flattest_implementation: their minimum.
double brute_force_over_sides(const ShallowReluNet& net, const std::vector<double>& x,
                              double lower_bound, int* checked) {
  const Dataset data = dataset_of(x);
  const double lo = *std::min_element(x.begin(), x.end());
  const double hi = *std::max_element(x.begin(), x.end());
  double constant = net.b2(), slope_left = 0.0;
  for (Index i = 0; i < net.width(); ++i) {
    const double w1 = net.W1()(i, 0);
    if (w1 == 0.0) constant += net.w2()[i] * std::max(net.b1()[i], 0.0);
    if (w1 < 0.0) {
      const double s = net.w2()[i] * std::abs(w1), t = -net.b1()[i] / w1;
      slope_left -= s;
      constant += s * t;
    }
  }
  std::vector<std::pair<double, double>> knots;
  for (const auto& [t, s] : knots_of(net)) {
    if (s != 0.0) knots.emplace_back(t, s);
  }
  const std::size_t m = knots.size();
  double best = std::numeric_limits<double>::infinity();
  for (unsigned mask = 0; mask < (1u << m); ++mask) {
    for (const double pair_knot : {lo - 1e-9 * (hi - lo), hi + 1e-9 * (hi - lo)}) {
      // Neurons (w1, b1, w2): right-facing (1, -t, s), left-facing (-1, t, s) = s (t - x)_+.
      std::vector<std::array<double, 3>> neurons;
      double left_sum = 0.0, left_moment = 0.0;
      for (std::size_t k = 0; k < m; ++k) {
        const auto [t, s] = knots[k];
        const bool left = (mask >> k) & 1u;
        neurons.push_back({left ? -1.0 : 1.0, left ? t : -t, s});
        if (left) {
          left_sum += s;
          left_moment += s * t;
        }
      }
      // f - neurons = (constant - left_moment... ) + (slope_left + left_sum) x: the pair c (x - t0).
      const double c = slope_left + left_sum;
      double b2 = constant - left_moment;
      if (c != 0.0) {
        neurons.push_back({1.0, -pair_knot, c});
        neurons.push_back({-1.0, pair_knot, -c});
        b2 += c * pair_knot;
      }
      ShallowReluNet impl(1, static_cast<Index>(neurons.size()));
      for (std::size_t i = 0; i < neurons.size(); ++i) {
        impl.W1()(static_cast<Index>(i), 0) = neurons[i][0];
        impl.b1()[static_cast<Index>(i)] = neurons[i][1];
        impl.w2()[static_cast<Index>(i)] = neurons[i][2];
      }
      impl.b2() = b2;
      expect_same_function(net, impl, x, "brute-force implementation");
      const FlattestResult flat = flattest_implementation(impl, data);
      EXPECT_LE(lower_bound, flat.sharpness * (1 + kFlattestAllRoundingTol)) << "mask " << mask;
      ++*checked;
      best = std::min(best, flat.sharpness);
    }
  }
  return best;
}

TEST(FlattestAll, NoSideAssignmentBeatsTheSearchOrItsCertificate) {
  int checked = 0, certified = 0;
  for (std::uint64_t seed = 40; seed < 52; ++seed) {
    Rng rng(seed);
    const Index width = 3 + static_cast<Index>(seed % 6);  // k <= 8
    const ShallowReluNet net = mixed_net(width, rng, false);
    const std::vector<double> x = test::random_inputs(rng, 4 + static_cast<Index>(seed % 5), -1.0, 1.0);
    const FlattestAllResult r = flattest_over_implementations(net, dataset_of(x));
    const double brute = brute_force_over_sides(net, x, r.lower_bound, &checked);
    const std::string label = "seed " + std::to_string(seed);
    // Splits are allowed in the search, so it may go below every side assignment, never above
    // (beyond its certified gap).
    certified += r.certified ? 1 : 0;
    EXPECT_LE(r.sharpness - r.lower_bound, 0.05 * r.sharpness) << label;
    EXPECT_LE(r.sharpness, brute * (1 + kFlattestAllRoundingTol)) << label;
    EXPECT_LE(r.lower_bound, brute * (1 + kFlattestAllRoundingTol)) << label;
    std::printf("%s: k = %lld, brute force %.8g, search %.8g, certified >= %.8g, rescalings %.8g\n",
                label.c_str(), static_cast<long long>(width), brute, r.sharpness, r.lower_bound,
                r.rescaling_sharpness);
  }
  EXPECT_GT(checked, 200);
  // The certificate closes (gap <= 1e-3) on most of these nets (9 of 12 when written).
  EXPECT_GE(certified, 8);
}

// When the search does not close its gap, where it stops depends on the last bits of its arithmetic:
// on the net below, one-ulp changes of one input move the flattest found between 4.19 and 4.24 (when
// written; up to 4% on other nets). What must hold is that every run brackets the same minimum: the
// largest certified bound stays below the smallest sharpness found, over inputs one ulp apart.
TEST(FlattestAll, UlpPerturbedInputsGiveBracketsOfOneMinimum) {
  Rng rng(21);
  const ShallowReluNet net = mixed_net(12, rng, false);
  const std::vector<double> x = test::random_inputs(rng, 9, -1.0, 1.0);
  double highest_bound = -std::numeric_limits<double>::infinity();
  double lowest_found = std::numeric_limits<double>::infinity();
  double spread_low = lowest_found, spread_high = -lowest_found;
  for (std::size_t i = 0; i <= x.size(); ++i) {
    std::vector<double> perturbed = x;
    if (i < x.size()) perturbed[i] = std::nextafter(perturbed[i], 2.0);  // i == size: unperturbed
    const FlattestAllResult r = flattest_over_implementations(net, dataset_of(perturbed));
    EXPECT_LE(r.lower_bound, r.sharpness * (1 + kFlattestAllRoundingTol)) << "input " << i;
    highest_bound = std::max(highest_bound, r.lower_bound);
    lowest_found = std::min(lowest_found, r.sharpness);
    spread_low = std::min(spread_low, r.sharpness);
    spread_high = std::max(spread_high, r.sharpness);
  }
  EXPECT_LE(highest_bound, lowest_found * (1 + kFlattestAllRoundingTol));
  std::printf("flattest found in [%.8g, %.8g] over one-ulp perturbations; bounds up to %.8g\n",
              spread_low, spread_high, highest_bound);
}

TEST(FlattestAll, GdTrainedInterpolatingNet) {
  Rng data_rng(3);
  const std::vector<double> x = test::random_inputs(data_rng, 6, -1.0, 1.0);
  Dataset data = dataset_of(x);
  for (Index j = 0; j < data.n(); ++j) data.y[j] = std::sin(3.0 * x[static_cast<std::size_t>(j)]);
  Rng init_rng(2);
  const ShallowReluNet init = initialize(1, 30, InitKind::TorchUniform, 1.0, init_rng);
  const auto backend = test::make_backend_under_test();
  TrainOptions options;
  options.schedule.eta = 0.2;
  options.stop.max_steps = 400000;
  options.stop.loss_tol = 1e-10;
  options.stop.patience = 100;
  const TrainResult run = train(*backend, init, data, options);
  ASSERT_EQ(run.outcome, Outcome::Converged) << "loss " << run.final_loss;
  const FlattestAllResult r = flattest_over_implementations(run.net, data);
  expect_same_function(run.net, r.net, x, "trained net");
  const double sharpness = gn_sharpness(run.net, x);
  const double lemma4 = lemma4_by_hand(run.net, x);
  std::printf("trained: GN sharpness %.8g, rescalings %.8g, all %.8g (>= %.8g), Lemma 4 %.8g, "
              "%lld neurons\n", sharpness, r.rescaling_sharpness, r.sharpness, r.lower_bound, lemma4,
              static_cast<long long>(r.neurons));
  EXPECT_LE(lemma4, r.lower_bound * (1 + kFlattestAllRoundingTol));
  EXPECT_LE(r.lower_bound, r.sharpness * (1 + kFlattestAllRoundingTol));
  EXPECT_LE(r.sharpness, r.rescaling_sharpness * (1 + kFlattestAllRoundingTol));
  EXPECT_LE(r.rescaling_sharpness, sharpness * (1 + kRescalingTol));
  // Not certified to 1e-3 here (the gap was 5% when written): bracketed, not claimed optimal.
  EXPECT_LE(r.sharpness - r.lower_bound, 0.1 * r.sharpness);
  EXPECT_NEAR(r.sharpness, gn_sharpness(r.net, x), kFlattestAllRoundingTol * r.sharpness);
}

TEST(FlattestAll, BadInputThrows) {
  Rng rng(7);
  const ShallowReluNet flat2d = test::random_net(2, 4, rng);
  Dataset data2d;
  data2d.X = RowMatrix::Random(5, 2);
  data2d.y = Vec::Zero(5);
  EXPECT_THROW(flattest_over_implementations(flat2d, data2d), InputError);
  const ShallowReluNet net = test::random_net(1, 4, rng);
  EXPECT_THROW(flattest_over_implementations(net, data2d), InputError);
  EXPECT_THROW(flattest_over_implementations(net, dataset_of({0.5, 0.5, 0.5})), InputError);
  FlattestAllOptions bad;
  bad.tol = 0.0;
  EXPECT_THROW(flattest_over_implementations(net, dataset_of({0.1, 0.5}), bad), InputError);
}

}  // namespace
}  // namespace relustab
