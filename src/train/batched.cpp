// SPDX-License-Identifier: MIT
#include <relustab/train/batched.h>

#include <relustab/core/error.h>
#include <relustab/train/lanes_train.h>

#include <memory>
#include <mutex>
#include <string>

namespace relustab {
namespace {

/// The most members one GdLanes carries: enough for full SIMD registers and short loop overheads, few
/// enough that a group's arrays stay in the L1 and L2 caches (W1: 64 lanes, 100 KB of parameters).
constexpr size_t kLanesPerGroup = 64;

void require_batchable(std::span<const BatchMember> members) {
  for (size_t m = 0; m < members.size(); ++m) {
    require(batchable(members[m], members.front()),
            "batch member " + std::to_string(m) +
                ": expected a univariate ReLU net trained by full-batch GD with the same sample count "
                "and width as member 0");
  }
}

/// The CPU engine: tasks on the context's pool, each one member with its own sorted-knot back end (which
/// keeps its lane's data sorted between calls) or a group of members as the SIMD lanes of GdLanes.
class CpuBatchedEngine final : public BatchedEngine {
 public:
  explicit CpuBatchedEngine(const RunContext& context) : context_(context) {}
  Device device() const override { return Device::Cpu; }

  void losses_and_grads(std::span<const ShallowReluNet* const> nets,
                        std::span<const Dataset* const> data, std::span<double> losses,
                        std::span<Vec> grads) const override {
    const size_t lanes = nets.size();
    require(data.size() == lanes && losses.size() == lanes && grads.size() == lanes,
            "batched engine: expected one net, data set, loss and gradient per lane");
    for (size_t l = 0; l < lanes; ++l) {
      require(nets[l] != nullptr && data[l] != nullptr, "batched engine: lane " +
                                                            std::to_string(l) + " has no net or data");
      require(batchable(BatchMember{nets[l], data[l], {}}, BatchMember{nets[0], data[0], {}}),
              "batched engine: lane " + std::to_string(l) +
                  ": expected a univariate ReLU net with the sample count and width of lane 0");
    }
    const std::vector<Backend*> backends = lane_backends(lanes);
    for_lanes(lanes, [&](size_t l) {
      losses[l] = backends[l]->loss_and_grad(*nets[l], *data[l], {}, &grads[l]);
    });
  }

  std::vector<TrainResult> train(std::span<const BatchMember> members) const override {
    require_batchable(members);
    // Members that can share SIMD lanes (same data, plain GD, ...) train in groups of up to
    // kLanesPerGroup through train_in_lanes; the others each through train(). Both give a member's
    // single-net result bit for bit, so the grouping and the thread count change no result.
    std::vector<std::vector<size_t>> tasks;
    std::vector<size_t> open_groups;  // tasks still taking lane members
    for (size_t m = 0; m < members.size(); ++m) {
      const bool lanes = lane_trainable(members[m], members[m]);
      bool placed = false;
      for (size_t g = 0; lanes && g < open_groups.size() && !placed; ++g) {
        std::vector<size_t>& group = tasks[open_groups[g]];
        if (!lane_trainable(members[m], members[group.front()])) continue;
        group.push_back(m);
        if (group.size() == kLanesPerGroup) open_groups.erase(open_groups.begin() + static_cast<std::ptrdiff_t>(g));
        placed = true;
      }
      if (placed) continue;
      tasks.push_back({m});
      if (lanes) open_groups.push_back(tasks.size() - 1);
    }
    std::vector<TrainResult> results(members.size());
    for_lanes(tasks.size(), [&](size_t t) {
      const std::vector<size_t>& task = tasks[t];
      if (task.size() == 1) {
        const size_t m = task.front();
        const auto backend = make_backend("univariate");
        results[m] = relustab::train(*backend, *members[m].net, *members[m].data, members[m].options);
        return;
      }
      std::vector<BatchMember> group;
      for (const size_t m : task) group.push_back(members[m]);
      std::vector<TrainResult> trained = train_in_lanes(group);
      for (size_t i = 0; i < task.size(); ++i) results[task[i]] = std::move(trained[i]);
    });
    return results;
  }

 private:
  template <class Work>
  void for_lanes(size_t lanes, Work&& work) const {
    const auto pool = context_.thread_pool();
    if (!pool) {
      for (size_t l = 0; l < lanes; ++l) work(l);
      return;
    }
    pool->parallel_for(static_cast<Index>(lanes), [&](Index l) { work(static_cast<size_t>(l)); });
  }

  /// One back end per lane, kept between calls (lane l's sorted samples stay cached).
  std::vector<Backend*> lane_backends(size_t lanes) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    while (backends_.size() < lanes) backends_.push_back(make_backend("univariate"));
    std::vector<Backend*> result;
    for (size_t l = 0; l < lanes; ++l) result.push_back(backends_[l].get());
    return result;
  }

  RunContext context_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Backend>> backends_;
};

}  // namespace

bool batchable(const BatchMember& member, const BatchMember& first) {
  if (member.net == nullptr || member.data == nullptr || first.net == nullptr ||
      first.data == nullptr) {
    return false;
  }
  const bool full_batch =
      member.options.batch_size == 0 || member.options.batch_size >= member.data->n();
  return member.net->input_dim() == 1 && member.data->dim() == 1 && full_batch &&
         member.net->activation() == Activation::Relu &&
         member.data->n() == first.data->n() && member.net->width() == first.net->width();
}

void BatchedEngine::gd_step(std::span<ShallowReluNet* const> nets,
                            std::span<const Dataset* const> data, std::span<const double> etas,
                            std::span<double> losses) const {
  require(etas.size() == nets.size(), "batched engine: expected one step size per lane");
  std::vector<const ShallowReluNet*> current(nets.begin(), nets.end());
  std::vector<Vec> grads(nets.size());
  losses_and_grads(current, data, losses, grads);
  for (size_t l = 0; l < nets.size(); ++l) {
    // The expression train()'s GD update evaluates, so a step rounds as it does there.
    Vec next(nets[l]->n_params());
    next.noalias() = nets[l]->theta() - etas[l] * grads[l];
    nets[l]->theta().swap(next);
  }
}

std::unique_ptr<BatchedEngine> make_batched_engine(const RunContext& context) {
  require(context.threads >= 1,
          "threads: expected an integer >= 1, got " + std::to_string(context.threads));
  require(context.device == Device::Cpu,
          "batched engine: none for device " + device_name(context.device) + " (known: cpu)");
  return std::make_unique<CpuBatchedEngine>(context);
}

std::vector<TrainResult> train_batch(std::span<const BatchMember> members, int threads) {
  require(threads >= 1, "threads: expected an integer >= 1, got " + std::to_string(threads));
  require_batchable(members);
  return train_batch(*make_batched_engine(RunContext{threads}), members);
}

std::vector<TrainResult> train_batch(const BatchedEngine& engine,
                                     std::span<const BatchMember> members) {
  return engine.train(members);
}

}  // namespace relustab
