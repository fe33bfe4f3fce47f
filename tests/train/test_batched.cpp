// SPDX-License-Identifier: MIT
// train_batch against training each net alone with the sorted-knot back end: bit for bit, for any
// thread count; members that cannot share a batch are refused.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/model/init.h>
#include <relustab/train/batched.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

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
