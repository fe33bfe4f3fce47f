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
namespace {

void validate(const ShallowReluNet& net, const Dataset& data, const TrainOptions& options) {
  detail::validate_train_options(options);
  require(net.width() >= 1 && net.input_dim() >= 1,
          "net: expected a network with input_dim >= 1 and width >= 1, got input_dim " +
              std::to_string(net.input_dim()) + " and width " + std::to_string(net.width()));
  require(net.theta().allFinite(), "net: parameters must be finite (found NaN or infinity)");
  validate_dataset(data, "data");
  require(data.dim() == net.input_dim(),
          "data: expected input dimension " + std::to_string(net.input_dim()) +
              " (the net's), got " + std::to_string(data.dim()));
}


/// Measurements for the log rows; keeps the last eigenvector to warm-start the next Lanczos run.
class RowMaker {
 public:
  RowMaker(const Backend& backend, const Dataset& data, const TrainOptions& options)
      : backend_(backend), data_(data), options_(options), sharpness_options_(options.sharpness) {
    // The clean targets as a data set of their own, so the back end (and so its activation) gives f.
    const bool logging = options.log_every > 0 || options.log_growth > 1.0;
    if (data.has_clean() && logging) clean_ = Dataset{data.X, data.y_clean, Vec()};
  }

  LogRow make(const ShallowReluNet& net, std::int64_t step, double eta, double loss,
                double grad_norm) {
    LogRow row;
    row.step = step;
    row.eta = eta;
    row.loss = loss;
    row.grad_norm = grad_norm;
    if (data_.has_clean()) {
      // The back end's loss is 1/(2n) sum (f - y_clean)^2 on clean_.
      row.mse_clean = 2.0 * backend_.loss_and_grad(net, clean_, {}, nullptr);
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
    if (options_.log_measure) options_.log_measure(net, row);
    return row;
  }

 private:
  const Backend& backend_;
  const Dataset& data_;
  const TrainOptions& options_;
  SharpnessOptions sharpness_options_;
  Dataset clean_;
};

}  // namespace

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
  validate(net, data, options);
  require_activation_match(backend, net);
  RowMaker rows(backend, data, options);
  detail::LoopResult loop = detail::run_train_loop(
      net, data.n(), options,
      [&, scale = loss_scale(options.loss)](const ShallowReluNet& at, std::span<const Index> batch, Vec* grad) {
        // The back end gives the half-MSE loss and gradient; mse doubles both (exactly).
        const double loss = backend.loss_and_grad(at, data, batch, grad);
        if (grad != nullptr && scale != 1.0) *grad *= scale;
        return scale * loss;
      },
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
