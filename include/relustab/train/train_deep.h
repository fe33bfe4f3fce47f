// SPDX-License-Identifier: MIT
// Full-batch GD (and SGD) for the two-hidden-layer ReLU net, with the options, stopping rules and
// log rows of the one-hidden-layer trainer (trainer.h).
#pragma once

#include <relustab/backend/backend.h>
#include <relustab/data/dataset.h>
#include <relustab/model/deep_relu.h>
#include <relustab/train/trainer.h>

#include <cstdint>
#include <vector>

namespace relustab {

/// TrainResult for a DeepReluNet.
struct DeepTrainResult {
  DeepReluNet net;
  Outcome outcome = Outcome::MaxSteps;
  std::int64_t steps = 0;  ///< steps taken
  double final_loss = 0.0;
  double final_grad_norm = 0.0;  ///< ||grad L(net)||, full batch (NaN when not finite)
  std::int64_t switch_step = -1;  ///< step at which the step multiplier was applied, or -1
  std::vector<LogRow> log;
};

/// Trains `net` on `data` with exactly the contract of train() in trainer.h (same TrainOptions, the
/// same seven sub-steps per step: loss, divergence, switch, convergence after stop.patience
/// consecutive losses < stop.loss_tol, max_steps, log row, update; SGD with batch indices
/// Rng(seed).below(n)), with the loss, gradient and sharpness of deep_curvature.h in place of a
/// back end's. Log rows carry the sharpness (deep_sharpness with options.sharpness, Lanczos warm-
/// started from the previous row's eigenvector) and its residual. Validates the options and throws
/// InputError naming the field; divergence is an outcome, not an error. Results are bit-identical
/// for any context.threads. Only options.optimizer == Optimizer::GD is supported (Adam is an
/// InputError), and options.log_measure must be empty (it measures a ShallowReluNet).
DeepTrainResult train_deep(DeepReluNet net, const Dataset& data, const TrainOptions& options,
                           const ProgressCallback& progress = {}, const RunContext& context = {});

}  // namespace relustab
