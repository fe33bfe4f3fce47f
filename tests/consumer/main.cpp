// SPDX-License-Identifier: MIT
// Consumer of an installed relustab: trains a small univariate ReLU net and checks the library's
// numbers against oracles computed here (the loss by a loop over the data; the sharpness against
// Eigen's dense symmetric eigensolver on the Hessian matrix), then the same run through the run API
// (relustab::run). Exits non-zero when a check fails.
#include <relustab/relustab.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <variant>

namespace {

int failures = 0;

void check(bool ok, const char* what, double got, double want) {
  std::printf("%-48s %s  (%.17g vs %.17g)\n", what, ok ? "ok" : "FAILED", got, want);
  if (!ok) ++failures;
}

/// 1/(2n) sum_j (f(x_j) - y_j)^2 with f written out from the parameter layout [w1, b1, w2, b2].
double loss_by_hand(const relustab::ShallowReluNet& net, const relustab::Dataset& data) {
  const relustab::Index k = net.width();
  const relustab::Vec& theta = net.theta();
  double sum = 0.0;
  for (relustab::Index j = 0; j < data.n(); ++j) {
    double f = theta[3 * k];
    for (relustab::Index i = 0; i < k; ++i) {
      f += theta[2 * k + i] * std::max(0.0, theta[i] * data.X(j, 0) + theta[k + i]);
    }
    const double r = f - data.y[j];
    sum += r * r;
  }
  return sum / (2.0 * static_cast<double>(data.n()));
}

}  // namespace

int main() {
  try {
    // 24 points on [-1, 1] (none at 0, where every bias-free kink would sit), target |x| + x^2 / 2.
    relustab::Dataset data;
    const relustab::Index n = 24;
    data.X.resize(n, 1);
    data.y.resize(n);
    for (relustab::Index j = 0; j < n; ++j) {
      const double x = -1.0 + 2.0 * (static_cast<double>(j) + 0.5) / static_cast<double>(n);
      data.X(j, 0) = x;
      data.y[j] = std::abs(x) + 0.5 * x * x;
    }

    const relustab::Index width = 8;
    relustab::ShallowReluNet net(1, width);
    relustab::Rng rng(7);
    for (relustab::Index p = 0; p < net.n_params(); ++p) net.theta()[p] = rng.uniform(-1.0, 1.0);

    const auto backend = relustab::make_backend("cpu");
    relustab::TrainOptions options;
    options.schedule.eta = 0.05;
    options.stop.max_steps = 3000;
    options.stop.loss_tol = 0.0;  // run every step
    const double initial_loss = loss_by_hand(net, data);
    const relustab::TrainResult trained = relustab::train(*backend, net, data, options);

    const double final_loss = loss_by_hand(trained.net, data);
    check(trained.steps == options.stop.max_steps, "train: every step taken",
          static_cast<double>(trained.steps), static_cast<double>(options.stop.max_steps));
    check(final_loss < 0.5 * initial_loss, "train: loss at most half the initial loss", final_loss,
          initial_loss);
    check(std::abs(trained.final_loss - final_loss) <= 1e-12 * final_loss,
          "train: final_loss equals the loop over the data", trained.final_loss, final_loss);
    const double backend_loss = backend->loss_and_grad(trained.net, data, {}, nullptr);
    check(std::abs(backend_loss - final_loss) <= 1e-12 * final_loss,
          "backend: loss equals the loop over the data", backend_loss, final_loss);

    const relustab::EigenResult sharp = relustab::sharpness(*backend, trained.net, data);
    const relustab::Matrix hessian =
        backend->dense_curvature(trained.net, data, relustab::CurvatureKind::Hessian);
    const Eigen::SelfAdjointEigenSolver<relustab::Matrix> solver(hessian, Eigen::EigenvaluesOnly);
    const double largest = solver.eigenvalues().maxCoeff();
    check(sharp.residual <= 1e-8 * std::max(1.0, std::abs(sharp.value)),
          "sharpness: residual small", sharp.residual, 1e-8 * std::max(1.0, std::abs(sharp.value)));
    check(std::abs(sharp.value - largest) <= 1e-9 * std::max(1.0, std::abs(largest)),
          "sharpness: largest eigenvalue of the dense Hessian", sharp.value, largest);

    // The run API: the same data and initial net through run(), with its analysis. The trained net
    // must be the trainer's bit for bit, and the report's sharpness the dense Hessian's.
    relustab::RunConfig config;
    config.data_file = "given";  // the data come in RunInputs
    config.width = width;
    config.eta = options.schedule.eta;
    config.max_steps = options.stop.max_steps;
    config.loss_tol = 0.0;
    config.backend = "cpu";
    relustab::RunInputs inputs;
    inputs.data = data;
    inputs.initial_net = net;
    const relustab::RunOutput output = relustab::run(config, inputs);
    const auto& run_net = std::get<relustab::ShallowReluNet>(output.net);
    check(run_net.theta() == trained.net.theta(), "run(): the trainer's net bit for bit",
          run_net.theta().norm(), trained.net.theta().norm());
    check(output.report.has_value() && output.report->sharpness.value == sharp.value,
          "run(): the report's sharpness", output.report ? output.report->sharpness.value : -1.0,
          sharp.value);
    const relustab::Metrics metrics = relustab::run_metrics(output);  // find_metric points into it
    const relustab::MetricValue* stable = relustab::find_metric(metrics, "stable");
    const bool stable_by_hand = largest <= 2.0 / config.eta;
    check(stable != nullptr && std::get<bool>(*stable) == stable_by_hand,
          "run_metrics(): 'stable' is sharpness <= 2/eta", stable_by_hand ? 1.0 : 0.0,
          2.0 / config.eta);

    // relustab::experiment links too: the parameter table is not empty.
    check(!relustab::run_parameters().empty(), "experiment: run_parameters() not empty",
          static_cast<double>(relustab::run_parameters().size()), 1.0);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "relustab_consumer: %s\n", error.what());
    return 1;
  }
  std::printf("%s\n", failures == 0 ? "relustab_consumer: all checks passed" : "relustab_consumer: FAILED");
  return failures == 0 ? 0 : 1;
}
