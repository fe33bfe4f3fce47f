// SPDX-License-Identifier: MIT
// The training loop shared by train() (one hidden layer, any back end) and train_deep() (two hidden
// layers): option checks, the step-size schedule, Adam's state and the seven sub-steps of a step that
// trainer.h documents. Private to the train layer.
#pragma once

#include <relustab/core/error.h>
#include <relustab/core/format.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/curvature.h>
#include <relustab/train/trainer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace relustab::detail {

using relustab::format_number;

inline void require_number(bool ok, const char* field, const char* expected, double value) {
  require(ok, std::string(field) + ": expected " + expected + ", got " + format_number(value));
}

inline void require_integer(bool ok, const char* field, const char* expected, std::int64_t value) {
  require(ok, std::string(field) + ": expected " + expected + ", got " + std::to_string(value));
}

/// The checks of TrainOptions every trainer shares; InputError naming the field.
inline void validate_train_options(const TrainOptions& options) {
  const StepSchedule& s = options.schedule;
  const StopRule& stop = options.stop;
  require_number(std::isfinite(s.eta) && s.eta > 0.0, "eta", "a finite number > 0", s.eta);
  require_number(std::isfinite(s.warmup_from) && s.warmup_from >= 0.0, "warmup_from",
                 "a finite number >= 0", s.warmup_from);
  require_integer(s.warmup_steps >= 0, "warmup_steps", "an integer >= 0", s.warmup_steps);
  require_number(std::isfinite(s.switch_factor) && s.switch_factor > 0.0, "switch_factor",
                 "a finite number > 0", s.switch_factor);
  require_number(std::isfinite(s.switch_below_loss) && s.switch_below_loss >= 0.0,
                 "switch_below_loss", "a finite number >= 0 (0: never switch)", s.switch_below_loss);
  require_integer(stop.max_steps >= 0, "max_steps", "an integer >= 0", stop.max_steps);
  require_number(std::isfinite(stop.loss_tol) && stop.loss_tol >= 0.0, "loss_tol",
                 "a finite number >= 0", stop.loss_tol);
  require_integer(stop.patience >= 1, "patience", "an integer >= 1", stop.patience);
  require_number(std::isfinite(stop.grad_tol) && stop.grad_tol >= 0.0, "grad_tol",
                 "a finite number >= 0 (0: off)", stop.grad_tol);
  // +infinity is allowed: then only a non-finite loss counts as divergence.
  require_number(stop.divergence_loss > 0.0, "divergence_loss", "a number > 0",
                 stop.divergence_loss);
  require_integer(options.batch_size >= 0, "batch_size", "an integer >= 0 (0: full batch)",
                  options.batch_size);
  require_integer(options.log_every >= 0, "log_every", "an integer >= 0 (0: no log)",
                  options.log_every);
  require(options.log_growth == 0.0 || (std::isfinite(options.log_growth) && options.log_growth >= 1.0),
          "log_growth: expected 0 (off) or a finite number >= 1, got " +
              std::to_string(options.log_growth));
  require(options.optimizer == Optimizer::GD || options.optimizer == Optimizer::Adam,
          "optimizer: expected gd or adam, got value " +
              std::to_string(static_cast<int>(options.optimizer)));
  if (options.optimizer == Optimizer::Adam) {
    const AdamOptions& adam = options.adam;
    // beta = 1 would freeze a moment at 0 and make its bias correction 1 - 1^t = 0.
    require_number(adam.beta1 >= 0.0 && adam.beta1 < 1.0, "adam.beta1", "a number in [0, 1)",
                   adam.beta1);
    require_number(adam.beta2 >= 0.0 && adam.beta2 < 1.0, "adam.beta2", "a number in [0, 1)",
                   adam.beta2);
    require_number(std::isfinite(adam.epsilon) && adam.epsilon > 0.0, "adam.epsilon",
                   "a finite number > 0", adam.epsilon);
  }
}

/// train()'s checks of its arguments (options, net, data); InputError naming the field.
inline void validate_shallow_training(const ShallowReluNet& net, const Dataset& data, const TrainOptions& options) {
  validate_train_options(options);
  require(net.width() >= 1 && net.input_dim() >= 1,
          "net: expected a network with input_dim >= 1 and width >= 1, got input_dim " +
              std::to_string(net.input_dim()) + " and width " + std::to_string(net.width()));
  require(net.theta().allFinite(), "net: parameters must be finite (found NaN or infinity)");
  validate_dataset(data, "data");
  require(data.dim() == net.input_dim(),
          "data: expected input dimension " + std::to_string(net.input_dim()) +
              " (the net's), got " + std::to_string(data.dim()));
}

/// base(t) of StepSchedule: the geometric warm-up ramp, then the target step size.
inline double base_step_size(const StepSchedule& schedule, std::int64_t step) {
  if (schedule.warmup_from > 0.0 && schedule.warmup_steps > 0 && step < schedule.warmup_steps) {
    return schedule.warmup_from *
           std::pow(schedule.eta / schedule.warmup_from,
                    static_cast<double>(step) / static_cast<double>(schedule.warmup_steps));
  }
  return schedule.eta;
}

/// Adam's moments and step count (AdamOptions documents the update, which mirrors torch.optim.Adam).
class AdamState {
 public:
  AdamState(const AdamOptions& options, Index size)
      : options_(options), m_(Vec::Zero(size)), v_(Vec::Zero(size)) {}

  /// out = theta - eta * m_hat / (sqrt(v_hat) + epsilon) after folding `grad` into the moments.
  void step(const Vec& theta, const Vec& grad, double eta, Vec& out) {
    ++count_;
    // m <- lerp(m, g, 1 - beta1) and v <- beta2 v + (1 - beta2) g^2, rounded as torch rounds them
    // (torch.lerp switches formula at weight 0.5), so a PyTorch run can be matched closely.
    const double weight = 1.0 - options_.beta1;
    if (weight < 0.5) {
      m_ += weight * (grad - m_);
    } else {
      m_ = grad - (1.0 - weight) * (grad - m_);
    }
    v_ = options_.beta2 * v_ + (1.0 - options_.beta2) * grad.cwiseAbs2();
    const double t = static_cast<double>(count_);
    // torch's order of operations: step_size = lr / bc1, denom = sqrt(v) / sqrt(bc2) + eps.
    const double step_size = eta / (1.0 - std::pow(options_.beta1, t));
    const double sqrt_bc2 = std::sqrt(1.0 - std::pow(options_.beta2, t));
    out.noalias() =
        theta - step_size * (m_.array() / (v_.array().sqrt() / sqrt_bc2 + options_.epsilon)).matrix();
  }

 private:
  AdamOptions options_;
  Vec m_;
  Vec v_;
  std::int64_t count_ = 0;
};

/// The rules of trainer.h's contract that decide a step from its loss alone, shared by every trainer
/// (run_train_loop, and the SIMD-lane trainer, which applies them lane by lane): the step size
/// (schedule and switch) and whether the run ends there, checked in this order: divergence, the
/// switch, convergence (loss, gradient norm), max_steps.
class StepRules {
 public:
  enum class Verdict { Step, Diverged, Converged, MaxSteps };

  explicit StepRules(const TrainOptions& options) : schedule_(options.schedule), stop_(options.stop) {}

  /// Step `step` (0, 1, ... in order) with loss L(theta_step); grad_norm is ||grad L(theta_step)||,
  /// read only when grad_tol > 0. eta() is then the step's step size.
  Verdict judge(std::int64_t step, double loss, double grad_norm) {
    eta_ = multiplier_ * base_step_size(schedule_, step);
    if (!std::isfinite(loss) || loss > stop_.divergence_loss) return Verdict::Diverged;
    bool switched_now = false;
    if (switch_step_ < 0 && schedule_.switch_below_loss > 0.0 && loss < schedule_.switch_below_loss) {
      switch_step_ = step;
      multiplier_ = schedule_.switch_factor;
      eta_ = multiplier_ * base_step_size(schedule_, step);
      switched_now = true;
    }
    streak_ = (!switched_now && loss < stop_.loss_tol) ? streak_ + 1 : 0;
    grad_streak_ = (!switched_now && stop_.grad_tol > 0.0 && grad_norm < stop_.grad_tol) ? grad_streak_ + 1 : 0;
    if (streak_ >= stop_.patience || grad_streak_ >= stop_.patience) return Verdict::Converged;
    if (step >= stop_.max_steps) return Verdict::MaxSteps;
    return Verdict::Step;
  }

  double eta() const { return eta_; }
  std::int64_t switch_step() const { return switch_step_; }  ///< -1 until the switch

 private:
  StepSchedule schedule_;
  StopRule stop_;
  double eta_ = 0.0;
  double multiplier_ = 1.0;           // switch_factor once the switch has happened
  std::int64_t switch_step_ = -1;
  std::int64_t streak_ = 0;           // consecutive steps with loss < loss_tol
  std::int64_t grad_streak_ = 0;      // consecutive steps with ||grad|| < grad_tol
};

/// Which steps get a log row (TrainOptions::log_every, log_growth), asked step by step in order.
class LogSchedule {
 public:
  explicit LogSchedule(const TrainOptions& options)
      : every_(options.log_every), growth_(options.log_growth) {}

  bool logging() const { return every_ > 0 || growth_ > 1.0; }

  /// Whether step t gets a row; steps are asked in increasing order.
  bool due(std::int64_t t) {
    if (every_ > 0 && t % every_ == 0) return true;
    if (!(growth_ > 1.0) || t < next_growth_log_) return false;
    const auto next = static_cast<std::int64_t>(std::ceil(static_cast<double>(t) * growth_));
    next_growth_log_ = std::max(next, t + 1);
    return true;
  }

 private:
  std::int64_t every_;
  double growth_;
  std::int64_t next_growth_log_ = 0;  // the next step of the logarithmic log spacing
};

/// What the loop reports besides the trained parameters.
struct LoopResult {
  Outcome outcome = Outcome::MaxSteps;
  std::int64_t steps = 0;
  double final_loss = 0.0;
  double final_grad_norm = 0.0;
  std::int64_t switch_step = -1;
  std::vector<LogRow> log;
};

/// Runs the steps of trainer.h's contract on `net` (anything with theta() and n_params()) over n
/// samples. `loss_and_grad(net, rows, grad)` is the loss on the rows (all when empty) with the
/// gradient when grad is not null; `make_row(net, step, eta, loss, grad_norm)` measures a log row.
template <class Net, class LossAndGrad, class MakeRow>
LoopResult run_train_loop(Net& net, Index n, const TrainOptions& options,
                          LossAndGrad&& loss_and_grad, MakeRow&& make_row,
                          const ProgressCallback& progress) {
  const StopRule& stop = options.stop;
  const bool full_batch = options.batch_size == 0 || options.batch_size >= n;
  // Everything the loop touches is allocated here; a step only swaps the two parameter buffers.
  std::vector<Index> batch(full_batch ? 0 : static_cast<size_t>(options.batch_size));
  Rng batch_rng(options.seed);
  Vec grad = Vec::Zero(net.n_params());
  // SGD's full-batch gradient, only for the gradient-norm stop rule, log rows and the end.
  const bool full_gradient_each_step = full_batch || stop.grad_tol > 0.0;
  Vec full_grad = full_batch ? Vec() : Vec::Zero(net.n_params());
  const Vec& step_full_grad = full_batch ? grad : full_grad;
  Vec other = net.theta();  // after a step: theta_{t-1}; kept to return on a non-finite iterate
  double previous_loss = 0.0;
  double previous_eta = 0.0;
  const bool adam = options.optimizer == Optimizer::Adam;
  AdamState adam_state(options.adam, adam ? net.n_params() : 0);

  LoopResult result;
  LogSchedule log_schedule(options);
  const bool logging = log_schedule.logging();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // ||grad L(theta)|| of the full batch at the current parameters: the step's own when it has one.
  auto full_grad_norm = [&](bool have_grad) {
    if (!have_grad) loss_and_grad(net, std::span<const Index>{}, full_batch ? &grad : &full_grad);
    const double norm = step_full_grad.norm();
    return std::isfinite(norm) ? norm : nan;
  };
  auto emit = [&](std::int64_t t, double row_eta, double row_loss, bool have_grad) {
    const double grad_norm = full_grad_norm(have_grad);
    result.log.push_back(make_row(net, t, row_eta, row_loss, grad_norm));
    if (progress) progress(result.log.back());
  };

  StepRules rules(options);
  bool grad_current = false;  // the full gradient in step_full_grad is that of theta_step
  std::int64_t step = 0;
  double loss = 0.0;
  double eta = 0.0;
  for (;; ++step) {
    loss = loss_and_grad(net, std::span<const Index>{},
                         full_gradient_each_step ? (full_batch ? &grad : &full_grad) : nullptr);
    grad_current = full_gradient_each_step;
    const StepRules::Verdict verdict =
        rules.judge(step, loss, stop.grad_tol > 0.0 ? step_full_grad.norm() : 0.0);
    eta = rules.eta();
    result.switch_step = rules.switch_step();
    if (verdict == StepRules::Verdict::Diverged) {
      result.outcome = Outcome::Diverged;
      // theta_0 is finite (validated), so a step back exists whenever theta_t is not finite.
      if (!net.theta().allFinite()) {
        net.theta().swap(other);
        --step;
        loss = previous_loss;
        eta = previous_eta;
        grad_current = false;
      }
      break;
    }
    if (verdict == StepRules::Verdict::Converged) {
      result.outcome = Outcome::Converged;
      break;
    }
    if (verdict == StepRules::Verdict::MaxSteps) {
      result.outcome = Outcome::MaxSteps;
      break;
    }
    if (log_schedule.due(step)) {
      emit(step, eta, loss, grad_current);
      grad_current = true;  // emit computed it if the step had not
    }

    if (!full_batch) {
      for (Index& j : batch) j = static_cast<Index>(batch_rng.below(static_cast<std::uint64_t>(n)));
      loss_and_grad(net, std::span<const Index>(batch), &grad);  // the step's mini-batch gradient
    }
    if (adam) {
      adam_state.step(net.theta(), grad, eta, other);
    } else {
      other.noalias() = net.theta() - eta * grad;
    }
    net.theta().swap(other);
    previous_loss = loss;
    previous_eta = eta;
  }

  if (logging && (result.log.empty() || result.log.back().step != step)) {
    emit(step, eta, loss, grad_current);
    grad_current = true;
  }
  result.steps = step;
  result.final_loss = loss;
  result.final_grad_norm = full_grad_norm(grad_current);
  return result;
}

/// The loss and gradient in the convention `loss` from the back end's half-MSE ones: mse doubles both,
/// exactly, so GD on mse at eta takes the steps of half-MSE at 2 eta.
template <class Net>
auto loss_in_convention(const Backend& backend, const Dataset& data, Loss loss) {
  return [&backend, &data, scale = loss_scale(loss)](const Net& at, std::span<const Index> batch, Vec* grad) {
    const double value = backend.loss_and_grad(at, data, batch, grad);
    if (grad != nullptr && scale != 1.0) *grad *= scale;
    return scale * value;
  };
}

/// Measurements for the log rows of either net type; keeps the last eigenvector to warm-start the
/// next Lanczos run. The clean-target error goes through the back end (and so its activation).
template <class Net>
class LogRowMaker {
 public:
  LogRowMaker(const Backend& backend, const Dataset& data, const TrainOptions& options)
      : backend_(backend), data_(data), options_(options), sharpness_options_(options.sharpness) {
    const bool logging = options.log_every > 0 || options.log_growth > 1.0;
    if (data.has_clean() && logging) clean_ = Dataset{data.X, data.y_clean, Vec()};
  }

  LogRow make(const Net& net, std::int64_t step, double eta, double loss, double grad_norm) {
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
    if constexpr (std::is_same_v<Net, ShallowReluNet>) {
      if (options_.log_measure) options_.log_measure(net, row);
    }
    return row;
  }

 private:
  const Backend& backend_;
  const Dataset& data_;
  const TrainOptions& options_;
  SharpnessOptions sharpness_options_;
  Dataset clean_;
};

}  // namespace relustab::detail
