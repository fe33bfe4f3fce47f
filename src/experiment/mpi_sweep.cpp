// SPDX-License-Identifier: MIT
// A sweep over MPI ranks: rank 0 owns the database and serves runs; every rank executes runs.
//
// Protocol (on a private duplicate of MPI_COMM_WORLD, so that nothing else can match our tags):
//   worker -> 0   REQUEST  decimal count n       "give me up to n runs"; one outstanding per worker
//   0 -> worker   WORK     JSON [{id,key,config}] the reply: runs to execute (never empty) ...
//   0 -> worker   STOP     empty                  ... or: no work is left, finish what you hold
//   worker -> 0   RESULT   JSON [RunResult]       finished runs, as drain_queue hands them back
//   worker -> 0   ABORT    error message          the worker failed outside a run (a bug, memory)
//   0 -> worker   ACK      empty                  rank 0's last message to an aborted worker
// Every payload is a byte string of variable length, received with a probe and MPI_Get_count.
//
// Threads (MPI_THREAD_FUNNELED: only the main thread calls MPI):
// - Worker ranks call drain_queue() on the main thread. drain_queue calls take() and finish() on
//   its calling thread only (its own worker threads just execute runs), so RemoteQueue can talk to
//   rank 0 directly from take() and finish(). drain_queue asks for 65 `jobs` runs when at most `jobs`
//   are ready, which hides the round trip to rank 0.
// - Rank 0's main thread runs the coordinator loop: it polls MPI every millisecond when idle,
//   serves requests, writes results through the one store writer, and feeds rank 0's own
//   drain_queue, which runs on a helper thread and reaches the main thread through LocalBridge
//   (mutex + condition variables).
//
// Deadlock freedom: rank 0 never blocks on a worker: it sends with MPI_Isend and receives only
// messages a probe has already seen, from senders that stay inside their send until it completes.
// Workers send with MPI_Isend and then poll that request until rank 0 has taken the message, so
// neither side's send can wait on the other's.
//
// Termination: a worker that asks for work when none is left gets STOP; it finishes the runs it
// holds, sends their results and returns. Rank 0 returns once its local runs are done and every
// worker has been stopped with no run outstanding. On an error rank 0 hands out no more work
// (every later REQUEST is answered with STOP), still collects and tries to write what is in
// flight, and only then rethrows, so that no rank is left waiting.
#include "progress_clock.h"

#include <relustab/core/error.h>
#include <relustab/core/thread_pool.h>
#include <relustab/experiment/mpi_sweep.h>

#include <mpi.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <future>
#include <limits>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

namespace relustab::mpi {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

enum Tag : int { kTagRequest = 1, kTagWork, kTagStop, kTagResult, kTagAbort, kTagAck };

/// How long rank 0's main thread waits for a local event before polling MPI again when idle.
constexpr auto kCoordinatorPoll = std::chrono::milliseconds(1);
/// How long a worker sleeps between polls while it waits for rank 0 (a reply, or the receipt of a
/// send). Short: a blocking MPI call would spin a core that a run could use, and rank 0 answers
/// within about kCoordinatorPoll.
constexpr auto kWorkerPoll = std::chrono::microseconds(100);
/// Most runs handed out in one WORK message: keeps the batches small, so that the last runs of a
/// sweep are spread over the ranks instead of queued on one.
constexpr std::int64_t kMaxRunsPerMessage = 64;
/// Most messages rank 0 handles in one pass before it looks at its own workers again.
constexpr int kMaxMessagesPerPass = 64;
using detail::kProgressInterval;
using detail::seconds_since;

void validate_options(const SweepOptions& options) {
  require(options.jobs >= 1, "jobs: expected an integer >= 1, got " + std::to_string(options.jobs));
  require(options.shard_count >= 1 && options.shard_index >= 0 &&
              options.shard_index < options.shard_count,
          "shard: expected i/N with 0 <= i < N, got " + std::to_string(options.shard_index) + "/" +
              std::to_string(options.shard_count));
  require(options.write_batch >= 1, "write_batch: expected an integer >= 1");
}

// ---------------------------------------------------------------------------------------------
// Serialisation. Text JSON; numbers in nlohmann's shortest round-trip form, so that a result
// crosses ranks bit for bit. JSON has no NaN or infinity (nlohmann would write null), so
// non-finite values travel as the strings "nan", "inf", "-inf".

json encode_double(double value) {
  if (std::isfinite(value)) return value;
  if (std::isnan(value)) return "nan";
  return value > 0 ? "inf" : "-inf";
}

double decode_double(const json& value) {
  if (value.is_number()) return value.get<double>();
  const auto text = value.get<std::string>();
  if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-inf") return -std::numeric_limits<double>::infinity();
  throw std::runtime_error("MPI sweep: bad number in a message: " + text);
}

std::string dump(const json& value) {
  // Replace invalid UTF-8 (e.g. a file name in a failure reason) rather than throw.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

RunStatus status_from_name(std::string_view name) {
  for (const RunStatus status :
       {RunStatus::Pending, RunStatus::Running, RunStatus::Done, RunStatus::Failed}) {
    if (run_status_name(status) == name) return status;
  }
  throw std::runtime_error("MPI sweep: bad run status in a message: " + std::string(name));
}

std::string encode_runs(const std::vector<store::RunRow>& rows) {
  json out = json::array();
  for (const auto& row : rows) {
    // The configuration stays a string: its canonical text must reach drain_queue unchanged.
    out.push_back({{"id", row.id}, {"key", row.key}, {"config", row.config_json}});
  }
  return dump(out);
}

std::vector<store::RunRow> decode_runs(const std::string& payload) {
  std::vector<store::RunRow> rows;
  for (const auto& item : json::parse(payload)) {
    store::RunRow row;
    row.id = item.at("id").get<std::int64_t>();
    row.key = item.at("key").get<std::string>();
    row.config_json = item.at("config").get<std::string>();
    row.status = RunStatus::Running;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string encode_results(const std::vector<RunResult>& results) {
  json out = json::array();
  for (const auto& result : results) {
    // Every field by name: a field added to RunResult breaks this line until it is sent too.
    const auto& [key, status, reason, metrics, log, net_json, data_file, backend, wall_seconds] = result;
    json metric_items = json::array();
    for (const auto& [name, value] : metrics) metric_items.push_back({name, encode_double(value)});
    json log_items = json::array();
    for (const auto& entry : log) {
      log_items.push_back({entry.step, entry.metric, encode_double(entry.value)});
    }
    out.push_back({{"key", key},
                   {"status", run_status_name(status)},
                   {"reason", reason},
                   {"metrics", std::move(metric_items)},
                   {"log", std::move(log_items)},
                   {"net", net_json},
                   {"data_file", data_file ? json::array({data_file->samples, data_file->input_dim, data_file->hash})
                                           : json()},
                   {"backend", backend},
                   {"wall_seconds", encode_double(wall_seconds)}});
  }
  return dump(out);
}

std::vector<RunResult> decode_results(const std::string& payload) {
  std::vector<RunResult> results;
  for (const auto& item : json::parse(payload)) {
    RunResult result;
    result.key = item.at("key").get<std::string>();
    result.status = status_from_name(item.at("status").get<std::string>());
    result.reason = item.at("reason").get<std::string>();
    for (const auto& metric : item.at("metrics")) {
      result.metrics.emplace_back(metric.at(0).get<std::string>(), decode_double(metric.at(1)));
    }
    for (const auto& entry : item.at("log")) {
      result.log.push_back(LogEntry{entry.at(0).get<std::int64_t>(),
                                    entry.at(1).get<std::string>(), decode_double(entry.at(2))});
    }
    result.net_json = item.at("net").get<std::string>();
    if (const json& file = item.at("data_file"); !file.is_null()) {
      result.data_file = RunResult::DataFileRecord{file.at(0).get<std::int64_t>(), file.at(1).get<std::int64_t>(),
                                                   file.at(2).get<std::string>()};
    }
    result.backend = item.at("backend").get<std::string>();
    result.wall_seconds = decode_double(item.at("wall_seconds"));
    results.push_back(std::move(result));
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Messages.

/// A private communicator for one sweep, so a sweep's messages can never match another's.
class Communicator {
 public:
  Communicator() { MPI_Comm_dup(MPI_COMM_WORLD, &comm_); }
  ~Communicator() { MPI_Comm_free(&comm_); }
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  MPI_Comm get() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

struct Message {
  int source = 0;
  int tag = 0;
  std::string payload;
};

int payload_count(const std::string& payload) {
  if (payload.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::runtime_error("MPI sweep: a message of " + std::to_string(payload.size()) +
                             " bytes exceeds MPI's count limit (log fewer steps per run)");
  }
  return static_cast<int>(payload.size());
}

/// Receives the message a probe has found.
Message receive_probed(MPI_Comm comm, const MPI_Status& probed) {
  int count = 0;
  MPI_Get_count(&probed, MPI_BYTE, &count);
  Message message{probed.MPI_SOURCE, probed.MPI_TAG,
                  std::string(static_cast<std::size_t>(count), '\0')};
  MPI_Recv(message.payload.data(), count, MPI_BYTE, probed.MPI_SOURCE, probed.MPI_TAG, comm,
           MPI_STATUS_IGNORE);
  return message;
}

/// The next message from `source` (any tag), or nothing if none has arrived.
bool try_receive(MPI_Comm comm, int source, Message& message) {
  int found = 0;
  MPI_Status status;
  MPI_Iprobe(source, MPI_ANY_TAG, comm, &found, &status);
  if (found == 0) return false;
  message = receive_probed(comm, status);
  return true;
}

/// A worker's send: returns once rank 0 has the message (or MPI has buffered it), sleeping between
/// polls instead of spinning in a blocking MPI_Send.
void send_and_wait(MPI_Comm comm, int tag, const std::string& payload) {
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Isend(payload.data(), payload_count(payload), MPI_BYTE, 0, tag, comm, &request);
  for (;;) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done != 0) return;
    std::this_thread::sleep_for(kWorkerPoll);
  }
}

/// A worker's wait for the next message from rank 0.
Message receive_from_coordinator(MPI_Comm comm) {
  Message message;
  while (!try_receive(comm, 0, message)) std::this_thread::sleep_for(kWorkerPoll);
  return message;
}

/// Rank 0's outgoing messages: non-blocking, each payload kept alive until its send completes.
class Outbox {
 public:
  explicit Outbox(MPI_Comm comm) : comm_(comm) {}
  ~Outbox() { wait_all(); }
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  void send(int destination, int tag, std::string payload) {
    auto& entry = sends_.emplace_back(std::move(payload), MPI_REQUEST_NULL);
    MPI_Isend(entry.first.data(), payload_count(entry.first), MPI_BYTE, destination, tag, comm_,
              &entry.second);
  }
  /// Releases the sends that have completed (and lets MPI progress the others).
  void reap() {
    for (auto it = sends_.begin(); it != sends_.end();) {
      int done = 0;
      MPI_Test(&it->second, &done, MPI_STATUS_IGNORE);
      it = done != 0 ? sends_.erase(it) : std::next(it);
    }
  }
  /// Every receiver takes all its messages before it returns (see the protocol), so this ends.
  void wait_all() {
    for (auto& entry : sends_) MPI_Wait(&entry.second, MPI_STATUS_IGNORE);
    sends_.clear();
  }

 private:
  MPI_Comm comm_;
  std::list<std::pair<std::string, MPI_Request>> sends_;  // a list: payloads must not move
};

// ---------------------------------------------------------------------------------------------
// Worker ranks.

/// The run queue of a worker rank: take() asks rank 0, finish() sends results to it. Called on the
/// main thread only (drain_queue's calling thread).
class RemoteQueue final : public RunQueue {
 public:
  explicit RemoteQueue(MPI_Comm comm) : comm_(comm) {}

  std::vector<store::RunRow> take(std::int64_t max_runs) override {
    if (stopped_) return {};
    send_and_wait(comm_, kTagRequest, std::to_string(max_runs));
    const Message reply = receive_from_coordinator(comm_);
    if (reply.tag == kTagStop) {
      stopped_ = true;
      return {};
    }
    if (reply.tag != kTagWork) {
      throw std::runtime_error("MPI sweep: unexpected message (tag " + std::to_string(reply.tag) +
                               ") from rank 0 while waiting for work");
    }
    auto rows = decode_runs(reply.payload);
    if (rows.empty()) throw std::runtime_error("MPI sweep: rank 0 sent an empty batch of runs");
    return rows;
  }

  void finish(std::vector<RunResult> results) override {
    if (results.empty()) return;  // drain_queue's idle tick
    send_and_wait(comm_, kTagResult, encode_results(results));
  }

 private:
  MPI_Comm comm_;
  bool stopped_ = false;
};

void run_worker(MPI_Comm comm, const SweepOptions& options, const RunInputs& inputs) {
  RemoteQueue queue(comm);
  std::exception_ptr error;
  try {
    drain_queue(queue, options.jobs, inputs);
  } catch (...) {
    error = std::current_exception();
  }
  if (!error) return;
  // Tell rank 0, so it stops waiting for this rank's runs, then take every message it still sends
  // until its acknowledgement, so that none of its sends to this rank is left incomplete.
  std::string what = "unknown error";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  send_and_wait(comm, kTagAbort, what);
  while (receive_from_coordinator(comm).tag != kTagAck) {
  }
  std::rethrow_exception(error);
}

// ---------------------------------------------------------------------------------------------
// Rank 0.

/// The run queue of rank 0's own drain_queue, which runs on a helper thread: take() and finish()
/// hand over to the main thread, which alone touches the store and MPI.
class LocalBridge final : public RunQueue {
 public:
  /// What the main thread picks up in one look.
  struct Events {
    std::vector<RunResult> results;
    std::int64_t wanted = 0;  ///< runs take() is waiting for (0: none)
    bool drained = false;     ///< drain_queue has returned; `results` holds its last results
  };

  std::vector<store::RunRow> take(std::int64_t max_runs) override {
    std::unique_lock lock(mutex_);
    wanted_ = std::max<std::int64_t>(max_runs, 1);
    main_cv_.notify_one();
    take_cv_.wait(lock, [&] { return closed_ || !supplied_.empty(); });
    wanted_ = 0;
    return std::exchange(supplied_, {});
  }

  void finish(std::vector<RunResult> results) override {
    if (results.empty()) return;
    {
      std::lock_guard lock(mutex_);
      for (auto& result : results) finished_.push_back(std::move(result));
    }
    main_cv_.notify_one();
  }

  // Main thread side.
  Events poll() {
    std::lock_guard lock(mutex_);
    Events events;
    events.drained = drained_;  // read with the results: drain_queue's last finish() came before
    drained_seen_ = drained_;
    events.results = std::exchange(finished_, {});
    if (supplied_.empty() && !closed_) events.wanted = wanted_;
    return events;
  }
  void supply(std::vector<store::RunRow> rows) {
    {
      std::lock_guard lock(mutex_);
      supplied_ = std::move(rows);
    }
    take_cv_.notify_all();
  }
  /// No more runs: take() returns empty from now on.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    take_cv_.notify_all();
  }
  void mark_drained() {
    {
      std::lock_guard lock(mutex_);
      drained_ = true;
    }
    main_cv_.notify_one();
  }
  /// Waits until there is something for the main thread to do locally, or `timeout` passes.
  void wait(Clock::duration timeout) {
    std::unique_lock lock(mutex_);
    main_cv_.wait_for(lock, timeout, [&] {
      return (drained_ && !drained_seen_) || !finished_.empty() ||
             (wanted_ > 0 && supplied_.empty() && !closed_);
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable take_cv_;  // the helper thread waits in take()
  std::condition_variable main_cv_;  // the main thread waits for local events
  std::vector<store::RunRow> supplied_;
  std::vector<RunResult> finished_;
  std::int64_t wanted_ = 0;
  bool closed_ = false;
  bool drained_ = false;
  bool drained_seen_ = false;  // poll() has reported drained_ (so wait() sleeps again)
};

/// Rank 0: owns the store, hands out runs, collects and writes results, runs its own share.
class Coordinator {
 public:
  Coordinator(MPI_Comm comm, int size, const SweepOptions& options,
              const RunInputs& inputs, const SweepProgressCallback& progress)
      : comm_(comm), options_(options), inputs_(inputs), progress_(progress),
        workers_(static_cast<std::size_t>(size)), outbox_(comm) {}

  SweepProgress run(const std::function<std::unique_ptr<store::ResultStore>()>& open_store) {
    try {
      open(open_store);
    } catch (...) {
      fail(std::current_exception());
    }
    // Rank 0's own share runs on one pool worker beside this thread, which alone makes MPI calls.
    ThreadPool local_worker(2);
    std::future<void> local;
    if (error_) {
      local_drained_ = true;
    } else {
      local = local_worker.submit([this] { drain_locally(); });
    }
    try {
      coordinate();
    } catch (...) {
      // An MPI or internal failure of the loop itself: nothing more can be exchanged safely.
      bridge_.close();
      if (local.valid()) local.wait();
      throw;
    }
    if (local.valid()) local.wait();
    if (local_error_ && !error_) error_ = local_error_;
    flush_if(true);
    outbox_.wait_all();
    if (error_) std::rethrow_exception(error_);
    SweepProgress final_progress = snapshot();
    if (progress_) progress_(final_progress);
    return final_progress;
  }

 private:
  struct WorkerState {
    bool stopped = false;  ///< sent STOP: it gets no more work
    bool aborted = false;  ///< sent ABORT: it is gone
    std::unordered_set<std::string> holding;  ///< keys of its runs not yet reported
  };

  void open(const std::function<std::unique_ptr<store::ResultStore>()>& open_store) {
    store_ = open_store();
    if (!store_) throw std::runtime_error("MPI sweep: the store factory returned no store");
    store_->reset_in_flight();
    for (const store::RunRow& row : store_->runs()) {
      if (!in_shard(row.id, options_)) continue;
      ++state_.total;
      if (row.status == RunStatus::Done) ++state_.done;
      if (row.status == RunStatus::Failed) ++state_.failed;
    }
    for (store::RunRow& row : store_->pending_runs()) {
      if (in_shard(row.id, options_)) pending_.push_back(std::move(row));
    }
  }

  void drain_locally() {
    try {
      drain_queue(bridge_, options_.jobs, inputs_);
    } catch (...) {
      local_error_ = std::current_exception();  // read by the main thread after the wait
    }
    bridge_.mark_drained();
  }

  void coordinate() {
    for (;;) {
      bool busy = serve_messages();
      busy = serve_local() || busy;
      outbox_.reap();
      flush_if(false);
      report();
      if (finished()) return;
      if (!busy) bridge_.wait(kCoordinatorPoll);
    }
  }

  bool finished() const {
    if (!local_drained_) return false;
    for (std::size_t rank = 1; rank < workers_.size(); ++rank) {
      const WorkerState& worker = workers_[rank];
      if (!worker.aborted && !(worker.stopped && worker.holding.empty())) return false;
    }
    return true;
  }

  /// Handles the messages that have arrived; true if there were any.
  bool serve_messages() {
    Message message;
    int handled = 0;
    while (handled < kMaxMessagesPerPass && try_receive(comm_, MPI_ANY_SOURCE, message)) {
      ++handled;
      try {
        handle(message);
      } catch (...) {
        fail(std::current_exception());
      }
    }
    return handled > 0;
  }

  void handle(const Message& message) {
    WorkerState& worker = workers_.at(static_cast<std::size_t>(message.source));
    switch (message.tag) {
      case kTagRequest: {
        if (worker.stopped || worker.aborted) return;
        const std::int64_t wanted = std::clamp<std::int64_t>(
            std::strtoll(message.payload.c_str(), nullptr, 10), 1, kMaxRunsPerMessage);
        std::vector<store::RunRow> rows = hand_out(wanted);
        if (rows.empty()) {
          worker.stopped = true;
          outbox_.send(message.source, kTagStop, {});
          return;
        }
        for (const auto& row : rows) worker.holding.insert(row.key);
        outbox_.send(message.source, kTagWork, encode_runs(rows));
        return;
      }
      case kTagResult: {
        std::vector<RunResult> results;
        try {
          results = decode_results(message.payload);
          for (auto& result : results) {
            if (worker.holding.erase(result.key) == 0) {
              throw std::runtime_error("MPI sweep: rank " + std::to_string(message.source) +
                                       " reported run " + result.key + ", which it was not given");
            }
          }
        } catch (...) {
          // A garbled report: stop waiting for this rank's runs (they stay running in the store
          // and the next sweep redoes them) rather than wait for ever.
          state_.running -= static_cast<std::int64_t>(worker.holding.size());
          worker.holding.clear();
          throw;
        }
        accept(std::move(results));
        return;
      }
      case kTagAbort: {
        worker.aborted = true;
        state_.running -= static_cast<std::int64_t>(worker.holding.size());
        worker.holding.clear();
        outbox_.send(message.source, kTagAck, {});
        fail(std::make_exception_ptr(std::runtime_error(
            "MPI rank " + std::to_string(message.source) + " failed: " + message.payload)));
        return;
      }
      default:
        throw std::runtime_error("MPI sweep: unexpected message (tag " +
                                 std::to_string(message.tag) + ") from rank " +
                                 std::to_string(message.source));
    }
  }

  /// Collects rank 0's own results and answers its drain_queue; true if anything happened.
  bool serve_local() {
    LocalBridge::Events events = bridge_.poll();
    const bool busy = !events.results.empty() || events.wanted > 0;
    accept(std::move(events.results));
    if (events.wanted > 0) {
      std::vector<store::RunRow> rows = hand_out(events.wanted);
      if (rows.empty()) {
        bridge_.close();
      } else {
        bridge_.supply(std::move(rows));
      }
    }
    if (events.drained && !local_drained_) {
      local_drained_ = true;
      // local_error_ was set before mark_drained(), under the bridge's mutex that poll() took.
      if (local_error_) fail(local_error_);
      return true;
    }
    return busy;
  }

  /// Up to `count` pending runs, to be marked running with the next write: at most an even share of
  /// half of what is left (guided self-scheduling), so that a rank asking for many (enough to fill
  /// SIMD lanes) does not take the last runs from the others.
  std::vector<store::RunRow> hand_out(std::int64_t count) {
    const auto ranks = static_cast<std::int64_t>(workers_.size());
    const auto left = static_cast<std::int64_t>(pending_.size());
    count = std::min(count, std::max<std::int64_t>(1, (left + 2 * ranks - 1) / (2 * ranks)));
    std::vector<store::RunRow> rows;
    while (!pending_.empty() && static_cast<std::int64_t>(rows.size()) < count) {
      unmarked_.push_back(pending_.front().id);
      rows.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    state_.running += static_cast<std::int64_t>(rows.size());
    return rows;
  }

  void accept(std::vector<RunResult> results) {
    for (auto& result : results) {
      (result.status == RunStatus::Failed ? state_.failed : state_.done) += 1;
      --state_.running;
      ++finished_now_;
      unwritten_.push_back(std::move(result));
    }
  }

  /// Writes in one batch: the runs handed out since the last write are marked running first (one
  /// transaction), then the finished runs are stored (one transaction). Due when `write_batch`
  /// results wait or `write_interval_s` has passed; always when `force`.
  void flush_if(bool force) {
    if (!store_ || (unmarked_.empty() && unwritten_.empty())) return;
    const bool due = force ||
                     static_cast<std::int64_t>(unwritten_.size()) >= options_.write_batch ||
                     seconds_since(last_write_) >= options_.write_interval_s;
    if (!due) return;
    try {
      if (!unmarked_.empty()) store_->mark_running(unmarked_);
      unmarked_.clear();
      if (!unwritten_.empty()) store_->write_results(unwritten_);
      unwritten_.clear();
    } catch (...) {
      // Keep the first error (it may be the cause of this one); what was not written is lost and
      // its runs are redone by the next sweep.
      unmarked_.clear();
      unwritten_.clear();
      fail(std::current_exception());
    }
    last_write_ = Clock::now();
  }

  /// Records the first error and hands out no more work; the loop still runs until every rank is
  /// released.
  void fail(std::exception_ptr error) {
    if (!error_) error_ = std::move(error);
    pending_.clear();
    bridge_.close();
  }

  SweepProgress snapshot() const { return detail::with_estimate(state_, start_, finished_now_); }

  void report() {
    if (!progress_ || error_ || seconds_since(last_report_) < kProgressInterval) return;
    last_report_ = Clock::now();
    progress_(snapshot());
  }

  MPI_Comm comm_;
  const SweepOptions& options_;
  const RunInputs& inputs_;
  const SweepProgressCallback& progress_;
  std::unique_ptr<store::ResultStore> store_;
  std::deque<store::RunRow> pending_;
  std::vector<WorkerState> workers_;  // by rank; entry 0 unused (rank 0 works through bridge_)
  Outbox outbox_;
  LocalBridge bridge_;
  bool local_drained_ = false;
  std::exception_ptr local_error_;
  std::vector<std::int64_t> unmarked_;
  std::vector<RunResult> unwritten_;
  std::exception_ptr error_;
  SweepProgress state_;
  std::int64_t finished_now_ = 0;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_write_ = Clock::now();
  Clock::time_point last_report_ = Clock::now();
};

/// Environment variables through which MPI launchers announce the job size to each process:
/// OpenMPI (mpirun), the PMI of MPICH/Hydra and Slurm's srun, and PMIx.
constexpr const char* kLauncherSizeVariables[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};

}  // namespace

bool launched_with_several_ranks() {
  for (const char* name : kLauncherSizeVariables) {
    const char* value = std::getenv(name);
    if (value != nullptr && std::strtol(value, nullptr, 10) > 1) return true;
  }
  return false;
}

Session::Session(int* argc, char*** argv) {
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw std::runtime_error("MPI: the library does not support MPI_THREAD_FUNNELED");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Session::~Session() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized == 0) MPI_Finalize();
}

SweepProgress run_sweep_mpi(const Session& session,
                            const std::function<std::unique_ptr<store::ResultStore>()>& open_store,
                            const SweepOptions& options, const RunInputs& inputs,
                            const SweepProgressCallback& progress) {
  // Checks that fail alike on every rank, before any message: no rank waits for one that left.
  validate_options(options);
  int is_main = 0;
  MPI_Is_thread_main(&is_main);
  if (is_main == 0) {
    throw std::logic_error("run_sweep_mpi must be called on the thread that initialised MPI");
  }
  if (session.size() == 1) {
    const auto store = open_store();
    if (!store) throw std::runtime_error("MPI sweep: the store factory returned no store");
    return run_sweep(*store, options, inputs, progress);
  }
  const Communicator comm;
  if (session.rank() != 0) {
    run_worker(comm.get(), options, inputs);
    return {};
  }
  Coordinator coordinator(comm.get(), session.size(), options, inputs, progress);
  return coordinator.run(open_store);
}

}  // namespace relustab::mpi
