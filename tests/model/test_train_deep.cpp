// SPDX-License-Identifier: MIT
// train_deep: the GD loop against a hand-written loop, loss decrease, the three outcomes, log rows,
// thread independence, and the linear stability of the exact pyramid at step sizes around 2/lambda.
#include <relustab/core/error.h>
#include <relustab/curvature/deep_curvature.h>
#include <relustab/train/train_deep.h>

#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "model/deep_test_util.h"

namespace relustab {
namespace {

using test::message_of;

/// 40 points uniform on [-1, 1]^2 with the pyramid as target (kinks avoided; no noise).
Dataset small_pyramid_problem(std::uint64_t seed) {
  Rng rng(seed);
  return test::pyramid_dataset(2, 40, rng);
}

TrainOptions plain_gd(double eta, std::int64_t max_steps) {
  TrainOptions options;
  options.schedule.eta = eta;
  options.stop.max_steps = max_steps;
  options.stop.loss_tol = 0.0;  // never converged: run to max_steps
  options.log_sharpness = false;
  return options;
}

TEST(TrainDeep, FollowsTheGradientDescentRecursionExactly) {
  const Dataset data = small_pyramid_problem(1);
  Rng rng(2);
  const DeepReluNet start = initialize_deep(2, 8, 6, InitKind::TorchUniform, 0.0, rng);
  const std::int64_t steps = 25;
  const double eta = 0.1;
  const DeepTrainResult result = train_deep(start, data, plain_gd(eta, steps));
  EXPECT_EQ(result.outcome, Outcome::MaxSteps);
  EXPECT_EQ(result.steps, steps);
  // theta_{t+1} = theta_t - eta grad L(theta_t), written out.
  DeepReluNet expected = start;
  Vec g;
  for (std::int64_t t = 0; t < steps; ++t) {
    deep_loss_and_grad(expected, data, {}, &g);
    expected.theta() = expected.theta() - eta * g;
  }
  EXPECT_EQ(result.net.theta(), expected.theta());
  EXPECT_EQ(result.final_loss, deep_loss_and_grad(expected, data, {}, nullptr));
  EXPECT_EQ(result.net.width1(), 8);
  EXPECT_EQ(result.net.width2(), 6);
}

TEST(TrainDeep, DecreasesTheLossOnASmallProblem) {
  const Dataset data = small_pyramid_problem(3);
  Rng rng(4);
  const DeepReluNet start = initialize_deep(2, 16, 16, InitKind::TorchUniform, 0.0, rng);
  const double initial = test::brute_force_deep_loss(start, data);
  TrainOptions options = plain_gd(0.2, 4000);
  options.log_every = 1000;
  const DeepTrainResult result = train_deep(start, data, options);
  EXPECT_EQ(result.outcome, Outcome::MaxSteps);
  EXPECT_NEAR(result.final_loss, test::brute_force_deep_loss(result.net, data), 1e-14);
  EXPECT_LT(result.final_loss, 0.2 * initial) << "initial " << initial;
  ASSERT_EQ(result.log.size(), 5u);  // steps 0, 1000, ..., 4000
  for (size_t i = 0; i < result.log.size(); ++i) {
    EXPECT_EQ(result.log[i].step, static_cast<std::int64_t>(1000 * i));
    EXPECT_EQ(result.log[i].eta, 0.2);
    EXPECT_TRUE(std::isnan(result.log[i].sharpness));  // log_sharpness = false
  }
  EXPECT_LT(result.log.back().loss, result.log.front().loss);
  // y_clean is known: mse_clean = 2 L here (y = y_clean).
  EXPECT_NEAR(result.log.back().mse_clean, 2.0 * result.final_loss, 1e-14);
}

TEST(TrainDeep, LogRowsCarryTheSharpnessWithResidual) {
  const Dataset data = small_pyramid_problem(5);
  Rng rng(6);
  const DeepReluNet start = initialize_deep(2, 6, 5, InitKind::TorchUniform, 0.0, rng);
  TrainOptions options = plain_gd(0.1, 45);
  options.log_every = 20;
  options.log_sharpness = true;
  int calls = 0;
  const DeepTrainResult result = train_deep(start, data, options, [&](const LogRow&) { ++calls; });
  ASSERT_EQ(result.log.size(), 4u);  // 0, 20, 40 and the final step 45
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(result.log.back().step, 45);
  for (const LogRow& row : result.log) {
    EXPECT_TRUE(std::isfinite(row.sharpness));
    EXPECT_LE(row.sharpness_residual, 1e-8 * (1.0 + std::abs(row.sharpness)));
  }
  // The last row measures the returned net.
  EXPECT_NEAR(result.log.back().sharpness, deep_sharpness(result.net, data).value,
              1e-9 * (1.0 + std::abs(result.log.back().sharpness)));
  EXPECT_EQ(result.log.back().loss, result.final_loss);
}

TEST(TrainDeep, DivergesAtAHugeStepSize) {
  const Dataset data = small_pyramid_problem(7);
  Rng rng(8);
  const DeepReluNet start = initialize_deep(2, 8, 8, InitKind::TorchUniform, 0.0, rng);
  const DeepTrainResult result = train_deep(start, data, plain_gd(500.0, 10000));
  EXPECT_EQ(result.outcome, Outcome::Diverged);
  EXPECT_LT(result.steps, 10000);
  EXPECT_TRUE(result.net.theta().allFinite());
  // final_loss is the loss of the parameters returned (theta_t, or theta_{t-1} when theta_t is not
  // finite), and that loss is the divergent one unless the step back was taken.
  const double recomputed = test::brute_force_deep_loss(result.net, data);
  if (std::isfinite(recomputed)) {
    EXPECT_NEAR(result.final_loss, recomputed, 1e-12 * recomputed);
  } else {
    EXPECT_FALSE(std::isfinite(result.final_loss));
  }
}

TEST(TrainDeep, ConvergesImmediatelyAtTheExactPyramid) {
  const Dataset data = small_pyramid_problem(9);
  TrainOptions options = plain_gd(0.5, 1000);
  options.stop.loss_tol = 1e-20;
  options.stop.patience = 30;
  const DeepReluNet pyramid = DeepReluNet::pyramid(2, {.width1 = 6, .width2 = 2});
  const DeepTrainResult result = train_deep(pyramid, data, options);
  EXPECT_EQ(result.outcome, Outcome::Converged);
  EXPECT_EQ(result.steps, 29);  // losses at steps 0..29 are the 30 below loss_tol
  EXPECT_LE(result.final_loss, 1e-20);
  EXPECT_LE((result.net.theta() - pyramid.theta()).cwiseAbs().maxCoeff(), 1e-14);
}

/// The pyramid is a zero-loss minimum with sharpness lambda. GD started at theta* + eps v (v the
/// top eigenvector) is linearly stable iff eta <= 2 / lambda: below, the perturbation decays (the
/// loss goes back towards 0); above, its component along v grows by |1 - eta lambda| > 1 per step.
TEST(TrainDeep, PyramidIsStableExactlyBelowTwoOverSharpness) {
  const Dataset data = small_pyramid_problem(11);
  const DeepReluNet pyramid = DeepReluNet::pyramid(2);
  const EigenResult top = deep_sharpness(pyramid, data);
  ASSERT_TRUE(std::isfinite(top.value));
  ASSERT_GT(top.value, 0.0);
  const double eps = 1e-4;
  DeepReluNet start = pyramid;
  start.theta() += eps * top.vector;
  const double threshold = 2.0 / top.value;

  const DeepTrainResult stable = train_deep(start, data, plain_gd(0.9 * threshold, 300));
  EXPECT_EQ(stable.outcome, Outcome::MaxSteps);
  const double stable_offset = (stable.net.theta() - pyramid.theta()).dot(top.vector);
  EXPECT_LT(std::abs(stable_offset), 1e-3 * eps);  // 0.8^300 decay, up to second-order drift
  EXPECT_LT(stable.final_loss, 1e-14);

  const DeepTrainResult unstable = train_deep(start, data, plain_gd(1.1 * threshold, 40));
  const double unstable_distance = (unstable.net.theta() - pyramid.theta()).norm();
  EXPECT_GT(unstable_distance, 30.0 * eps);  // 1.2^40 ~ 1.5e3 in the linear regime
  EXPECT_GT(unstable.final_loss, 1e3 * test::brute_force_deep_loss(start, data));
}

TEST(TrainDeep, ResultDoesNotDependOnTheThreadCount) {
  Rng rng(12);
  const Dataset data = test::pyramid_dataset(2, 600, rng);  // three sample blocks
  Rng init_rng(13);
  const DeepReluNet start = initialize_deep(2, 8, 8, InitKind::TorchUniform, 0.0, init_rng);
  TrainOptions options = plain_gd(0.1, 30);
  options.log_every = 10;
  options.log_sharpness = true;
  options.sharpness.dense_max = 0;
  const DeepTrainResult one = train_deep(start, data, options, {}, RunContext{1});
  const DeepTrainResult two = train_deep(start, data, options, {}, RunContext{2});
  EXPECT_EQ(one.net.theta(), two.net.theta());
  EXPECT_EQ(one.final_loss, two.final_loss);
  ASSERT_EQ(one.log.size(), two.log.size());
  for (size_t i = 0; i < one.log.size(); ++i) EXPECT_EQ(one.log[i].sharpness, two.log[i].sharpness);
}

TEST(TrainDeep, StochasticBatchesAreSeeded) {
  const Dataset data = small_pyramid_problem(14);
  Rng rng(15);
  const DeepReluNet start = initialize_deep(2, 6, 6, InitKind::TorchUniform, 0.0, rng);
  TrainOptions options = plain_gd(0.1, 20);
  options.batch_size = 5;
  options.seed = 99;
  const DeepTrainResult a = train_deep(start, data, options);
  const DeepTrainResult b = train_deep(start, data, options);
  EXPECT_EQ(a.net.theta(), b.net.theta());
  // The recursion with batches drawn by Rng(seed).below(n), B draws per step.
  Rng batches(99);
  DeepReluNet expected = start;
  std::vector<Index> batch(5);
  Vec g;
  for (int t = 0; t < 20; ++t) {
    for (Index& j : batch)
      j = static_cast<Index>(batches.below(static_cast<std::uint64_t>(data.n())));
    deep_loss_and_grad(expected, data, batch, &g);
    expected.theta() = expected.theta() - 0.1 * g;
  }
  EXPECT_EQ(a.net.theta(), expected.theta());
  options.seed = 100;
  EXPECT_NE(train_deep(start, data, options).net.theta(), a.net.theta());
}

TEST(TrainDeep, ReportsTheFullBatchGradientNormOfTheReturnedNet) {
  const Dataset data = small_pyramid_problem(9);
  Rng rng(10);
  const DeepReluNet start = initialize_deep(2, 6, 5, InitKind::TorchUniform, 0.0, rng);
  TrainOptions options = plain_gd(0.1, 30);
  options.log_every = 30;
  const DeepTrainResult result = train_deep(start, data, options);
  // Central differences of a brute-force loss (smooth in each parameter between kinks; no sample
  // is within kStep of one at this net).
  constexpr double kStep = 1e-7;
  double squared = 0.0;
  for (Index p = 0; p < result.net.n_params(); ++p) {
    DeepReluNet plus = result.net, minus = result.net;
    plus.theta()[p] += kStep;
    minus.theta()[p] -= kStep;
    const double slope =
        (test::brute_force_deep_loss(plus, data) - test::brute_force_deep_loss(minus, data)) /
        (2.0 * kStep);
    squared += slope * slope;
  }
  EXPECT_NEAR(result.final_grad_norm, std::sqrt(squared), 1e-5 * std::sqrt(squared));
  EXPECT_EQ(result.log.back().grad_norm, result.final_grad_norm);
}

TEST(TrainDeep, RejectsBadOptions) {
  const Dataset data = small_pyramid_problem(16);
  const DeepReluNet net = DeepReluNet::pyramid(2);
  TrainOptions options = plain_gd(0.0, 10);
  EXPECT_NE(message_of([&] { train_deep(net, data, options); }).find("eta"), std::string::npos);
  options = plain_gd(0.1, 10);
  options.stop.patience = 0;
  EXPECT_NE(message_of([&] { train_deep(net, data, options); }).find("patience"),
            std::string::npos);
  options = plain_gd(0.1, 10);
  options.optimizer = Optimizer::Adam;
  EXPECT_NE(message_of([&] { train_deep(net, data, options); }).find("optimizer"),
            std::string::npos);
  options = plain_gd(0.1, 10);
  options.log_measure = [](const ShallowReluNet&, LogRow&) {};
  EXPECT_NE(message_of([&] { train_deep(net, data, options); }).find("log_measure"),
            std::string::npos);
  options = plain_gd(0.1, 10);
  options.stop.grad_tol = -1.0;
  EXPECT_NE(message_of([&] { train_deep(net, data, options); }).find("grad_tol"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              train_deep(DeepReluNet::pyramid(3), data, plain_gd(0.1, 10));
            }).find("input dimension"),
            std::string::npos);
}

}  // namespace
}  // namespace relustab
