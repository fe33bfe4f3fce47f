// SPDX-License-Identifier: MIT
// The worker loop on an in-memory queue: results independent of the number of threads and of the
// order runs are handed out, every run finished exactly once, the queue only ever called from the
// caller's thread, failures recorded, a failing queue stopping the loop; and the stored-config
// reader (canonical JSON back to RunConfig).
#include <relustab/core/error.h>
#include <relustab/experiment/sweep.h>

#include "experiment/config_from_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace relustab {
namespace {

/// Runs handed out in a given order; records every call and the thread it came from.
class VectorQueue final : public RunQueue {
 public:
  explicit VectorQueue(std::vector<store::RunRow> rows) : rows_(std::move(rows)) {}

  std::vector<store::RunRow> take(std::int64_t max_runs) override {
    check_thread();
    EXPECT_GE(max_runs, 1);
    std::vector<store::RunRow> out;
    while (next_ < rows_.size() && static_cast<std::int64_t>(out.size()) < max_runs) {
      out.push_back(rows_[next_++]);
    }
    ++takes_;
    if (out.empty()) ++empty_takes_;
    // After reporting "none left", drain_queue must not ask again.
    EXPECT_LE(empty_takes_, 1);
    return out;
  }
  void finish(std::vector<RunResult> results) override {
    check_thread();
    for (auto& result : results) finished_.push_back(std::move(result));
  }

  const std::vector<RunResult>& finished() const { return finished_; }
  std::size_t handed_out() const { return next_; }

 private:
  void check_thread() const {
    EXPECT_EQ(std::this_thread::get_id(), owner_) << "queue called from a worker thread";
  }
  std::vector<store::RunRow> rows_;
  std::size_t next_ = 0;
  int takes_ = 0;
  int empty_takes_ = 0;
  std::vector<RunResult> finished_;
  std::thread::id owner_ = std::this_thread::get_id();
};

/// 12 small runs: 3 step sizes (the last diverges) x 2 data seeds x 2 init seeds.
std::vector<store::RunRow> small_rows() {
  std::vector<store::RunRow> rows;
  for (const double eta : {0.02, 0.1, 500.0}) {
    for (const std::uint64_t data_seed : {1u, 2u}) {
      for (const std::uint64_t seed : {5u, 6u}) {
        RunConfig config;
        config.n = 10;
        config.width = 10;
        config.eta = eta;
        config.max_steps = 200;
        config.log_every = 50;
        config.data_seed = data_seed;
        config.seed = seed;
        store::RunRow row;
        row.id = static_cast<std::int64_t>(rows.size()) + 1;
        row.key = run_key(config);
        row.config_json = canonical_json(config);
        rows.push_back(row);
      }
    }
  }
  return rows;
}

/// Results by key, each key exactly once.
std::map<std::string, RunResult> by_key(const std::vector<RunResult>& results) {
  std::map<std::string, RunResult> map;
  for (const RunResult& result : results) {
    EXPECT_TRUE(map.emplace(result.key, result).second) << "run " << result.key << " finished twice";
  }
  return map;
}

/// Everything but the wall time must be identical.
void expect_same_results(const std::map<std::string, RunResult>& a,
                         const std::map<std::string, RunResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [key, x] : a) {
    const RunResult& y = b.at(key);
    EXPECT_EQ(x.status, y.status) << key;
    EXPECT_EQ(x.reason, y.reason) << key;
    EXPECT_EQ(x.metrics, y.metrics) << key;
    EXPECT_EQ(x.net_json, y.net_json) << key;
    EXPECT_EQ(x.backend, y.backend) << key;
    ASSERT_EQ(x.log.size(), y.log.size()) << key;
    for (std::size_t i = 0; i < x.log.size(); ++i) {
      EXPECT_EQ(x.log[i].step, y.log[i].step);
      EXPECT_EQ(x.log[i].metric, y.log[i].metric);
      EXPECT_EQ(x.log[i].value, y.log[i].value);
    }
  }
}

TEST(DrainQueue, ResultsDoNotDependOnThreadsOrOrder) {
  const std::vector<store::RunRow> rows = small_rows();
  VectorQueue forward(rows);
  drain_queue(forward, 1, {});
  std::vector<store::RunRow> reversed(rows.rbegin(), rows.rend());
  VectorQueue backward(reversed);
  drain_queue(backward, 3, {});

  ASSERT_EQ(forward.finished().size(), rows.size());
  ASSERT_EQ(backward.finished().size(), rows.size());
  const auto a = by_key(forward.finished());
  const auto b = by_key(backward.finished());
  expect_same_results(a, b);
  // The same runs executed directly.
  for (const store::RunRow& row : rows) {
    EXPECT_EQ(a.at(row.key).metrics,
              execute_run(detail::config_from_json(row.config_json), {}).metrics);
  }
  // The sweep went on past the diverging runs (eta = 500), which are failed with a reason.
  int failed = 0;
  for (const auto& [key, result] : a) {
    if (result.status == RunStatus::Failed) {
      ++failed;
      EXPECT_EQ(result.reason.rfind("diverged at step", 0), 0u) << result.reason;
    }
  }
  EXPECT_EQ(failed, 4);
}

TEST(DrainQueue, EmptyQueueReturnsAtOnce) {
  VectorQueue queue({});
  drain_queue(queue, 2, {});
  EXPECT_TRUE(queue.finished().empty());
}

TEST(DrainQueue, UnreadableOrMismatchedConfigurationFailsOnlyThatRun) {
  std::vector<store::RunRow> rows = small_rows();
  rows.resize(3);
  rows[0].config_json = "{not json";
  rows[1].key = "0000000000000000";  // the stored config no longer hashes to its key
  VectorQueue queue(rows);
  drain_queue(queue, 2, {});
  const auto results = by_key(queue.finished());
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results.at(rows[0].key).status, RunStatus::Failed);
  EXPECT_NE(results.at(rows[0].key).reason.find("JSON"), std::string::npos);
  EXPECT_EQ(results.at(rows[1].key).status, RunStatus::Failed);
  EXPECT_NE(results.at(rows[1].key).reason.find("0000000000000000"), std::string::npos);
  EXPECT_EQ(results.at(rows[2].key).status, RunStatus::Done);
}

TEST(DrainQueue, ThrowingLoaderFailsTheRunWithItsMessage) {
  RunConfig config;
  config.data_file = "/data/missing.csv";
  config.max_steps = 10;
  store::RunRow row{1, run_key(config), canonical_json(config), RunStatus::Pending, ""};
  VectorQueue queue({row});
  drain_queue(queue, 1, RunInputs{.load_data = [](const std::string& path) -> Dataset {
                 throw InputError(path + ": cannot open");
               }});
  ASSERT_EQ(queue.finished().size(), 1u);
  EXPECT_EQ(queue.finished()[0].status, RunStatus::Failed);
  EXPECT_EQ(queue.finished()[0].reason, "/data/missing.csv: cannot open");
}

/// A queue whose second take() fails, as a database that becomes unwritable would.
class FailingQueue final : public RunQueue {
 public:
  std::vector<store::RunRow> take(std::int64_t max_runs) override {
    if (++takes_ > 1) throw std::runtime_error("database gone");
    std::vector<store::RunRow> rows = small_rows();
    rows.resize(static_cast<std::size_t>(std::min<std::int64_t>(max_runs, 2)));
    return rows;
  }
  void finish(std::vector<RunResult>) override {}

 private:
  int takes_ = 0;
};

TEST(DrainQueue, QueueErrorStopsTheWorkersAndPropagates) {
  FailingQueue queue;
  EXPECT_THROW(drain_queue(queue, 2, {}), std::runtime_error);
}

TEST(DrainQueue, RejectsZeroJobs) {
  VectorQueue queue({});
  EXPECT_THROW(drain_queue(queue, 0, {}), InputError);
}

TEST(ConfigFromJson, CanonicalJsonRoundTripsForEveryParameter) {
  // A configuration with every field away from its default (and awkward doubles).
  RunConfig config;
  config.data_file = "/tmp/a \"quoted\" path.csv";
  config.n = 17;
  config.dim = 3;
  config.inputs = InputLaw::Gaussian;
  config.lo = -2.5;
  config.hi = 0.1 + 0.2;  // not 0.3: the shortest round-trip text must keep every bit
  config.target = Target::Kind::LinearTeacher;
  config.noise = 1e-300;
  config.data_seed = 9007199254740993u;  // 2^53 + 1: not representable as a double
  config.width = 33;
  config.init = InitScheme::Balanced;
  config.init_scale = 0.125;
  config.batch = 5;
  config.eta = 3.0;  // integral double
  config.warmup_from = 1e-4;
  config.warmup_steps = 10;
  config.switch_factor = 3.0;
  config.switch_below = 0.01;
  config.max_steps = 123456;
  config.loss_tol = 0.0;
  config.patience = 7;
  config.divergence_loss = 1e300;
  config.log_every = 11;
  config.log_sharpness = true;
  config.final_analysis = false;
  config.save_net = false;
  config.seed = 42;
  const RunConfig back = detail::config_from_json(canonical_json(config));
  EXPECT_EQ(canonical_json(back), canonical_json(config));
  EXPECT_EQ(back.hi, config.hi);
  EXPECT_EQ(back.data_seed, config.data_seed);
  EXPECT_EQ(back.data_file, config.data_file);
  EXPECT_FALSE(back.save_net);
}

TEST(ConfigFromJson, NestedObjectsAreDottedKeys) {
  const RunConfig config =
      detail::config_from_json(R"({"optim":{"eta":0.25},"model.width":7,"run":{"seed":3}})");
  EXPECT_EQ(config.eta, 0.25);
  EXPECT_EQ(config.width, 7);
  EXPECT_EQ(config.seed, 3u);
}

TEST(ConfigFromJson, UnknownKeysAndWrongTypesAreErrorsNamingTheKey) {
  const auto message = [](const std::string& json) {
    try {
      detail::config_from_json(json);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"optim.etaa":0.1})").find("optim.etaa"), std::string::npos);
  EXPECT_NE(message(R"({"model.width":"ten"})").find("model.width"), std::string::npos);
  EXPECT_NE(message(R"({"measure.save_net":1})").find("measure.save_net"), std::string::npos);
  EXPECT_NE(message(R"([1,2])").find("object"), std::string::npos);
}

}  // namespace
}  // namespace relustab
