// SPDX-License-Identifier: MIT
// Full-batch GD, with-replacement SGD and Adam with warm-up / switch schedules, stopping rules and
// logging.
#include <relustab/train/trainer.h>

#include <relustab/core/error.h>
#include <relustab/core/rng.h>

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

void validate(const ShallowReluNet& net, const Dataset& data, const TrainOptions& options) {
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
  // +infinity is allowed: then only a non-finite loss counts as divergence.
  require_number(stop.divergence_loss > 0.0, "divergence_loss", "a number > 0",
                 stop.divergence_loss);
  require_integer(options.batch_size >= 0, "batch_size", "an integer >= 0 (0: full batch)",
                  options.batch_size);
  require_integer(options.log_every >= 0, "log_every", "an integer >= 0 (0: no log)",
                  options.log_every);
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
double base_step_size(const StepSchedule& schedule, std::int64_t step) {
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

/// Measurements for the log rows; keeps the last eigenvector to warm-start the next Lanczos run.
class RowMaker {
 public:
  RowMaker(const Backend& backend, const Dataset& data, const TrainOptions& options)
      : backend_(backend), data_(data), options_(options), sharpness_options_(options.sharpness) {
    // The clean targets as a data set of their own, so the back end (and so its activation) gives f.
    if (data.has_clean() && options.log_every > 0) clean_ = Dataset{data.X, data.y_clean, Vec()};
  }

  LogRow make(const ShallowReluNet& net, std::int64_t step, double eta, double loss) {
    LogRow row;
    row.step = step;
    row.eta = eta;
    row.loss = loss;
    if (data_.has_clean()) {
      // The back end's loss is 1/(2n) sum (f - y_clean)^2 on clean_.
      row.mse_clean = 2.0 * backend_.loss_and_grad(net, clean_, {}, nullptr);
    }
    // At non-finite losses the Hessian holds infinities and an eigenvalue means nothing.
    if (options_.log_sharpness && std::isfinite(loss)) {
      const EigenResult top = sharpness(backend_, net, data_, sharpness_options_);
      row.sharpness = top.value;
      row.sharpness_residual = top.residual;
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
  const StepSchedule& schedule = options.schedule;
  const StopRule& stop = options.stop;
  const Index n = data.n();
  const bool full_batch = options.batch_size == 0 || options.batch_size >= n;

  // Everything the loop touches is allocated here; a step only swaps the two parameter buffers.
  std::vector<Index> batch(full_batch ? 0 : static_cast<size_t>(options.batch_size));
  Rng batch_rng(options.seed);
  Vec grad = Vec::Zero(net.n_params());
  Vec other = net.theta();  // after a step: theta_{t-1}; kept to return on a non-finite iterate
  double previous_loss = 0.0;
  double previous_eta = 0.0;
  const bool adam = options.optimizer == Optimizer::Adam;
  AdamState adam_state(options.adam, adam ? net.n_params() : 0);

  TrainResult result;
  RowMaker rows(backend, data, options);
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
    loss = full_batch ? backend.loss_and_grad(net, data, {}, &grad)
                      : backend.loss_and_grad(net, data, {}, nullptr);
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
      backend.loss_and_grad(net, data, batch, &grad);
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

  if (options.log_every > 0 && (result.log.empty() || result.log.back().step != step)) {
    emit(rows.make(net, step, eta, loss));
  }
  result.steps = step;
  result.final_loss = loss;
  result.net = std::move(net);
  return result;
}

}  // namespace relustab
