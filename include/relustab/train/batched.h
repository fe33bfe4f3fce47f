// SPDX-License-Identifier: MIT
// Many independent univariate nets trained together over a pool of threads.
#pragma once

#include <relustab/train/trainer.h>

#include <span>
#include <vector>

namespace relustab {

/// One member of a batch: its initial net, its data and its options. The pointers must outlive the
/// call to train_batch.
struct BatchMember {
  const ShallowReluNet* net = nullptr;
  const Dataset* data = nullptr;
  TrainOptions options;
};

/// Whether `member` can go through train_batch: input dimension 1, full-batch GD, and the same
/// sample count and width as `first` (the lanes of one group share n and k).
bool batchable(const BatchMember& member, const BatchMember& first);

/// Trains every member and returns their results in order. Each result is bit-identical to
/// train(*make_backend("univariate"), *member.net, *member.data, member.options): `threads` workers
/// take the next member and run the single-net sorted-knot step on it, so the results do not depend
/// on the thread count. Throws InputError if a member is not batchable with the first.
std::vector<TrainResult> train_batch(std::span<const BatchMember> members, int threads = 1);

}  // namespace relustab
