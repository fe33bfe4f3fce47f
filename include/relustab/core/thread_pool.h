// SPDX-License-Identifier: MIT
// One pool of worker threads, created once and reused by every parallel loop of a run.
#pragma once

#include <relustab/core/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace relustab {

/// A fixed set of `threads - 1` worker threads; the thread that calls parallel_for is the last of the
/// `threads`. Workers are started by the constructor and joined by the destructor, never in between.
///
/// parallel_for may be called from any thread, several at once, and from inside a task of this pool
/// (nested): every call publishes its indices, idle workers take some, and the calling thread takes
/// indices itself until none is left, so a call always finishes even when every worker is busy or
/// waiting (no deadlock; nested calls then simply run on the caller).
class ThreadPool {
 public:
  /// threads >= 1 (InputError otherwise); ThreadPool(1) has no workers and runs everything inline.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Workers + the calling thread.
  int threads() const noexcept { return static_cast<int>(workers_.size()) + 1; }

  /// Runs task(i) once for every i in [0, n), on the workers and the calling thread, and returns when
  /// all have finished. Which thread runs which index is not fixed: results must not depend on it.
  /// If tasks throw, indices not yet started are skipped and the first exception is rethrown here
  /// once every started task has finished.
  template <class Task>
  void parallel_for(Index n, Task&& task) {
    if (n <= 0) return;
    if (n == 1 || workers_.empty()) {
      for (Index i = 0; i < n; ++i) task(i);
      return;
    }
    run(n, std::function<void(Index)>([&task](Index i) { task(i); }));
  }

  /// Runs `task` on a worker and returns its future (an exception it throws is stored there). With no
  /// workers (threads() == 1) the task runs here before submit returns. Tasks not started when the
  /// pool is destroyed are dropped (their futures report std::future_errc::broken_promise).
  std::future<void> submit(std::function<void()> task);

 private:
  struct Job;
  void run(Index n, std::function<void(Index)> task);
  void work();
  /// Runs indices of `job` until none is left unclaimed.
  static void drain(Job& job);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> jobs_;  // jobs with (possibly) unclaimed indices
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace relustab
