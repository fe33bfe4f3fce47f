// SPDX-License-Identifier: MIT
// Many independent univariate nets trained together: the batched engine seam and train_batch.
#pragma once

#include <relustab/core/run_context.h>
#include <relustab/train/trainer.h>

#include <memory>
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

/// What a device back end implements to advance many same-shape nets (univariate ReLU, the same
/// sample count n and width k; each lane its own parameters and data) together: losses and
/// gradients of every lane in one call, so a GPU can run all lanes as one kernel. The CPU engine
/// (make_batched_engine) runs the lanes on the context's thread pool with the sorted-knot univariate
/// code, lane l bit-identical to make_backend("univariate")->loss_and_grad on lane l alone.
class BatchedEngine {
 public:
  virtual ~BatchedEngine() = default;
  virtual Device device() const = 0;

  /// For every lane l: losses[l] = L(nets[l]) on *data[l] (full batch) and grads[l] its gradient
  /// (resized). All spans have one entry per lane; InputError if the lanes do not share n and k or
  /// are not univariate ReLU nets.
  virtual void losses_and_grads(std::span<const ShallowReluNet* const> nets,
                                std::span<const Dataset* const> data, std::span<double> losses,
                                std::span<Vec> grads) const = 0;

  /// One full-batch GD step of every lane: losses[l] = L(theta_l), then theta_l -= etas[l] *
  /// grad L(theta_l) (rounded as train() rounds it). The default calls losses_and_grads.
  virtual void gd_step(std::span<ShallowReluNet* const> nets, std::span<const Dataset* const> data,
                       std::span<const double> etas, std::span<double> losses) const;

  /// Trains every member under train()'s full contract (stopping rules, switch, log rows with
  /// sharpness), result m bit-identical to train(*make_backend("univariate"), *members[m].net,
  /// *members[m].data, members[m].options). The CPU engine trains the members that can share SIMD
  /// lanes (lane_trainable: same data, plain full-batch GD) in groups through train_in_lanes,
  /// which applies train()'s step rules lane by lane, and each other member through its own train()
  /// loop, all on the context's pool.
  virtual std::vector<TrainResult> train(std::span<const BatchMember> members) const = 0;
};

/// The engine for context.device (InputError for a device without one; only the CPU has one today).
std::unique_ptr<BatchedEngine> make_batched_engine(const RunContext& context = {});

/// Trains every member and returns their results in order: the CPU engine of RunContext{threads},
/// each result bit-identical to train(*make_backend("univariate"), *member.net, *member.data,
/// member.options) whatever the thread count. Throws InputError if a member is not batchable with
/// the first.
std::vector<TrainResult> train_batch(std::span<const BatchMember> members, int threads = 1);

/// The same on a given engine (e.g. one sharing a pool with the rest of a run).
std::vector<TrainResult> train_batch(const BatchedEngine& engine, std::span<const BatchMember> members);

}  // namespace relustab
