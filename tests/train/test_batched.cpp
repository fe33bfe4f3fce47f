// SPDX-License-Identifier: MIT
// train_batch and train_in_lanes against training each net alone with the sorted-knot back end: bit
// for bit, for any thread count, through every stop rule; members that cannot share a batch or lanes
// are refused.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/model/init.h>
#include <relustab/train/batched.h>
#include <relustab/train/lanes_train.h>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"
#include "train/reference_net.h"

namespace relustab {
namespace {

TEST(TrainBatch, EveryMemberIsBitIdenticalToTrainingItAloneForAnyThreadCount) {
  std::vector<Dataset> data;
  std::vector<ShallowReluNet> nets;
  for (int m = 0; m < 7; ++m) {
    data.push_back(test::sine_problem(16, 1, 0.2, 300 + static_cast<std::uint64_t>(m)));
    Rng rng(static_cast<std::uint64_t>(m));
    nets.push_back(initialize(1, 12, InitKind::TorchUniform, 1.0, rng));
  }
  std::vector<BatchMember> members;
  for (int m = 0; m < 7; ++m) {
    BatchMember member{&nets[static_cast<size_t>(m)], &data[static_cast<size_t>(m)], TrainOptions{}};
    member.options.schedule.eta = 0.02 * (m + 1);  // one of them diverges or not: either is a result
    member.options.stop.max_steps = 500;
    member.options.log_every = 100;
    members.push_back(member);
  }
  const auto backend = make_backend("univariate");
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE("threads = " + std::to_string(threads));
    const std::vector<TrainResult> batch = train_batch(members, threads);
    ASSERT_EQ(batch.size(), members.size());
    for (size_t m = 0; m < members.size(); ++m) {
      const TrainResult alone = train(*backend, nets[m], data[m], members[m].options);
      EXPECT_TRUE(batch[m].net.theta() == alone.net.theta()) << "member " << m;
      EXPECT_EQ(batch[m].steps, alone.steps);
      EXPECT_EQ(batch[m].final_loss, alone.final_loss);
      ASSERT_EQ(batch[m].log.size(), alone.log.size());
    }
  }
}

/// Asserts that `got` is the result train() returns for `member` on the univariate back end.
void expect_train_result(const TrainResult& got, const BatchMember& member, const std::string& what) {
  const auto backend = make_backend("univariate");
  const TrainResult alone = train(*backend, *member.net, *member.data, member.options);
  EXPECT_EQ(got.outcome, alone.outcome) << what;
  EXPECT_EQ(got.steps, alone.steps) << what;
  EXPECT_EQ(got.switch_step, alone.switch_step) << what;
  EXPECT_TRUE(got.net.theta() == alone.net.theta()) << what;
  // Bitwise, NaN included (a diverged run's loss or gradient norm).
  EXPECT_TRUE(got.final_loss == alone.final_loss || (std::isnan(got.final_loss) && std::isnan(alone.final_loss)))
      << what << ": " << got.final_loss << " vs " << alone.final_loss;
  EXPECT_TRUE(got.final_grad_norm == alone.final_grad_norm ||
              (std::isnan(got.final_grad_norm) && std::isnan(alone.final_grad_norm)))
      << what << ": " << got.final_grad_norm << " vs " << alone.final_grad_norm;
  ASSERT_EQ(got.log.size(), alone.log.size()) << what;
  const auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  for (size_t r = 0; r < alone.log.size(); ++r) {
    const LogRow& a = got.log[r];
    const LogRow& b = alone.log[r];
    EXPECT_EQ(a.step, b.step) << what << ", row " << r;
    EXPECT_TRUE(same(a.eta, b.eta) && same(a.loss, b.loss) && same(a.grad_norm, b.grad_norm) &&
                same(a.mse_clean, b.mse_clean) && same(a.sharpness, b.sharpness) &&
                same(a.sharpness_residual, b.sharpness_residual))
        << what << ", row " << r << " (step " << b.step << "): sharpness " << a.sharpness << " vs " << b.sharpness;
  }
}

/// Nets on one data set with options that end every way train() can end.
struct LaneProblem {
  Dataset data = test::sine_problem(20, 1, 0.2, 41);
  std::vector<ShallowReluNet> nets;
  std::vector<BatchMember> members;

  explicit LaneProblem(int count) {
    for (int m = 0; m < count; ++m) {
      Rng rng(static_cast<std::uint64_t>(50 + m));
      nets.push_back(initialize(1, 14, InitKind::TorchUniform, 1.0, rng));
    }
    for (int m = 0; m < count; ++m) {
      BatchMember member{&nets[static_cast<size_t>(m)], &data, TrainOptions{}};
      TrainOptions& o = member.options;
      o.schedule.eta = 0.01 * (1 + m % 9);
      o.stop.max_steps = 300 + 37 * (m % 5);
      if (m % 4 == 0) o.log_every = 40;     // log rows with their sharpness
      if (m % 4 == 2) o.log_growth = 1.5;  // logarithmically spaced rows
      switch (m % 6) {
        case 0: o.stop.loss_tol = 0.0; break;                       // max_steps
        case 1: o.stop.loss_tol = 0.05; o.stop.patience = 3; break;  // converges early
        case 2: o.schedule.eta = 40.0; break;                       // diverges (loss above 1e12)
        case 3:                                                     // diverges to a non-finite loss
          o.schedule.eta = 1e3;
          o.stop.divergence_loss = std::numeric_limits<double>::infinity();
          break;
        case 4: o.schedule.switch_below_loss = 0.1; o.schedule.switch_factor = 3.0; break;
        default: o.schedule.warmup_from = 1e-3; o.schedule.warmup_steps = 50; break;
      }
      members.push_back(member);
    }
  }
};

TEST(TrainInLanes, EveryLaneEqualsTrainAloneThroughEveryStopRule) {
  const LaneProblem problem(13);
  const std::vector<TrainResult> lanes = train_in_lanes(problem.members);
  ASSERT_EQ(lanes.size(), problem.members.size());
  int converged = 0, diverged = 0, max_steps = 0, switched = 0, rows = 0;
  for (size_t m = 0; m < lanes.size(); ++m) {
    expect_train_result(lanes[m], problem.members[m], "member " + std::to_string(m));
    converged += lanes[m].outcome == Outcome::Converged;
    diverged += lanes[m].outcome == Outcome::Diverged;
    max_steps += lanes[m].outcome == Outcome::MaxSteps;
    switched += lanes[m].switch_step >= 0;
    rows += static_cast<int>(lanes[m].log.size());
  }
  // The problem reaches every ending, so each rule was really applied lane by lane.
  EXPECT_GT(converged, 0);
  EXPECT_GE(diverged, 2);
  EXPECT_GT(max_steps, 0);
  EXPECT_GT(switched, 0);
  EXPECT_GT(rows, 20);
}

TEST(TrainInLanes, ALongRunAmongShortOnesKeepsItsBitsWhenTheStoppedLanesAreDropped) {
  // Seven runs stop at step 20, one goes on to 300: the stopped lanes are dropped along the way.
  LaneProblem problem(8);
  for (size_t m = 0; m < problem.members.size(); ++m) {
    TrainOptions& o = problem.members[m].options;
    o = TrainOptions{};
    o.schedule.eta = 0.02 * static_cast<double>(m + 1);
    o.stop.loss_tol = 0.0;
    o.stop.max_steps = m == 5 ? 300 : 20;
    o.log_every = m == 5 ? 30 : 0;
  }
  const std::vector<TrainResult> lanes = train_in_lanes(problem.members);
  for (size_t m = 0; m < lanes.size(); ++m) expect_train_result(lanes[m], problem.members[m], "member " + std::to_string(m));
  EXPECT_EQ(lanes[5].steps, 300);
}

TEST(TrainInLanes, ANonFiniteIterateStepsBackAsTrainDoes) {
  // The overflowing lane's theta_1 is not finite, so train() returns theta_0 (step 0); the other lane
  // steps on.
  const test::OverflowingStep problem;
  const Dataset& data = problem.data;
  const ShallowReluNet& overflowing = problem.net;
  ShallowReluNet tame(1, 2);
  tame.W1() << 1.0, -1.0;
  tame.w2() << 0.5, 0.25;
  std::vector<BatchMember> members = {{&overflowing, &data, TrainOptions{}}, {&tame, &data, TrainOptions{}}};
  for (BatchMember& member : members) {
    member.options.schedule.eta = 0.1;
    member.options.stop.max_steps = 100;
    member.options.stop.divergence_loss = std::numeric_limits<double>::infinity();
  }
  const std::vector<TrainResult> lanes = train_in_lanes(members);
  EXPECT_EQ(lanes[0].outcome, Outcome::Diverged);
  EXPECT_EQ(lanes[0].steps, 0);
  EXPECT_TRUE(lanes[0].net.theta() == overflowing.theta());
  for (size_t m = 0; m < members.size(); ++m) expect_train_result(lanes[m], members[m], "member " + std::to_string(m));
}

TEST(TrainBatch, LaneGroupsAndSingleMembersAreBitIdenticalToTrainingAloneForAnyThreadCount) {
  // 70 lane members (a full group of 64 and a rest), members on another data set and members that
  // train alone (Adam, a gradient-norm stop rule): the engine's grouping must change no result.
  LaneProblem problem(70);
  const Dataset other = test::sine_problem(20, 1, 0.2, 77);
  for (size_t m = 0; m < problem.members.size(); m += 9) problem.members[m].data = &other;
  for (size_t m = 4; m < problem.members.size(); m += 11) problem.members[m].options.optimizer = Optimizer::Adam;
  for (size_t m = 5; m < problem.members.size(); m += 13) problem.members[m].options.stop.grad_tol = 1e-3;
  for (int threads : {1, 2}) {
    const std::vector<TrainResult> batch = train_batch(problem.members, threads);
    ASSERT_EQ(batch.size(), problem.members.size());
    for (size_t m = 0; m < batch.size(); ++m) {
      expect_train_result(batch[m], problem.members[m],
                          "threads " + std::to_string(threads) + ", member " + std::to_string(m));
    }
  }
}

TEST(TrainInLanes, MembersThatCannotShareLanesAreRefused) {
  const LaneProblem problem(2);
  const BatchMember& first = problem.members[0];
  EXPECT_TRUE(lane_trainable(problem.members[1], first));
  const Dataset copy = problem.data;  // equal values in another object: the same data
  BatchMember member = problem.members[1];
  member.data = &copy;
  EXPECT_TRUE(lane_trainable(member, first));
  const Dataset other = test::sine_problem(20, 1, 0.2, 42);
  member.data = &other;
  EXPECT_FALSE(lane_trainable(member, first)) << "other data";
  const auto refused = [&](auto change) {
    BatchMember changed = problem.members[1];
    change(changed.options);
    return !lane_trainable(changed, first);
  };
  EXPECT_TRUE(refused([](TrainOptions& o) { o.optimizer = Optimizer::Adam; }));
  EXPECT_TRUE(refused([](TrainOptions& o) { o.loss = Loss::Mse; }));
  EXPECT_TRUE(refused([](TrainOptions& o) { o.stop.grad_tol = 1e-6; }));
  EXPECT_FALSE(refused([](TrainOptions& o) { o.log_every = 10; })) << "log rows are measured per lane";
  EXPECT_TRUE(refused([](TrainOptions& o) { o.batch_size = 5; }));
  std::vector<BatchMember> mixed = problem.members;
  mixed[1].data = &other;
  EXPECT_THROW((void)train_in_lanes(mixed), InputError);
  mixed = problem.members;
  mixed[1].options.schedule.eta = -1.0;  // train()'s own check, with its message
  EXPECT_NE(test::message_of([&] { (void)train_in_lanes(mixed); }).find("eta"), std::string::npos);
  EXPECT_THROW((void)train_in_lanes({}), InputError);
}

TEST(TrainBatch, MembersThatCannotShareABatchAreRefused) {
  const Dataset a = test::sine_problem(16, 1, 0.2, 1);
  const Dataset b = test::sine_problem(17, 1, 0.2, 2);  // another n
  Rng rng(3);
  const ShallowReluNet net = initialize(1, 12, InitKind::TorchUniform, 1.0, rng);
  std::vector<BatchMember> members = {{&net, &a, TrainOptions{}}, {&net, &b, TrainOptions{}}};
  EXPECT_THROW((void)train_batch(members), InputError);
  members[1].data = &a;
  members[1].options.batch_size = 4;  // SGD is not batchable
  EXPECT_THROW((void)train_batch(members), InputError);
  EXPECT_THROW((void)train_batch({}, 0), InputError);
}

TEST(BatchedEngine, LanesMatchTheUnivariateBackendAndGdStepsMatchTrain) {
  // Lanes of one shape (n = 16, k = 12), each its own data and parameters.
  std::vector<Dataset> data;
  std::vector<ShallowReluNet> nets;
  for (int l = 0; l < 5; ++l) {
    data.push_back(test::sine_problem(16, 1, 0.2, 40 + static_cast<std::uint64_t>(l)));
    Rng rng(90 + static_cast<std::uint64_t>(l));
    nets.push_back(initialize(1, 12, InitKind::TorchUniform, 1.0, rng));
  }
  const auto alone = make_backend("univariate");
  for (int threads : {1, 3}) {
    SCOPED_TRACE("threads = " + std::to_string(threads));
    const auto engine = make_batched_engine(RunContext{threads});
    EXPECT_EQ(engine->device(), Device::Cpu);
    std::vector<const ShallowReluNet*> lane_nets;
    std::vector<const Dataset*> lane_data;
    for (size_t l = 0; l < nets.size(); ++l) lane_nets.push_back(&nets[l]), lane_data.push_back(&data[l]);
    std::vector<double> losses(nets.size());
    std::vector<Vec> grads(nets.size());
    engine->losses_and_grads(lane_nets, lane_data, losses, grads);
    for (size_t l = 0; l < nets.size(); ++l) {
      Vec grad;
      EXPECT_EQ(losses[l], alone->loss_and_grad(nets[l], data[l], {}, &grad)) << "lane " << l;
      EXPECT_TRUE(grads[l] == grad) << "lane " << l;
    }
    // Five GD steps of every lane, each with its own step size, against train() for 5 steps.
    std::vector<ShallowReluNet> stepped = nets;
    std::vector<ShallowReluNet*> lanes;
    for (auto& net : stepped) lanes.push_back(&net);
    std::vector<double> etas;
    for (size_t l = 0; l < nets.size(); ++l) etas.push_back(0.01 * static_cast<double>(l + 1));
    for (int step = 0; step < 5; ++step) engine->gd_step(lanes, lane_data, etas, losses);
    for (size_t l = 0; l < nets.size(); ++l) {
      TrainOptions options;
      options.schedule.eta = etas[l];
      options.stop.max_steps = 5;
      options.stop.loss_tol = 0.0;
      const TrainResult reference = train(*alone, nets[l], data[l], options);
      ASSERT_EQ(reference.steps, 5);
      EXPECT_TRUE(stepped[l].theta() == reference.net.theta()) << "lane " << l;
    }
    // Lanes of another width are refused.
    Rng rng(1);
    const ShallowReluNet wider = initialize(1, 13, InitKind::TorchUniform, 1.0, rng);
    lane_nets[2] = &wider;
    EXPECT_THROW(engine->losses_and_grads(lane_nets, lane_data, losses, grads), InputError);
  }
}

TEST(BatchedEngine, OnlyTheCpuHasOne) {
  RunContext context;
  context.device = static_cast<Device>(1);  // no second device exists yet
  EXPECT_THROW((void)make_batched_engine(context), InputError);
  EXPECT_THROW((void)make_batched_engine(RunContext{0}), InputError);
}

}  // namespace
}  // namespace relustab
