// SPDX-License-Identifier: MIT
#include <relustab/core/thread_pool.h>

#include <relustab/core/error.h>

#include <atomic>
#include <exception>
#include <string>

namespace relustab {

/// One parallel_for (n indices) or one submitted task (n = 1). Shared by the caller and the workers
/// that took it, so a worker that claims past the end after the caller returned touches live memory.
struct ThreadPool::Job {
  Index n = 0;
  std::function<void(Index)> task;
  std::atomic<Index> next{0};  // the next unclaimed index
  std::atomic<bool> failed{false};
  std::mutex mutex;            // guards remaining, failure; finished waits on it
  std::condition_variable finished;
  Index remaining = 0;  // indices claimed or not whose task has not returned (or been skipped)
  std::exception_ptr failure;

  bool exhausted() const { return next.load(std::memory_order_relaxed) >= n; }
};

ThreadPool::ThreadPool(int threads) {
  require(threads >= 1, "threads: expected an integer >= 1, got " + std::to_string(threads));
  workers_.reserve(static_cast<size_t>(threads - 1));
  try {
    for (int w = 1; w < threads; ++w) workers_.emplace_back([this] { work(); });
  } catch (...) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
    throw;
  }
}

ThreadPool::~ThreadPool() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    jobs_.clear();  // submitted tasks not started are dropped (broken promise)
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::drain(Job& job) {
  for (;;) {
    const Index i = job.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job.n) return;
    if (!job.failed.load(std::memory_order_relaxed)) {
      try {
        job.task(i);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(job.mutex);
        if (!job.failure) job.failure = std::current_exception();
        job.failed.store(true, std::memory_order_relaxed);
      }
    }
    const std::lock_guard<std::mutex> lock(job.mutex);
    if (--job.remaining == 0) job.finished.notify_all();
  }
}

void ThreadPool::run(Index n, std::function<void(Index)> task) {
  auto job = std::make_shared<Job>();
  job->n = n;
  job->task = std::move(task);
  job->remaining = n;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(job);
  }
  // The caller takes indices too, so at most n - 1 workers can help.
  if (n - 1 >= static_cast<Index>(workers_.size())) {
    wake_.notify_all();
  } else {
    for (Index w = 0; w < n - 1; ++w) wake_.notify_one();
  }
  drain(*job);
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      if (*it == job) {
        jobs_.erase(it);
        break;
      }
    }
  }
  std::unique_lock<std::mutex> lock(job->mutex);
  job->finished.wait(lock, [&] { return job->remaining == 0; });
  if (job->failure) std::rethrow_exception(job->failure);
}

std::future<void> ThreadPool::submit(std::function<void()> task) {
  auto packaged = std::make_shared<std::packaged_task<void()>>(std::move(task));
  std::future<void> future = packaged->get_future();
  if (workers_.empty()) {
    (*packaged)();
    return future;
  }
  auto job = std::make_shared<Job>();
  job->n = 1;
  job->remaining = 1;
  job->task = [packaged](Index) { (*packaged)(); };  // packaged_task keeps the exception
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return future;
}

void ThreadPool::work() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        while (!jobs_.empty() && jobs_.front()->exhausted()) jobs_.pop_front();
        for (const auto& candidate : jobs_) {
          if (!candidate->exhausted()) {
            job = candidate;
            return true;
          }
        }
        return stopping_;
      });
      if (!job) return;  // stopping and nothing left to take
    }
    drain(*job);
  }
}

}  // namespace relustab
