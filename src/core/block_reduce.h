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

/// Memory that repeated reductions of one shape can reuse (a back end's GD steps, an operator's
/// products): the block partials and one scratch matrix per block for the caller's block_sum. Reuse
/// saves allocating and page-faulting megabytes per call (W4: ~15% of a Hessian-vector product).
struct BlockBuffers {
  std::vector<Vec> partials;       ///< for blocks 1 .. n_blocks - 1 (block 0 writes into the total)
  std::vector<RowMatrix> scratch;  ///< one per block, sized by the caller's block_sum
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

/// Computes sum over blocks b of `block_sum(begin, end, partial)` into `total` (length `size`), with
/// `block_sum` writing (not accumulating) into `partial`. Runs the blocks on the context's threads.
/// Every entry of `total` is ((p_0 + p_1) + p_2) + ... in block order whatever the thread count; the
/// final additions are split by entries among the threads, which leaves that order unchanged.
/// `buffers`, when given, provides the partials (and gets one scratch slot per block).
template <class BlockSum>
void block_reduce(Index n, Index size, const RunContext& context, Vec& total, BlockSum&& block_sum,
                  BlockBuffers* buffers = nullptr) {
  const Index n_blocks = block_count(n);
  BlockBuffers local;
  BlockBuffers& memory = buffers != nullptr ? *buffers : local;
  memory.partials.resize(static_cast<size_t>(n_blocks - 1));
  memory.scratch.resize(static_cast<size_t>(n_blocks));
  total.resize(size);
  if (n_blocks == 1) {
    block_sum(Index{0}, n, total);
    return;
  }
  // Block 0 writes straight into `total`, the others into their own partial vectors.
  std::vector<Vec>& partials = memory.partials;
  for_each_block(n, context, [&](Index begin, Index end) {
    const Index b = begin / kSamplesPerBlock;
    if (b == 0) {
      block_sum(begin, end, total);
      return;
    }
    Vec& partial = partials[static_cast<size_t>(b - 1)];
    partial.resize(size);
    block_sum(begin, end, partial);
  });
  // Entries [chunk * c, chunk * (c + 1)) per task; large chunks keep the hand-over to workers cheap.
  constexpr Index kMinEntriesPerTask = Index{1} << 16;
  const Index n_tasks = std::clamp<Index>(size / kMinEntriesPerTask, 1, std::max(1, context.threads));
  const Index chunk = (size + n_tasks - 1) / n_tasks;
  parallel_tasks(n_tasks, context, [&](Index task) {
    const Index begin = std::min(size, task * chunk);
    const Index length = std::min(size, begin + chunk) - begin;
    for (const Vec& p : partials) total.segment(begin, length) += p.segment(begin, length);
  });
}

}  // namespace relustab::detail
