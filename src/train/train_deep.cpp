// SPDX-License-Identifier: MIT
// GD / SGD for the two-hidden-layer ReLU net; the loop follows train() in trainer.cpp step for
// step.
#include <relustab/train/train_deep.h>

#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/deep_curvature.h>

#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace relustab {
namespace {

/// Shortest decimal form that reads back to the same double ("-1", "0.1", "1e-07" style).
std::string format_number(double value) {
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return {buffer.data(), result.ptr};
}

void require_number(bool ok, const char* field, const char* expected, double value) {
  require(ok, std::string(field) + ": expected " + expected + ", got " + format_number(value));
}

void require_integer(bool ok, const char* field, const char* expected, std::int64_t value) {
  require(ok, std::string(field) + ": expected " + expected + ", got " + std::to_string(value));
}

/// The checks of trainer.cpp's validate(), for a DeepReluNet.
void validate(const DeepReluNet& net, const Dataset& data, const TrainOptions& options) {
  const StepSchedule& s = options.schedule;
  const StopRule& stop = options.stop;
  require_number(std::isfinite(s.eta) && s.eta > 0.0, "eta", "a finite number > 0", s.eta);
  require_number(std::isfinite(s.warmup_from) && s.warmup_from >= 0.0, "warmup_from",
                 "a finite number >= 0", s.warmup_from);
  require_integer(s.warmup_steps >= 0, "warmup_steps", "an integer >= 0", s.warmup_steps);
  require_number(std::isfinite(s.switch_factor) && s.switch_factor > 0.0, "switch_factor",
                 "a finite number > 0", s.switch_factor);
  require_number(std::isfinite(s.switch_below_loss) && s.switch_below_loss >= 0.0,
                 "switch_below_loss", "a finite number >= 0 (0: never switch)",
                 s.switch_below_loss);
  require_integer(stop.max_steps >= 0, "max_steps", "an integer >= 0", stop.max_steps);
  require_number(std::isfinite(stop.loss_tol) && stop.loss_tol >= 0.0, "loss_tol",
                 "a finite number >= 0", stop.loss_tol);
  require_integer(stop.patience >= 1, "patience", "an integer >= 1", stop.patience);
  // +infinity is allowed: then only a non-finite loss counts as divergence.
  require_number(stop.divergence_loss > 0.0, "divergence_loss", "a number > 0",
                 stop.divergence_loss);
  require_integer(options.batch_size >= 0, "batch_size", "an integer >= 0 (0: full batch)",
                  options.batch_size);
  require_integer(options.log_every >= 0, "log_every", "an integer >= 0 (0: no log)",
                  options.log_every);
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

/// base(t) of StepSchedule: the geometric warm-up ramp, then the target step size.
double base_step_size(const StepSchedule& schedule, std::int64_t step) {
  if (schedule.warmup_from > 0.0 && schedule.warmup_steps > 0 && step < schedule.warmup_steps) {
    return schedule.warmup_from *
           std::pow(schedule.eta / schedule.warmup_from,
                    static_cast<double>(step) / static_cast<double>(schedule.warmup_steps));
  }
  return schedule.eta;
}

/// Measurements for the log rows; keeps the last eigenvector to warm-start the next Lanczos run.
class RowMaker {
 public:
  RowMaker(const Dataset& data, const TrainOptions& options, const RunContext& context)
      : data_(data), options_(options), context_(context), sharpness_options_(options.sharpness) {}

  LogRow make(const DeepReluNet& net, std::int64_t step, double eta, double loss) {
    LogRow row;
    row.step = step;
    row.eta = eta;
    row.loss = loss;
    if (data_.has_clean()) {
      row.mse_clean =
          (net.predict(data_.X) - data_.y_clean).squaredNorm() / static_cast<double>(data_.n());
    }
    // At non-finite losses the Hessian holds infinities and an eigenvalue means nothing.
    if (options_.log_sharpness && std::isfinite(loss)) {
      const EigenResult top = deep_sharpness(net, data_, sharpness_options_, context_);
      row.sharpness = top.value;
      row.sharpness_residual = top.residual;
      if (top.vector.size() == net.n_params() && top.vector.allFinite()) {
        sharpness_options_.lanczos.start = top.vector;
      }
    }
    return row;
  }

 private:
  const Dataset& data_;
  const TrainOptions& options_;
  RunContext context_;
  SharpnessOptions sharpness_options_;
};

}  // namespace

DeepTrainResult train_deep(DeepReluNet net, const Dataset& data, const TrainOptions& options,
                           const ProgressCallback& progress, const RunContext& context) {
  validate(net, data, options);
  const StepSchedule& schedule = options.schedule;
  const StopRule& stop = options.stop;
  const Index n = data.n();
  const bool full_batch = options.batch_size == 0 || options.batch_size >= n;

  std::vector<Index> batch(full_batch ? 0 : static_cast<size_t>(options.batch_size));
  Rng batch_rng(options.seed);
  Vec grad = Vec::Zero(net.n_params());
  Vec other = net.theta();  // after a step: theta_{t-1}; kept to return on a non-finite iterate
  double previous_loss = 0.0;
  double previous_eta = 0.0;

  DeepTrainResult result;
  RowMaker rows(data, options, context);
  auto emit = [&](const LogRow& row) {
    result.log.push_back(row);
    if (progress) progress(result.log.back());
  };

  double multiplier = 1.0;  // switch_factor once the switch has happened
  std::int64_t streak = 0;  // consecutive steps with loss < loss_tol
  std::int64_t step = 0;
  double loss = 0.0;
  double eta = 0.0;
  for (;; ++step) {
    loss = deep_loss_and_grad(net, data, {}, full_batch ? &grad : nullptr, context);
    eta = multiplier * base_step_size(schedule, step);

    if (!std::isfinite(loss) || loss > stop.divergence_loss) {
      result.outcome = Outcome::Diverged;
      // theta_0 is finite (validated), so a step back exists whenever theta_t is not finite.
      if (!net.theta().allFinite()) {
        net.theta().swap(other);
        --step;
        loss = previous_loss;
        eta = previous_eta;
      }
      break;
    }

    bool switched_now = false;
    if (result.switch_step < 0 && schedule.switch_below_loss > 0.0 &&
        loss < schedule.switch_below_loss) {
      result.switch_step = step;
      multiplier = schedule.switch_factor;
      eta = multiplier * base_step_size(schedule, step);
      switched_now = true;
    }

    // The switch restarts the streak: losses reached at the old step size do not count.
    streak = (!switched_now && loss < stop.loss_tol) ? streak + 1 : 0;
    if (streak >= stop.patience) {
      result.outcome = Outcome::Converged;
      break;
    }
    if (step >= stop.max_steps) {
      result.outcome = Outcome::MaxSteps;
      break;
    }
    if (options.log_every > 0 && step % options.log_every == 0) {
      emit(rows.make(net, step, eta, loss));
    }

    if (!full_batch) {
      for (Index& j : batch) j = static_cast<Index>(batch_rng.below(static_cast<std::uint64_t>(n)));
      deep_loss_and_grad(net, data, batch, &grad, context);
    }
    other.noalias() = net.theta() - eta * grad;
    net.theta().swap(other);
    previous_loss = loss;
    previous_eta = eta;
  }

  if (options.log_every > 0 && (result.log.empty() || result.log.back().step != step)) {
    emit(rows.make(net, step, eta, loss));
  }
  result.steps = step;
  result.final_loss = loss;
  result.net = std::move(net);
  return result;
}

}  // namespace relustab
