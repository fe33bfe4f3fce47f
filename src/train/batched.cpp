// SPDX-License-Identifier: MIT
#include <relustab/train/batched.h>

#include <relustab/core/error.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <string>
#include <thread>

namespace relustab {

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

std::vector<TrainResult> train_batch(std::span<const BatchMember> members, int threads) {
  require(threads >= 1, "threads: expected an integer >= 1, got " + std::to_string(threads));
  for (size_t m = 0; m < members.size(); ++m) {
    require(batchable(members[m], members.front()),
            "batch member " + std::to_string(m) +
                ": expected a univariate ReLU net trained by full-batch GD with the same sample count "
                "and width as member 0");
  }
  std::vector<TrainResult> results(members.size());
  // Members are independent: each worker takes the next one and trains it with its own sorted-knot
  // back end, so a result is the single-net result bit for bit whatever the thread count.
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto work = [&]() {
    const auto backend = make_backend("univariate");
    for (size_t m = next++; m < members.size() && !failed; m = next++) {
      try {
        results[m] = train(*backend, *members[m].net, *members[m].data, members[m].options);
      } catch (...) {
        if (!failed.exchange(true)) failure = std::current_exception();
      }
    }
  };
  const size_t workers = std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(1, members.size()));
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  return results;
}

}  // namespace relustab
