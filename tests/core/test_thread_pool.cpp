// SPDX-License-Identifier: MIT
// The thread pool (every index once, exceptions, nested and concurrent use, submit) and the device
// names; RunContext's lazily created, shared pool.
#include <relustab/backend/backend.h>
#include <relustab/core/device.h>
#include <relustab/core/error.h>
#include <relustab/core/run_context.h>
#include <relustab/core/thread_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace relustab {
namespace {

TEST(ThreadPool, VisitsEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 7}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (Index n : {Index{0}, Index{1}, Index{2}, Index{5}, Index{1000}}) {
      std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
      pool.parallel_for(n, [&](Index i) { visits[static_cast<size_t>(i)].fetch_add(1); });
      for (Index i = 0; i < n; ++i) EXPECT_EQ(visits[static_cast<size_t>(i)].load(), 1) << i;
    }
  }
}

TEST(ThreadPool, UsesSeveralThreadsWhenTasksBlock) {
  // Four tasks that each wait until all four have started can only finish on four threads at once:
  // the caller and the three workers.
  ThreadPool pool(4);
  std::atomic<int> started{0};
  std::mutex ids_mutex;
  std::set<std::thread::id> ids;
  pool.parallel_for(4, [&](Index) {
    {
      const std::lock_guard<std::mutex> lock(ids_mutex);
      ids.insert(std::this_thread::get_id());
    }
    started.fetch_add(1);
    while (started.load() < 4) std::this_thread::yield();
  });
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u);
}

TEST(ThreadPool, ManySmallTasks) {
  ThreadPool pool(3);
  for (int round = 0; round < 2000; ++round) {
    std::atomic<long> sum{0};
    pool.parallel_for(17, [&](Index i) { sum.fetch_add(static_cast<long>(i)); });
    ASSERT_EQ(sum.load(), 17 * 16 / 2) << round;
  }
  std::atomic<long> sum{0};
  pool.parallel_for(200000, [&](Index i) { sum.fetch_add(static_cast<long>(i)); });
  EXPECT_EQ(sum.load(), 200000L * 199999L / 2);
}

TEST(ThreadPool, ExceptionReachesTheCallerAndThePoolStaysUsable) {
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    std::atomic<int> ran{0};
    EXPECT_THROW(pool.parallel_for(100,
                                   [&](Index i) {
                                     ran.fetch_add(1);
                                     if (i == 3) throw std::runtime_error("task 3");
                                   }),
                 std::runtime_error);
    EXPECT_GE(ran.load(), 1);
    EXPECT_LE(ran.load(), 100);
    try {
      pool.parallel_for(8, [](Index i) {
        if (i == 5) throw InputError("five");
      });
      ADD_FAILURE() << "no exception";
    } catch (const InputError& e) {
      EXPECT_STREQ(e.what(), "five");  // the task's own exception, not a wrapper
    }
    std::atomic<int> after{0};
    pool.parallel_for(50, [&](Index) { after.fetch_add(1); });
    EXPECT_EQ(after.load(), 50);
  }
}

TEST(ThreadPool, NestedParallelForDoesNotDeadlock) {
  // Every worker is inside an outer task when the inner loops start: an inner loop that waited for a
  // free worker would never finish.
  ThreadPool pool(3);
  std::atomic<int> inner{0};
  pool.parallel_for(6, [&](Index) {
    pool.parallel_for(40, [&](Index) {
      pool.parallel_for(3, [&](Index) { inner.fetch_add(1); });
    });
  });
  EXPECT_EQ(inner.load(), 6 * 40 * 3);
}

TEST(ThreadPool, ConcurrentCallersShareThePool) {
  ThreadPool pool(3);
  std::atomic<long> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        pool.parallel_for(10, [&](Index i) { total.fetch_add(static_cast<long>(i) + 1); });
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4L * 200L * 55L);
}

TEST(ThreadPool, SubmitRunsOnAWorkerAndKeepsExceptions) {
  ThreadPool pool(2);
  std::thread::id ran_on;
  std::future<void> ok = pool.submit([&] { ran_on = std::this_thread::get_id(); });
  ok.get();
  EXPECT_NE(ran_on, std::this_thread::get_id());
  std::future<void> bad = pool.submit([] { throw InputError("submitted"); });
  EXPECT_THROW(bad.get(), InputError);
  // Without workers the task runs before submit returns.
  ThreadPool inline_pool(1);
  bool ran = false;
  inline_pool.submit([&] { ran = true; }).get();
  EXPECT_TRUE(ran);
}

TEST(ThreadPool, RejectsZeroThreads) { EXPECT_THROW(ThreadPool(0), InputError); }

TEST(RunContext, CopiesShareOneLazilyCreatedPool) {
  const RunContext single{1};
  EXPECT_EQ(single.thread_pool(), nullptr);  // one thread: loops run inline, no pool
  const RunContext context{3};
  const RunContext copy = context;
  const auto pool = context.thread_pool();
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->threads(), 3);
  EXPECT_EQ(copy.thread_pool(), pool);
  EXPECT_EQ(context.thread_pool(), pool);  // created once
  RunContext resized = context;
  resized.threads = 2;  // "this many threads" still holds after a change
  EXPECT_EQ(resized.thread_pool()->threads(), 2);
  const auto shared = std::make_shared<ThreadPool>(4);
  const RunContext sharing = RunContext::sharing(shared);
  EXPECT_EQ(sharing.threads, 4);
  EXPECT_EQ(sharing.thread_pool(), shared);
}

TEST(Device, NamesAndParsing) {
  EXPECT_EQ(device_name(Device::Cpu), "cpu");
  EXPECT_EQ(parse_device("cpu"), Device::Cpu);
  EXPECT_EQ(parse_device(device_name(Device::Cpu)), Device::Cpu);
  EXPECT_THROW((void)parse_device("cuda"), InputError);
  EXPECT_THROW((void)parse_device(""), InputError);
}

TEST(Device, MakeBackendRefusesABackendOfAnotherDevice) {
  for (const std::string& name : backend_names()) {
    EXPECT_NE(make_backend(name, RunContext{1}), nullptr);
    RunContext context;
    // No second device exists yet; a value outside the enum stands for one.
    context.device = static_cast<Device>(1);
    try {
      (void)make_backend(name, context);
      ADD_FAILURE() << name << " accepted another device";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("device 1"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace relustab
