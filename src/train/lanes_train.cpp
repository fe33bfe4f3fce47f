// SPDX-License-Identifier: MIT
// train_in_lanes: train()'s contract for many univariate nets on one data set, stepped together as the
// SIMD lanes of GdLanes.
#include <relustab/train/lanes.h>

#include "train_loop.h"

#include <relustab/backend/backend.h>
#include <relustab/core/error.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace relustab {

bool lane_trainable(const BatchMember& member, const BatchMember& first) {
  if (!batchable(member, first)) return false;
  const TrainOptions& options = member.options;
  const bool logging = options.log_every > 0 || options.log_growth > 1.0;
  const bool same_data = member.data == first.data ||
                         (member.data->X == first.data->X && member.data->y == first.data->y);
  return same_data && options.optimizer == Optimizer::GD && options.loss == Loss::HalfMse &&
         options.stop.grad_tol == 0.0 && !logging && !options.log_measure &&
         member.net->theta().allFinite();
}

std::vector<TrainResult> train_in_lanes(std::span<const BatchMember> members) {
  require(!members.empty(), "train_in_lanes: expected at least one member");
  for (size_t m = 0; m < members.size(); ++m) {
    require(members[m].net != nullptr && members[m].data != nullptr,
            "lane member " + std::to_string(m) + ": no net or data");
    detail::validate_shallow_training(*members[m].net, *members[m].data, members[m].options);
    require(lane_trainable(members[m], members.front()),
            "lane member " + std::to_string(m) +
                ": expected a univariate ReLU net trained by full-batch GD on the half-MSE loss, "
                "without log rows or grad_tol, on the data and with the width of member 0");
  }
  const Dataset& data = *members.front().data;
  const size_t count = members.size();
  std::vector<ShallowReluNet> nets;
  std::vector<detail::StepRules> rules;
  nets.reserve(count);
  rules.reserve(count);
  for (const BatchMember& member : members) {
    nets.push_back(*member.net);
    rules.emplace_back(member.options);
  }
  GdLanes<double> lanes(nets, data);
  nets.clear();

  const auto univariate = make_backend("univariate");
  std::vector<TrainResult> results(count);
  std::vector<char> done(count, 0);
  std::vector<double> etas(count, 0.0), previous_loss(count, 0.0);
  size_t remaining = count;
  // What train() returns when it stops at `step` with `net` and its loss: the gradient norm is that
  // of the returned parameters (the back end's gradient, which a lane reproduces bit for bit).
  const auto finish = [&](size_t m, Outcome outcome, std::int64_t step, double loss, ShallowReluNet net) {
    TrainResult& result = results[m];
    Vec grad;
    univariate->loss_and_grad(net, data, {}, &grad);
    const double norm = grad.norm();
    result.final_grad_norm = std::isfinite(norm) ? norm : std::numeric_limits<double>::quiet_NaN();
    result.net = std::move(net);
    result.outcome = outcome;
    result.steps = step;
    result.final_loss = loss;
    result.switch_step = rules[m].switch_step();
    done[m] = 1;
    etas[m] = 0.0;  // a stopped lane rides along without moving
    --remaining;
  };
  for (std::int64_t step = 0; remaining > 0; ++step) {
    lanes.evaluate();
    for (size_t m = 0; m < count; ++m) {
      if (done[m] != 0) continue;
      const double loss = lanes.losses()[m];
      const auto lane = static_cast<Index>(m);
      switch (rules[m].judge(step, loss, 0.0)) {
        case detail::StepRules::Verdict::Diverged: {
          ShallowReluNet net = lanes.net(lane);
          // theta_0 is finite (validated), so a step back exists whenever theta_t is not finite.
          if (net.theta().allFinite()) {
            finish(m, Outcome::Diverged, step, loss, std::move(net));
          } else {
            finish(m, Outcome::Diverged, step - 1, previous_loss[m], lanes.previous_net(lane));
          }
          break;
        }
        case detail::StepRules::Verdict::Converged:
          finish(m, Outcome::Converged, step, loss, lanes.net(lane));
          break;
        case detail::StepRules::Verdict::MaxSteps:
          finish(m, Outcome::MaxSteps, step, loss, lanes.net(lane));
          break;
        case detail::StepRules::Verdict::Step:
          etas[m] = rules[m].eta();
          previous_loss[m] = loss;
          break;
      }
    }
    if (remaining > 0) lanes.descend(etas);
  }
  return results;
}

}  // namespace relustab
