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

/// Measurements for the log rows; keeps the last eigenvector to warm-start the next Lanczos run.
class RowMaker {
 public:
  RowMaker(const Backend& backend, const Dataset& data, const TrainOptions& options)
      : backend_(backend), data_(data), options_(options), sharpness_options_(options.sharpness) {}

  LogRow make(const DeepReluNet& net, std::int64_t step, double eta, double loss,
                double grad_norm) {
    LogRow row;
    row.step = step;
    row.eta = eta;
    row.loss = loss;
    row.grad_norm = grad_norm;
    if (data_.has_clean()) {
      row.mse_clean =
          (net.predict(data_.X) - data_.y_clean).squaredNorm() / static_cast<double>(data_.n());
    }
    // At non-finite losses the Hessian holds infinities and an eigenvalue means nothing.
    if (options_.log_sharpness && std::isfinite(loss)) {
      const EigenResult top = sharpness(backend_, net, data_, sharpness_options_);
      // The back end's Hessian is the half-MSE one; the row's sharpness is of options.loss.
      row.sharpness = loss_scale(options_.loss) * top.value;
      row.sharpness_residual = loss_scale(options_.loss) * top.residual;
      if (top.vector.size() == net.n_params() && top.vector.allFinite()) {
        sharpness_options_.lanczos.start = top.vector;
      }
    }
    return row;
  }

 private:
  const Backend& backend_;
  const Dataset& data_;
  const TrainOptions& options_;
  SharpnessOptions sharpness_options_;
};

}  // namespace

DeepTrainResult train_deep(const Backend& backend, DeepReluNet net, const Dataset& data,
                           const TrainOptions& options, const ProgressCallback& progress) {
  validate(net, data, options);
  require_activation_match(backend, net);
  RowMaker rows(backend, data, options);
  detail::LoopResult loop = detail::run_train_loop(
      net, data.n(), options,
      [&, scale = loss_scale(options.loss)](const DeepReluNet& at, std::span<const Index> batch, Vec* grad) {
        // The back end gives the half-MSE loss and gradient; mse doubles both (exactly).
        const double loss = backend.loss_and_grad(at, data, batch, grad);
        if (grad != nullptr && scale != 1.0) *grad *= scale;
        return scale * loss;
      },
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
