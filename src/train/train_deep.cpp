// SPDX-License-Identifier: MIT
// GD / SGD for the two-hidden-layer ReLU net through a back end; the loop is train()'s
// (train_loop.h).
#include <relustab/train/train_deep.h>

#include "train_loop.h"

#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/curvature.h>

#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace relustab {
namespace {

void validate(const DeepReluNet& net, const Dataset& data, const TrainOptions& options) {
  detail::validate_train_options(options);
  require(!options.log_measure,
          "log_measure: train_deep does not call a per-row measurement (it takes a DeepReluNet); "
          "expected none");
  require(options.optimizer == Optimizer::GD,
          "optimizer: train_deep supports 'gd' (with batch_size for SGD) only, got '" +
              std::string(optimizer_name(options.optimizer)) + "'");
  require(net.n_params() >= 1,
          "net: expected a network with input_dim, width1 and width2 >= 1 (got an empty one)");
  require(net.theta().allFinite(), "net: parameters must be finite (found NaN or infinity)");
  validate_dataset(data, "data");
  require(data.dim() == net.input_dim(), "data: expected input dimension " +
                                             std::to_string(net.input_dim()) +
                                             " (the net's), got " + std::to_string(data.dim()));
}

}  // namespace

DeepTrainResult train_deep(const Backend& backend, DeepReluNet net, const Dataset& data,
                           const TrainOptions& options, const ProgressCallback& progress) {
  validate(net, data, options);
  require_activation_match(backend, net);
  detail::LogRowMaker<DeepReluNet> rows(backend, data, options);
  detail::LoopResult loop = detail::run_train_loop(
      net, data.n(), options,
      detail::loss_in_convention<DeepReluNet>(backend, data, options.loss),
      [&](const DeepReluNet& at, std::int64_t step, double eta, double loss, double grad_norm) {
        return rows.make(at, step, eta, loss, grad_norm);
      },
      progress);
  DeepTrainResult result;
  result.net = std::move(net);
  result.outcome = loop.outcome;
  result.steps = loop.steps;
  result.final_loss = loop.final_loss;
  result.final_grad_norm = loop.final_grad_norm;
  result.switch_step = loop.switch_step;
  result.log = std::move(loop.log);
  return result;
}

DeepTrainResult train_deep(DeepReluNet net, const Dataset& data, const TrainOptions& options,
                           const ProgressCallback& progress, const RunContext& context) {
  return train_deep(*make_backend("cpu", context), std::move(net), data, options, progress);
}

}  // namespace relustab
