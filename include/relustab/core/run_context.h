// SPDX-License-Identifier: MIT
// How a computation may run: its device and its threads.
#pragma once

#include <relustab/core/device.h>
#include <relustab/core/thread_pool.h>

#include <memory>
#include <mutex>

namespace relustab {

namespace detail {
/// The pool a RunContext and its copies share, created on first use.
struct PoolSlot {
  std::mutex mutex;
  std::shared_ptr<ThreadPool> pool;
};
}  // namespace detail

/// How a computation may run: the device and the thread count. Results never depend on the thread
/// count (bit for bit): back ends split samples into blocks whose boundaries do not depend on it and
/// add the blocks' partial sums in block order.
///
/// The threads are one ThreadPool, owned by the context (no globals): RunContext{4} means "4 threads"
/// as it always did, and the pool of 3 workers (+ the calling thread) is created lazily by the first
/// parallel loop that asks for it (thread_pool()). Copies of a context share that slot, so a back
/// end, its curvature operators and every product and gradient they compute reuse the same threads
/// instead of starting new ones per call. A caller that wants several contexts (back ends, runs) to
/// share threads passes one pool explicitly (sharing()).
struct RunContext {
  int threads = 1;
  Device device = Device::Cpu;
  /// Shared by copies; holds the pool once created. Not meant to be set by hand: use sharing().
  std::shared_ptr<detail::PoolSlot> slot = std::make_shared<detail::PoolSlot>();

  /// The pool of `threads` threads, created on the first call (nullptr when threads <= 1: loops then
  /// run inline). If `threads` was changed after the pool was made, a pool of the new size replaces
  /// it for this context's slot (holders of the old one keep it alive until they finish).
  std::shared_ptr<ThreadPool> thread_pool() const {
    if (threads <= 1) return nullptr;
    if (!slot) return std::make_shared<ThreadPool>(threads);  // a slot reset by hand: no sharing
    const std::lock_guard<std::mutex> lock(slot->mutex);
    if (!slot->pool || slot->pool->threads() != threads) {
      slot->pool = std::make_shared<ThreadPool>(threads);
    }
    return slot->pool;
  }

  /// A context on `device` whose loops run on `pool` (its threads() is the thread count).
  static RunContext sharing(std::shared_ptr<ThreadPool> pool, Device device = Device::Cpu) {
    RunContext context;
    context.device = device;
    if (pool) {
      context.threads = pool->threads();
      context.slot->pool = std::move(pool);
    }
    return context;
  }
};

}  // namespace relustab
