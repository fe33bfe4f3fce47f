// SPDX-License-Identifier: MIT
// Full-batch GD, with-replacement SGD and Adam with warm-up / switch schedules, stopping rules and
// logging.
#include <relustab/train/trainer.h>

#include "train_loop.h"

#include <relustab/core/error.h>
#include <relustab/core/rng.h>

#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace relustab {

Optimizer parse_optimizer(std::string_view name) {
  if (name == "gd") return Optimizer::GD;
  if (name == "adam") return Optimizer::Adam;
  throw InputError("optimizer: unknown optimizer '" + std::string(name) +
                   "'; expected one of gd, adam (SGD is gd with a batch size)");
}

std::string_view optimizer_name(Optimizer optimizer) {
  switch (optimizer) {
    case Optimizer::GD: return "gd";
    case Optimizer::Adam: return "adam";
  }
  throw InputError("optimizer: unknown optimizer value " +
                   std::to_string(static_cast<int>(optimizer)));
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::Converged: return "converged";
    case Outcome::MaxSteps: return "max_steps";
    case Outcome::Diverged: return "diverged";
  }
  return "unknown";
}

TrainResult train(const Backend& backend, ShallowReluNet net, const Dataset& data,
                  const TrainOptions& options, const ProgressCallback& progress) {
  detail::validate_shallow_training(net, data, options);
  require_activation_match(backend, net);
  detail::LogRowMaker<ShallowReluNet> rows(backend, data, options);
  detail::LoopResult loop = detail::run_train_loop(
      net, data.n(), options,
      detail::loss_in_convention<ShallowReluNet>(backend, data, options.loss),
      [&](const ShallowReluNet& at, std::int64_t step, double eta, double loss, double grad_norm) {
        return rows.make(at, step, eta, loss, grad_norm);
      },
      progress);
  TrainResult result;
  result.net = std::move(net);
  result.outcome = loop.outcome;
  result.steps = loop.steps;
  result.final_loss = loop.final_loss;
  result.final_grad_norm = loop.final_grad_norm;
  result.switch_step = loop.switch_step;
  result.log = std::move(loop.log);
  return result;
}

}  // namespace relustab
