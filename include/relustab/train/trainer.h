// SPDX-License-Identifier: MIT
// Full-batch GD, SGD and Adam with step-size schedules, stopping rules and periodic measurements.
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/core/loss.h>
#include <relustab/curvature/curvature.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relustab {

/// Step size as a function of the step count and the loss history (Mulayoff et al. 2021, Figs. 1-3; the protocol of Mulayoff and Michaeli's exact mean-square stability analysis).
///
/// eta_t = base(t) * (t >= switch_step ? switch_factor : 1), where
///   base(t) = warmup_from * (eta / warmup_from)^(t / warmup_steps)  for t < warmup_steps, if
///             warmup_from > 0 and warmup_steps > 0 (a geometric ramp from warmup_from to eta);
///   base(t) = eta                                                     otherwise;
/// and switch_step is the first step t whose full-batch loss L(theta_t) < switch_below_loss (never when
/// switch_below_loss is 0). The switched step size is already used for the update made at switch_step.
struct StepSchedule {
  double eta = 0.1;                 ///< target step size
  double warmup_from = 0.0;         ///< > 0: start at this step and ramp geometrically to eta
  std::int64_t warmup_steps = 0;    ///< length of the ramp
  double switch_factor = 1.0;       ///< multiply eta by this once the loss first falls below ...
  double switch_below_loss = 0.0;   ///< ... this threshold (0: never). Paper 1, Fig. 1 uses x3.
};

struct StopRule {
  std::int64_t max_steps = 100000;
  double loss_tol = 1e-6;          ///< converged once the loss stays below this ...
  std::int64_t patience = 200;     ///< ... for this many consecutive steps
  double divergence_loss = 1e12;   ///< loss above this (or not finite) ends the run as diverged
  /// > 0: also converged once the norm of the full-batch gradient ||grad L(theta_t)|| stays below
  /// this for `patience` consecutive steps (a stationary point that need not interpolate). A small
  /// initialisation starts next to the saddle at theta = 0, where the gradient is of the order of
  /// the initialisation scale: grad_tol must lie well below it. 0: off.
  double grad_tol = 0.0;
};

/// The update rule. Both use the gradient g_t of step 7 of `train` (full batch, or a mini-batch when
/// 0 < batch_size < n), so GD with a batch size is SGD and Adam with one is mini-batch Adam.
enum class Optimizer {
  GD,    ///< theta_{t+1} = theta_t - eta_t g_t
  Adam,  ///< torch.optim.Adam (Kingma & Ba 2015) with bias correction; see AdamOptions
};

/// Parses "gd" or "adam"; throws InputError naming the choices otherwise.
Optimizer parse_optimizer(std::string_view name);
std::string_view optimizer_name(Optimizer optimizer);

/// Adam's constants, defaults as in torch.optim.Adam (no weight decay, no AMSGrad). The update made at
/// step t (t = 0, 1, ...; the moments start at m = v = 0) is, per coordinate, exactly torch's:
///   m     <- beta1 m + (1 - beta1) g_t
///   v     <- beta2 v + (1 - beta2) g_t^2
///   theta <- theta - (eta_t / (1 - beta1^(t+1))) m / (sqrt(v) / sqrt(1 - beta2^(t+1)) + epsilon)
/// i.e. theta - eta_t m_hat / (sqrt(v_hat) + epsilon) with the bias-corrected moments
/// m_hat = m / (1 - beta1^(t+1)), v_hat = v / (1 - beta2^(t+1)); eta_t is the schedule's step size
/// (torch's lr), warm-up and switch included. Paper 4 (Boursier and Flammarion 2025) uses Adam as a variant of GD.
struct AdamOptions {
  double beta1 = 0.9;     ///< first-moment decay, in [0, 1)
  double beta2 = 0.999;   ///< second-moment decay, in [0, 1)
  double epsilon = 1e-8;  ///< added to sqrt(v_hat), finite and > 0 (0 would give 0/0 for a zero gradient)
};

enum class Outcome { Converged, MaxSteps, Diverged };
std::string_view outcome_name(Outcome outcome);

struct LogRow {
  std::int64_t step = 0;
  double eta = 0.0;
  double loss = 0.0;  ///< full-batch loss (TrainOptions::loss; by default 1/(2n) sum r^2)
  double grad_norm = std::numeric_limits<double>::quiet_NaN();  ///< ||grad L(theta_step)||, full batch
  double mse_clean = std::numeric_limits<double>::quiet_NaN();  ///< (1/n) sum (f - y_clean)^2
  double sharpness = std::numeric_limits<double>::quiet_NaN();
  double sharpness_residual = std::numeric_limits<double>::quiet_NaN();
  /// Measurements added by TrainOptions::log_measure, by name, in the order it added them.
  std::vector<std::pair<std::string, double>> extra;
};

/// Extra per-row measurements of train() (TrainOptions::log_measure): called with the parameters of
/// the row's step after the row's own fields are filled; appends to row.extra. Must not throw.
using LogMeasure = std::function<void(const ShallowReluNet& net, LogRow& row)>;

struct TrainOptions {
  StepSchedule schedule;
  StopRule stop;
  Index batch_size = 0;           ///< 0 or >= n: full-batch GD; otherwise SGD with uniform batches
  std::uint64_t seed = 0;         ///< SGD batch stream
  std::int64_t log_every = 0;     ///< 0: no log; else a LogRow every this many steps (and at the end)
  /// > 1: also rows at logarithmically spaced steps (learning curves on a log step axis): steps 0,
  /// 1, 2, ..., each logged step s followed by the next at max(s + 1, ceil(s * log_growth)).
  /// 0 (or 1): rows every log_every steps only.
  double log_growth = 0.0;
  bool log_sharpness = true;      ///< measure the sharpness in each log row
  SharpnessOptions sharpness;
  Optimizer optimizer = Optimizer::GD;
  AdamOptions adam;               ///< used when optimizer == Adam
  /// The loss minimised (Loss): mse steps on 1/n sum r^2, whose gradient is twice the half-MSE one;
  /// the losses, gradient norms, sharpnesses and thresholds of the run are then those of mse.
  Loss loss = Loss::HalfMse;
  /// Empty: none. Otherwise called for each log row of train() (one hidden layer only: train_deep
  /// refuses it), e.g. to follow the neurons' alignment during training.
  LogMeasure log_measure;
};

struct TrainResult {
  ShallowReluNet net;
  Outcome outcome = Outcome::MaxSteps;
  std::int64_t steps = 0;             ///< steps taken
  double final_loss = 0.0;
  /// ||grad L(net)|| of the returned parameters (full batch; NaN when not finite).
  double final_grad_norm = std::numeric_limits<double>::quiet_NaN();
  std::int64_t switch_step = -1;      ///< step at which the step multiplier was applied, or -1
  std::vector<LogRow> log;
};

/// Called with each log row as it is produced (e.g. a progress line). It may throw to stop the run
/// (the Python module stops on Ctrl-C this way): the exception leaves train() and nothing is returned.
using ProgressCallback = std::function<void(const LogRow&)>;

/// Trains `net` on `data`. Validates the options (eta > 0, patience >= 1, ...) and throws InputError
/// naming the field otherwise. Divergence is an outcome, not an error.
///
/// Step t (t = 0, 1, ...) with parameters theta_t does, in this order:
///  1. the full-batch loss L(theta_t) (GD gets the full gradient with it; SGD computes it separately,
///     and the full gradient too when stop.grad_tol > 0);
///  2. divergence: L not finite or > stop.divergence_loss ends the run as Diverged; the result holds
///     theta_t if all its entries are finite, else theta_{t-1} (the last finite parameters) and its loss;
///  3. the step-size switch (see StepSchedule); it restarts the convergence streaks, so losses reached
///     with the old step size do not count toward convergence at the new one;
///  4. convergence: L < stop.loss_tol at `patience` consecutive steps, or (stop.grad_tol > 0)
///     ||grad L(theta_t)|| < stop.grad_tol at `patience` consecutive steps, ends the run as Converged;
///  5. t == stop.max_steps ends the run as MaxSteps;
///  6. a log row when log_every > 0 and t % log_every == 0, or, with log_growth > 1, at the
///     logarithmically spaced steps of TrainOptions::log_growth; its grad_norm is that of the full
///     batch (SGD computes it for the row), and options.log_measure, if set, adds its measurements;
///  7. the update: theta_{t+1} = theta_t - eta_t * g_t (Optimizer::GD) or Adam's (AdamOptions) with
///     the same g_t. Full batch: g_t = grad L(theta_t). SGD (0 < batch_size < n): g_t is the gradient
///     of (1/B) sum_b l_{j_b}(theta_t) over B = batch_size indices drawn uniformly and independently,
///     with replacement, by Rng(seed).below(n), B draws per step in order (Mulayoff et al. 2021, eqs. 18-20).
/// The log's mse_clean is computed by the back end (twice its loss against y_clean), so it is that of
/// the back end's activation (ReLU for "cpu", GeLU for "cpu-gelu").
/// TrainResult::net is theta_steps, final_loss its loss and final_grad_norm its full-batch gradient
/// norm. When rows are logged a last row for the returned parameters is appended unless the log
/// already ends with that step. The sharpness in a row is warm-started from the previous row's eigenvector (Lanczos) and skipped when the loss is not finite.
/// Results are bit-identical for any thread count of the back end.
TrainResult train(const Backend& backend, ShallowReluNet net, const Dataset& data,
                  const TrainOptions& options, const ProgressCallback& progress = {});

}  // namespace relustab
