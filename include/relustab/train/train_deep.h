// SPDX-License-Identifier: MIT
// Full-batch GD (and SGD) for the two-hidden-layer ReLU net through a back end, with the options,
// stopping rules, log rows and loop of the one-hidden-layer trainer (trainer.h).
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
/// Rng(seed).below(n)), with the CPU back end's loss, gradient and sharpness for DeepReluNet. Log
/// rows carry the sharpness (sharpness() of curvature.h with options.sharpness, Lanczos warm-started
/// from the previous row's eigenvector) and its residual. Validates the options and throws
/// InputError naming the field; divergence is an outcome, not an error. Results are bit-identical
/// for any context.threads. Only options.optimizer == Optimizer::GD is supported (Adam is an
/// InputError), and options.log_measure must be empty (it measures a ShallowReluNet).
DeepTrainResult train_deep(DeepReluNet net, const Dataset& data, const TrainOptions& options,
                           const ProgressCallback& progress = {}, const RunContext& context = {});

/// The same through `backend` (the one above uses make_backend("cpu", context)): its loss and
/// gradient, and sharpness(backend, ...) for the log rows. Throws InputError when the back end does
/// not compute two-hidden-layer nets.
DeepTrainResult train_deep(const Backend& backend, DeepReluNet net, const Dataset& data,
                           const TrainOptions& options, const ProgressCallback& progress = {});

}  // namespace relustab
