// SPDX-License-Identifier: MIT
// train()'s contract for many univariate nets on one data set, trained as the SIMD lanes of GdLanes: what
// the CPU batched engine and run_many use for the runs that can share lanes.
#pragma once

#include <relustab/train/batched.h>
#include <relustab/train/trainer.h>

#include <span>
#include <vector>

namespace relustab {

/// Whether `member` can train in SIMD lanes beside `first` (train_in_lanes): batchable (a univariate
/// ReLU net, full-batch GD, the same sample count and width), the same data (the same object or equal
/// values), plain GD on the half-MSE loss, no gradient-norm stop rule (grad_tol = 0) and finite
/// parameters. Step schedules (warm-up, switch), every other stop rule and log rows (with their
/// sharpness and log_measure) are fine.
bool lane_trainable(const BatchMember& member, const BatchMember& first);

/// Trains the members together, as float64 SIMD lanes of one GdLanes, each under train()'s contract
/// (the same step rules, applied lane by lane: schedule and switch, divergence with its step back,
/// convergence, max_steps; log rows measured on the lane's net as train() measures them): result m,
/// log included, is bit-identical to train(*make_backend("univariate"), *members[m].net,
/// *members[m].data, members[m].options). A lane that has stopped rides along until half of them
/// have, then the stopped ones are dropped (GdLanes::keep). InputError if a member is not
/// lane_trainable with the first, or its options, net or data are invalid (as train() says).
std::vector<TrainResult> train_in_lanes(std::span<const BatchMember> members);

}  // namespace relustab
