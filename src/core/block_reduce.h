// SPDX-License-Identifier: MIT
// Deterministic parallel work over blocks of samples, on the thread pool of a RunContext.
#pragma once

#include <relustab/core/run_context.h>
#include <relustab/core/thread_pool.h>
#include <relustab/core/types.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

namespace relustab::detail {

/// Samples per block. Block boundaries depend only on n, never on the thread count, and block partial
/// sums are added in block order, so a result is bit-identical for any number of threads.
inline constexpr Index kSamplesPerBlock = 256;

inline Index block_count(Index n) {
  return std::max<Index>(1, (n + kSamplesPerBlock - 1) / kSamplesPerBlock);
}

/// Runs `work(task)` for task = 0 .. n_tasks - 1 on the context's thread pool (the calling thread is
/// one of its threads; inline when context.threads == 1). The first exception thrown by a task is
/// rethrown here after every started task has finished.
template <class Work>
void parallel_tasks(Index n_tasks, const RunContext& context, Work&& work) {
  const std::shared_ptr<ThreadPool> pool = n_tasks > 1 ? context.thread_pool() : nullptr;
  if (!pool) {
    for (Index t = 0; t < n_tasks; ++t) work(t);
    return;
  }
  pool->parallel_for(n_tasks, work);
}

/// Runs `block_work(begin, end)` for every block [begin, end) of the n samples on the context's
/// threads. Blocks must write disjoint outputs (e.g. their own rows of a matrix).
template <class BlockWork>
void for_each_block(Index n, const RunContext& context, BlockWork&& block_work) {
  parallel_tasks(block_count(n), context, [&](Index b) {
    const Index begin = b * kSamplesPerBlock;
    block_work(begin, std::min(n, begin + kSamplesPerBlock));
  });
}

/// Blocks whose partial sums are held at once (one wave of block_reduce): enough to keep every
/// thread busy, few enough that the partials take slots x size memory rather than blocks x size
/// (1.5 GB at 60,000 samples and a width-1000 net on 784 inputs, 50 MB with 8 slots). The result
/// does not depend on it: partials are added in block order whatever the wave.
inline constexpr Index kMinReductionSlots = 8;
inline Index reduction_slots(Index n, const RunContext& context) {
  return std::min(block_count(n), std::max<Index>(kMinReductionSlots, 2 * Index{context.threads}));
}

/// Memory that repeated reductions of one shape can reuse (a back end's GD steps, an operator's
/// products): the partials and one scratch matrix per slot (reduction_slots) for the caller's
/// block_sum. Reuse saves allocating and page-faulting megabytes per call (W4: ~15% of a
/// Hessian-vector product).
struct BlockBuffers {
  std::vector<Vec> partials;       ///< one per slot (block 0 writes into the total)
  std::vector<RowMatrix> scratch;  ///< one per slot, sized by the caller's block_sum
};

/// The buffers an object keeps for its calls when no other call holds them, else a fresh set: calls
/// on one object from several threads neither share memory nor wait for each other.
class BufferLease {
 public:
  BufferLease(std::mutex& mutex, BlockBuffers& kept) : lock_(mutex, std::try_to_lock), kept_(kept) {}
  BlockBuffers& get() { return lock_.owns_lock() ? kept_ : fresh_; }

 private:
  std::unique_lock<std::mutex> lock_;
  BlockBuffers& kept_;
  BlockBuffers fresh_;
};

/// Computes sum over blocks b of `block_sum(begin, end, partial, slot)` into `total` (length
/// `size`), with `block_sum` writing (not accumulating) into `partial`; `slot` (< reduction_slots(n,
/// context)) names the caller's scratch for that block, used by no other block running at the same
/// time. The blocks run on the context's threads in waves of reduction_slots blocks, each wave's
/// partials added to `total` before the next starts, so memory stays bounded. Every entry of `total`
/// is ((p_0 + p_1) + p_2) + ... in block order whatever the thread count and the wave size; the
/// additions are split by entries among the threads, which leaves that order unchanged. `buffers`,
/// when given, provides the partials (and gets one scratch slot per wave slot).
template <class BlockSum>
void block_reduce(Index n, Index size, const RunContext& context, Vec& total, BlockSum&& block_sum,
                  BlockBuffers* buffers = nullptr) {
  const Index n_blocks = block_count(n);
  const Index slots = reduction_slots(n, context);
  BlockBuffers local;
  BlockBuffers& memory = buffers != nullptr ? *buffers : local;
  memory.partials.resize(static_cast<size_t>(slots));
  memory.scratch.resize(static_cast<size_t>(slots));
  total.resize(size);
  if (n_blocks == 1) {
    block_sum(Index{0}, n, total, Index{0});
    return;
  }
  // Entries [chunk * c, chunk * (c + 1)) per task; large chunks keep the hand-over to workers cheap.
  constexpr Index kMinEntriesPerTask = Index{1} << 16;
  const Index n_add_tasks = std::clamp<Index>(size / kMinEntriesPerTask, 1, std::max(1, context.threads));
  const Index chunk = (size + n_add_tasks - 1) / n_add_tasks;
  std::vector<Vec>& partials = memory.partials;
  for (Index first = 0; first < n_blocks; first += slots) {
    const Index wave = std::min(slots, n_blocks - first);
    // Block 0 writes straight into `total`, the others into their slot's partial vector.
    parallel_tasks(wave, context, [&](Index slot) {
      const Index b = first + slot;
      const Index begin = b * kSamplesPerBlock;
      const Index end = std::min(n, begin + kSamplesPerBlock);
      if (b == 0) {
        block_sum(begin, end, total, slot);
        return;
      }
      Vec& partial = partials[static_cast<size_t>(slot)];
      partial.resize(size);
      block_sum(begin, end, partial, slot);
    });
    const Index first_partial = first == 0 ? 1 : 0;
    parallel_tasks(n_add_tasks, context, [&](Index task) {
      const Index begin = std::min(size, task * chunk);
      const Index length = std::min(size, begin + chunk) - begin;
      for (Index slot = first_partial; slot < wave; ++slot) {
        total.segment(begin, length) += partials[static_cast<size_t>(slot)].segment(begin, length);
      }
    });
  }
}

}  // namespace relustab::detail
