// SPDX-License-Identifier: MIT
// GdLanes (relustab/train/lanes.h): many univariate nets trained in lockstep with nets as SIMD lanes.
// Oracles: the univariate back end's gradient step and train() on it (bit for bit over many steps,
// with knots crossing samples, ties and knots on samples), a brute-force O(nk) GD loop written here
// and the CPU back end's gradient (one step, to rounding: the sums run in other orders), the same
// lane alone and in other batches (bit for bit), float32 against float64.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/train/lanes.h>
#include <relustab/train/trainer.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "test_util.h"

namespace relustab {
namespace {

/// One GD step of the half-MSE loss by plain loops: outputs summed over neurons in neuron order,
/// gradients over samples in sample order, divided by n; relu'(0) = 0. Returns the pre-step loss.
double brute_force_step(ShallowReluNet& net, const Dataset& data, double eta) {
  const Index n = data.n(), k = net.width();
  std::vector<double> r(static_cast<size_t>(n));
  double loss = 0.0;
  for (Index j = 0; j < n; ++j) {
    double f = 0.0;
    for (Index i = 0; i < k; ++i) {
      const double pre = net.W1()(i, 0) * data.X(j, 0) + net.b1()[i];
      f += net.w2()[i] * (pre > 0.0 ? pre : 0.0);
    }
    r[static_cast<size_t>(j)] = (f + net.b2()) - data.y[j];
    loss += r[static_cast<size_t>(j)] * r[static_cast<size_t>(j)];
  }
  const double dn = static_cast<double>(n);
  for (Index i = 0; i < k; ++i) {
    double g_w1 = 0.0, g_b1 = 0.0, g_w2 = 0.0;
    for (Index j = 0; j < n; ++j) {
      const double x = data.X(j, 0);
      const double pre = net.W1()(i, 0) * x + net.b1()[i];
      g_w2 += r[static_cast<size_t>(j)] * (pre > 0.0 ? pre : 0.0);
      const double back = pre > 0.0 ? r[static_cast<size_t>(j)] * net.w2()[i] : 0.0;
      g_w1 += back * x;
      g_b1 += back;
    }
    net.W1()(i, 0) -= eta * (g_w1 / dn);
    net.b1()[i] -= eta * (g_b1 / dn);
    net.w2()[i] -= eta * (g_w2 / dn);
  }
  double g_b2 = 0.0;
  for (Index j = 0; j < n; ++j) g_b2 += r[static_cast<size_t>(j)];
  net.b2() -= eta * (g_b2 / dn);
  return loss / (2.0 * dn);
}

std::vector<ShallowReluNet> random_nets(Index count, Index width, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<ShallowReluNet> nets;
  for (Index b = 0; b < count; ++b) nets.push_back(test::random_net(1, width, rng));
  return nets;
}

std::vector<double> step_sizes(Index count) {
  std::vector<double> etas;
  for (Index b = 0; b < count; ++b) etas.push_back(0.01 * std::pow(10.0, static_cast<double>(b % 5) / 4.0));
  return etas;
}

/// How many samples each neuron is active on (w x + b > 0): the activation pattern of a univariate net.
std::vector<Index> active_counts(const ShallowReluNet& net, const Dataset& data) {
  std::vector<Index> counts(static_cast<size_t>(net.width()), 0);
  for (Index i = 0; i < net.width(); ++i) {
    for (Index j = 0; j < data.n(); ++j) {
      counts[static_cast<size_t>(i)] += net.W1()(i, 0) * data.X(j, 0) + net.b1()[i] > 0.0 ? 1 : 0;
    }
  }
  return counts;
}

/// Steps every lane of `batch` and the same nets one by one with the univariate back end's gradient
/// and train()'s update theta - eta * grad, asserting equal bits every step; returns how many
/// (neuron, step) pairs changed their activation pattern, so a test can show knots crossed samples.
Index expect_lanes_follow_the_univariate_back_end(GdLanes<double>& batch, std::vector<ShallowReluNet> nets,
                                                  const Dataset& data, const std::vector<double>& etas,
                                                  Index steps) {
  const auto univariate = make_backend("univariate");
  Index pattern_changes = 0;
  for (Index s = 0; s < steps; ++s) {
    batch.step(etas);
    for (size_t b = 0; b < nets.size(); ++b) {
      ShallowReluNet& net = nets[b];
      const std::vector<Index> before = active_counts(net, data);
      Vec grad;
      const double loss = univariate->loss_and_grad(net, data, {}, &grad);
      net.theta() = (net.theta() - etas[b] * grad).eval();
      const std::vector<Index> after = active_counts(net, data);
      for (size_t i = 0; i < before.size(); ++i) pattern_changes += before[i] != after[i] ? 1 : 0;
      EXPECT_EQ(batch.losses()[b], loss) << "lane " << b << ", step " << s;
      EXPECT_EQ(batch.net(static_cast<Index>(b)).theta(), net.theta()) << "lane " << b << ", step " << s;
      if (::testing::Test::HasFailure()) return pattern_changes;
    }
  }
  return pattern_changes;
}

TEST(GdLanes, EveryStepEqualsTheUnivariateBackEndBitForBit) {
  // 11 lanes: one full SIMD register or more and a remainder, on every vector width; a width that is
  // not a multiple of 4 (the partial sums' remainder). Step sizes up to 0.3 move knots across samples.
  const Index lanes = 11, width = 21, steps = 60;
  std::vector<ShallowReluNet> nets = random_nets(lanes, width, 5);
  Rng rng(6);
  const Dataset data = test::random_dataset(nets.front(), 17, rng);
  std::vector<double> etas = step_sizes(lanes);
  etas[2] = 0.3;
  etas[7] = 0.2;
  GdLanes<double> batch(nets, data);
  const Index changes = expect_lanes_follow_the_univariate_back_end(batch, nets, data, etas, steps);
  EXPECT_GT(changes, 10) << "knots should have crossed samples (the boundary search was not exercised)";
}

TEST(GdLanes, TiesKnotsOnSamplesAndFlatNeuronsFollowTheUnivariateBackEnd) {
  // Repeated inputs, neurons whose knot sits exactly on a sample (w x + b == 0 there: off, relu'(0) =
  // 0), and neurons with w = 0 (on everywhere or nowhere, by the sign of b).
  Dataset data;
  data.X.resize(9, 1);
  data.y.resize(9);
  const double inputs[9] = {0.25, -0.5, 0.25, 0.75, -0.5, 0.0, 0.25, 1.0, -1.0};
  for (Index j = 0; j < 9; ++j) {
    data.X(j, 0) = inputs[j];
    data.y[j] = std::sin(3.0 * inputs[j]) + 0.1 * static_cast<double>(j % 3);
  }
  std::vector<ShallowReluNet> nets = random_nets(5, 6, 15);
  for (ShallowReluNet& net : nets) {
    net.W1()(0, 0) = 0.5;   // knot at 0.25, a repeated input
    net.b1()[0] = -0.125;
    net.W1()(1, 0) = -2.0;  // knot at -0.5
    net.b1()[1] = -1.0;
    net.W1()(2, 0) = 0.0;   // on everywhere
    net.b1()[2] = 0.3;
    net.W1()(3, 0) = 0.0;   // off everywhere
    net.b1()[3] = -0.3;
  }
  const std::vector<double> etas = {0.05, 0.1, 0.2, 0.01, 0.4};
  GdLanes<double> batch(nets, data);
  expect_lanes_follow_the_univariate_back_end(batch, nets, data, etas, 30);
}

TEST(GdLanes, ALaneEndsWhereTrainOnTheUnivariateBackEndEnds) {
  const Index lanes = 4, width = 12, steps = 200;
  const std::vector<ShallowReluNet> nets = random_nets(lanes, width, 16);
  Rng rng(17);
  const Dataset data = test::random_dataset(nets.front(), 23, rng);
  const std::vector<double> etas = {0.02, 0.1, 0.25, 0.4};
  GdLanes<double> batch(nets, data);
  for (Index s = 0; s < steps; ++s) batch.step(etas);
  const auto univariate = make_backend("univariate");
  for (Index b = 0; b < lanes; ++b) {
    TrainOptions options;
    options.schedule.eta = etas[static_cast<size_t>(b)];
    options.stop.max_steps = steps;
    options.stop.loss_tol = 0.0;  // no early stop: exactly `steps` steps
    const TrainResult result = train(*univariate, nets[static_cast<size_t>(b)], data, options);
    ASSERT_EQ(result.steps, steps);
    EXPECT_EQ(batch.net(b).theta(), result.net.theta()) << "lane " << b;
  }
}

TEST(GdLanes, OneStepAgreesWithABruteForceLoop) {
  const Index lanes = 7, width = 20;
  std::vector<ShallowReluNet> nets = random_nets(lanes, width, 18);
  Rng rng(19);
  const Dataset data = test::random_dataset(nets.front(), 17, rng);
  const std::vector<double> etas = step_sizes(lanes);
  GdLanes<double> batch(nets, data);
  batch.step(etas);
  for (Index b = 0; b < lanes; ++b) {
    ShallowReluNet& net = nets[static_cast<size_t>(b)];
    const double loss = brute_force_step(net, data, etas[static_cast<size_t>(b)]);
    // O(n + k) prefix sums against O(nk) sums over samples: rounding only.
    EXPECT_NEAR(batch.losses()[static_cast<size_t>(b)], loss, 1e-13 * loss) << "lane " << b;
    EXPECT_LT((batch.net(b).theta() - net.theta()).cwiseAbs().maxCoeff(),
              1e-13 * std::max(1.0, net.theta().cwiseAbs().maxCoeff()))
        << "lane " << b;
  }
}

TEST(GdLanes, OneStepAgreesWithTheCpuBackEnd) {
  const Index lanes = 6, width = 30;
  const std::vector<ShallowReluNet> nets = random_nets(lanes, width, 7);
  Rng rng(8);
  const Dataset data = test::random_dataset(nets.front(), 25, rng);
  const std::vector<double> etas = step_sizes(lanes);
  GdLanes<double> batch(nets, data);
  batch.step(etas);
  const auto cpu = make_backend("cpu");
  for (Index b = 0; b < lanes; ++b) {
    const ShallowReluNet& net = nets[static_cast<size_t>(b)];
    Vec grad;
    const double loss = cpu->loss_and_grad(net, data, {}, &grad);
    const Vec expected = net.theta() - etas[static_cast<size_t>(b)] * grad;
    // The sums run in another order (the cpu back end's blocks and Eigen's products): rounding only.
    EXPECT_NEAR(batch.losses()[static_cast<size_t>(b)], loss, 1e-13 * loss) << "lane " << b;
    EXPECT_LT((batch.net(b).theta() - expected).cwiseAbs().maxCoeff(),
              1e-14 * std::max(1.0, expected.cwiseAbs().maxCoeff()))
        << "lane " << b;
    EXPECT_GT((batch.net(b).theta() - net.theta()).norm(), 1e-6) << "the step moved lane " << b;
  }
}

TEST(GdLanes, ALaneHasTheSameBitsAloneAndInAnyBatch) {
  const Index width = 16, steps = 25;
  const std::vector<ShallowReluNet> pool = random_nets(64, width, 9);
  Rng rng(10);
  const Dataset data = test::random_dataset(pool.front(), 13, rng);
  const ShallowReluNet& tracked = pool[3];
  const double tracked_eta = 0.05;
  std::vector<Vec> results;
  for (const Index lanes : {Index{1}, Index{5}, Index{8}, Index{64}}) {
    // The tracked net in lane min(3, lanes - 1), the others from the pool.
    std::vector<ShallowReluNet> nets(pool.begin(), pool.begin() + lanes);
    const Index where = std::min<Index>(3, lanes - 1);
    nets[static_cast<size_t>(where)] = tracked;
    std::vector<double> etas = step_sizes(lanes);
    etas[static_cast<size_t>(where)] = tracked_eta;
    GdLanes<double> batch(nets, data);
    for (Index s = 0; s < steps; ++s) batch.step(etas);
    results.push_back(batch.net(where).theta());
  }
  for (size_t c = 1; c < results.size(); ++c) EXPECT_EQ(results[c], results[0]) << "batch " << c;
}

TEST(GdLanes, Float32FollowsFloat64ToSinglePrecision) {
  const Index lanes = 9, width = 25, steps = 10;
  const std::vector<ShallowReluNet> nets = random_nets(lanes, width, 11);
  Rng rng(12);
  const Dataset data = test::random_dataset(nets.front(), 20, rng);
  const std::vector<double> etas = step_sizes(lanes);
  GdLanes<double> wide(nets, data);
  GdLanes<float> narrow(nets, data);
  for (Index s = 0; s < steps; ++s) {
    wide.step(etas);
    narrow.step(etas);
  }
  for (Index b = 0; b < lanes; ++b) {
    const Vec exact = wide.net(b).theta();
    EXPECT_LT((narrow.net(b).theta() - exact).cwiseAbs().maxCoeff(), 1e-5 * std::max(1.0, exact.cwiseAbs().maxCoeff()))
        << "lane " << b;
    EXPECT_NEAR(narrow.losses()[static_cast<size_t>(b)], wide.losses()[static_cast<size_t>(b)],
                1e-5 * wide.losses()[static_cast<size_t>(b)]);
  }
}

TEST(GdLanes, KeptLanesGoOnWithTheirOwnBits) {
  const Index width = 15;
  const std::vector<ShallowReluNet> nets = random_nets(6, width, 21);
  Rng rng(22);
  const Dataset data = test::random_dataset(nets.front(), 19, rng);
  const std::vector<double> etas = step_sizes(6);
  GdLanes<double> all(nets, data), kept(nets, data);
  for (Index s = 0; s < 10; ++s) {
    all.step(etas);
    kept.step(etas);
  }
  const std::vector<Index> lanes = {4, 1};
  kept.keep(lanes);
  ASSERT_EQ(kept.lanes(), 2);
  for (size_t i = 0; i < lanes.size(); ++i) {
    EXPECT_EQ(kept.previous_net(static_cast<Index>(i)).theta(), all.previous_net(lanes[i]).theta());
  }
  for (Index s = 0; s < 10; ++s) {
    all.step(etas);
    kept.step(std::vector<double>{etas[4], etas[1]});
  }
  for (size_t i = 0; i < lanes.size(); ++i) {
    EXPECT_EQ(kept.net(static_cast<Index>(i)).theta(), all.net(lanes[i]).theta()) << "lane " << lanes[i];
    EXPECT_EQ(kept.losses()[i], all.losses()[static_cast<size_t>(lanes[i])]);
  }
  EXPECT_THROW(kept.keep(std::vector<Index>{0, 0}), InputError);
  EXPECT_THROW(kept.keep(std::vector<Index>{2}), InputError);
  EXPECT_THROW(kept.keep(std::vector<Index>{}), InputError);
  GdLanes<double> fresh(nets, data);
  fresh.evaluate();
  EXPECT_THROW(fresh.descend(std::vector<double>{0.1}), InputError) << "one step size per lane";
  fresh.descend(etas);
  EXPECT_THROW(fresh.descend(etas), InputError) << "descend() twice without evaluate()";
}

TEST(GdLanes, BadInputIsRefusedByName) {
  Rng rng(13);
  const std::vector<ShallowReluNet> nets = random_nets(2, 4, 14);
  const Dataset data = test::random_dataset(nets.front(), 5, rng);
  EXPECT_THROW(GdLanes<double>(std::vector<ShallowReluNet>{}, data), InputError);
  std::vector<ShallowReluNet> mixed = nets;
  mixed.push_back(test::random_net(1, 5, rng));
  EXPECT_NE(test::message_of([&] { GdLanes<double> lanes(mixed, data); }).find("net 2"), std::string::npos);
  const ShallowReluNet plane = test::random_net(2, 4, rng);
  const Dataset plane_data = test::random_dataset(plane, 5, rng);
  EXPECT_THROW(GdLanes<double>(std::vector<ShallowReluNet>{plane}, plane_data), InputError);
  EXPECT_THROW(GdLanes<double>(nets, plane_data), InputError);
  Dataset broken = data;
  broken.y[2] = std::nan("");
  EXPECT_THROW(GdLanes<double>(nets, broken), InputError);
  GdLanes<double> lanes(nets, data);
  EXPECT_THROW(lanes.step(std::vector<double>{0.1}), InputError);
  EXPECT_THROW(static_cast<void>(lanes.net(2)), InputError);
}

}  // namespace
}  // namespace relustab
