// SPDX-License-Identifier: MIT
// Deterministic parallel sums over blocks of samples.
#pragma once

#include <relustab/core/types.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace relustab::detail {

/// Samples per block. Block boundaries depend only on n, never on the thread count, and block partial
/// sums are added in block order, so a result is bit-identical for any number of threads.
inline constexpr Index kSamplesPerBlock = 256;

/// Computes sum over blocks b of `block_sum(begin, end, partial)` into `total` (length `size`), with
/// `block_sum` writing (not accumulating) into `partial`. Runs the blocks on up to `threads` threads.
template <class BlockSum>
void block_reduce(Index n, Index size, int threads, Vec& total, BlockSum&& block_sum) {
  const Index n_blocks = std::max<Index>(1, (n + kSamplesPerBlock - 1) / kSamplesPerBlock);
  total.setZero(size);
  if (n_blocks == 1) {
    block_sum(Index{0}, n, total);
    return;
  }
  std::vector<Vec> partials(static_cast<size_t>(n_blocks));
  auto run_blocks = [&](Index first, Index stride) {
    for (Index b = first; b < n_blocks; b += stride) {
      const Index begin = b * kSamplesPerBlock;
      const Index end = std::min(n, begin + kSamplesPerBlock);
      partials[static_cast<size_t>(b)].resize(size);
      block_sum(begin, end, partials[static_cast<size_t>(b)]);
    }
  };
  const Index workers = std::clamp<Index>(threads, 1, n_blocks);
  if (workers == 1) {
    run_blocks(0, 1);
  } else {
    std::vector<std::thread> pool;
    for (Index w = 1; w < workers; ++w) pool.emplace_back(run_blocks, w, workers);
    run_blocks(0, workers);
    for (auto& t : pool) t.join();
  }
  for (const Vec& p : partials) total += p;
}

}  // namespace relustab::detail
