// SPDX-License-Identifier: MIT
// train_batch against training each net alone with the sorted-knot back end: bit for bit, for any
// thread count; members that cannot share a batch are refused.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/model/init.h>
#include <relustab/train/batched.h>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace relustab
