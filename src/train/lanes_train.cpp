// SPDX-License-Identifier: MIT
// train_in_lanes: train()'s contract for many univariate nets on one data set, stepped together as the
// SIMD lanes of GdLanes.
#include <relustab/train/lanes_train.h>
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
  const bool same_data = member.data == first.data ||
                         (member.data->X == first.data->X && member.data->y == first.data->y &&
                          member.data->y_clean == first.data->y_clean);
  return same_data && options.optimizer == Optimizer::GD && options.loss == Loss::HalfMse &&
         options.stop.grad_tol == 0.0 && member.net->theta().allFinite();
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
                "without grad_tol, on the data and with the width of member 0");
  }
  const Dataset& data = *members.front().data;
  const size_t count = members.size();
  const auto univariate = make_backend("univariate");
  std::vector<ShallowReluNet> nets;
  std::vector<detail::StepRules> rules;
  std::vector<detail::LogSchedule> log_schedules;
  std::vector<detail::LogRowMaker<ShallowReluNet>> row_makers;
  nets.reserve(count);
  rules.reserve(count);
  log_schedules.reserve(count);
  row_makers.reserve(count);
  for (const BatchMember& member : members) {
    nets.push_back(*member.net);
    rules.emplace_back(member.options);
    log_schedules.emplace_back(member.options);
    row_makers.emplace_back(*univariate, data, member.options);
  }
  GdLanes<double> lanes(nets, data);
  nets.clear();

  std::vector<TrainResult> results(count);
  std::vector<char> done(count, 0);
  std::vector<double> etas(count, 0.0), previous_loss(count, 0.0), previous_eta(count, 0.0);
  size_t remaining = count;
  // ||grad L(net)|| by the back end (whose gradient a lane reproduces bit for bit), NaN when not finite.
  const auto grad_norm = [&](const ShallowReluNet& net) {
    Vec grad;
    univariate->loss_and_grad(net, data, {}, &grad);
    const double norm = grad.norm();
    return std::isfinite(norm) ? norm : std::numeric_limits<double>::quiet_NaN();
  };
  // train()'s log row of member m at `step` (with the rows' own warm-started sharpness).
  const auto log_row = [&](size_t m, const ShallowReluNet& net, std::int64_t step, double eta, double loss) {
    results[m].log.push_back(row_makers[m].make(net, step, eta, loss, grad_norm(net)));
  };
  // What train() returns when it stops at `step` with `net`, its step size and loss: the final row
  // unless that step has one, and the gradient norm of the returned parameters.
  const auto finish = [&](size_t m, Outcome outcome, std::int64_t step, double eta, double loss,
                          ShallowReluNet net) {
    TrainResult& result = results[m];
    if (log_schedules[m].logging() && (result.log.empty() || result.log.back().step != step)) {
      log_row(m, net, step, eta, loss);
    }
    result.final_grad_norm = grad_norm(net);
    result.net = std::move(net);
    result.outcome = outcome;
    result.steps = step;
    result.final_loss = loss;
    result.switch_step = rules[m].switch_step();
    done[m] = 1;
    etas[m] = 0.0;  // a stopped lane rides along without moving until it is dropped
    --remaining;
  };
  std::vector<size_t> member_of_lane(count);  // lanes are compacted as members stop
  for (size_t m = 0; m < count; ++m) member_of_lane[m] = m;
  std::vector<double> lane_etas(count, 0.0);
  for (std::int64_t step = 0; remaining > 0; ++step) {
    lanes.evaluate();
    for (size_t l = 0; l < member_of_lane.size(); ++l) {
      const size_t m = member_of_lane[l];
      if (done[m] != 0) continue;
      const double loss = lanes.losses()[l];
      const auto lane = static_cast<Index>(l);
      switch (rules[m].judge(step, loss, 0.0)) {
        case detail::StepRules::Verdict::Diverged: {
          ShallowReluNet net = lanes.net(lane);
          // theta_0 is finite (validated), so a step back exists whenever theta_t is not finite.
          if (net.theta().allFinite()) {
            finish(m, Outcome::Diverged, step, rules[m].eta(), loss, std::move(net));
          } else {
            finish(m, Outcome::Diverged, step - 1, previous_eta[m], previous_loss[m], lanes.previous_net(lane));
          }
          break;
        }
        case detail::StepRules::Verdict::Converged:
          finish(m, Outcome::Converged, step, rules[m].eta(), loss, lanes.net(lane));
          break;
        case detail::StepRules::Verdict::MaxSteps:
          finish(m, Outcome::MaxSteps, step, rules[m].eta(), loss, lanes.net(lane));
          break;
        case detail::StepRules::Verdict::Step:
          etas[m] = rules[m].eta();
          if (log_schedules[m].due(step)) log_row(m, lanes.net(lane), step, etas[m], loss);
          previous_loss[m] = loss;
          previous_eta[m] = etas[m];
          break;
      }
    }
    if (remaining == 0) break;
    // Once half the lanes have stopped, drop them: a long run among short ones then costs at most
    // twice its own steps.
    if (2 * remaining <= member_of_lane.size()) {
      std::vector<Index> kept;
      std::vector<size_t> kept_members;
      for (size_t l = 0; l < member_of_lane.size(); ++l) {
        if (done[member_of_lane[l]] != 0) continue;
        kept.push_back(static_cast<Index>(l));
        kept_members.push_back(member_of_lane[l]);
      }
      lanes.keep(kept);
      lanes.evaluate();  // the kept lanes' point again, in the new layout (the same bits)
      member_of_lane = std::move(kept_members);
    }
    lane_etas.resize(member_of_lane.size());
    for (size_t l = 0; l < member_of_lane.size(); ++l) lane_etas[l] = etas[member_of_lane[l]];
    lanes.descend(lane_etas);
  }
  return results;
}

}  // namespace relustab
