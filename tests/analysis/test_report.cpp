// SPDX-License-Identifier: MIT
// The stability verdict with its tolerance, dead neurons and the report's new fields, against
// brute-force loops and the report's own sharpness.
#include "test_util.h"

#include <relustab/analysis/report.h>
#include <relustab/core/error.h>

#include <gtest/gtest.h>

#include <cmath>

namespace relustab {
namespace {

TEST(ClassifyStability, BandAroundTheEdgeIsInclusive) {
  EXPECT_EQ(classify_stability(0.5), StabilityClass::Stable);
  EXPECT_EQ(classify_stability(0.989), StabilityClass::Stable);
  EXPECT_EQ(classify_stability(0.99), StabilityClass::AtEdge);
  EXPECT_EQ(classify_stability(1.0), StabilityClass::AtEdge);
  // The example: sharpness 5.002 against 2/eta = 5.
  EXPECT_EQ(classify_stability(5.002 / 5.0), StabilityClass::AtEdge);
  EXPECT_EQ(classify_stability(1.01), StabilityClass::AtEdge);
  EXPECT_EQ(classify_stability(1.0101), StabilityClass::Unstable);
  EXPECT_EQ(classify_stability(1.0004, 0.0), StabilityClass::Unstable);
  EXPECT_EQ(classify_stability(1.0, 0.0), StabilityClass::AtEdge);
  EXPECT_EQ(stability_name(StabilityClass::AtEdge), "at the edge");
}

TEST(CountDeadNeurons, MatchesABruteForceLoop) {
  Rng rng(7);
  for (const Index d : {1, 3}) {
    ShallowReluNet net = test::random_net(d, 40, rng);
    // Push some neurons far below zero so that they are dead on the data.
    for (Index i = 0; i < 40; i += 4) net.b1()[i] = -50.0;
    const Dataset data = test::random_dataset(net, 30, rng);
    Index dead = 0;
    for (Index i = 0; i < net.width(); ++i) {
      bool active_somewhere = false;
      for (Index j = 0; j < data.n(); ++j) {
        double pre = net.b1()[i];
        for (Index c = 0; c < d; ++c) pre += net.W1()(i, c) * data.X(j, c);
        active_somewhere = active_somewhere || pre > 0.0;
      }
      dead += active_somewhere ? 0 : 1;
    }
    EXPECT_GE(dead, 10);
    EXPECT_EQ(count_dead_neurons(net, data.X), dead);
  }
  // relu'(0) = 0: a neuron whose largest pre-activation is exactly 0 is dead.
  ShallowReluNet edge(1, 1);
  edge.W1()(0, 0) = 1.0;
  edge.b1()[0] = -1.0;
  RowMatrix X(2, 1);
  X << 0.0, 1.0;
  EXPECT_EQ(count_dead_neurons(edge, X), 1);
}

TEST(AnalyzeNet, ReportsTheEdgeRatioAndItsClass) {
  Rng rng(8);
  const ShallowReluNet net = test::random_net(1, 6, rng);
  const Dataset data = test::random_dataset(net, 12, rng);
  const auto backend = make_backend("cpu");
  const double sharp = analyze_net(*backend, net, data, std::nullopt).sharpness.value;
  ASSERT_GT(sharp, 0.0);
  for (const double ratio : {0.5, 0.995, 1.005, 1.5}) {
    const double eta = 2.0 * ratio / sharp;
    const StabilityReport r = analyze_net(*backend, net, data, eta);
    EXPECT_NEAR(r.edge_ratio, ratio, 1e-12);
    EXPECT_EQ(r.stability, classify_stability(ratio));
    EXPECT_EQ(r.stable, ratio <= 1.0);
  }
  AnalysisOptions strict;
  strict.edge_tolerance = 0.0;
  EXPECT_EQ(analyze_net(*backend, net, data, 2.0 * 1.005 / sharp, strict).stability,
            StabilityClass::Unstable);
  strict.edge_tolerance = 1.5;
  EXPECT_THROW(analyze_net(*backend, net, data, 0.1, strict), InputError);
}

}  // namespace
}  // namespace relustab
