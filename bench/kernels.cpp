// SPDX-License-Identifier: MIT
// Google Benchmark of the engine's kernels for every back end compiled in (backend_names()), at the
// sizes of W1 (n = 30, k = 100) and W2 (n = k = 1024): full-batch loss and gradient, one exact
// Hessian-vector product, one sharpness evaluation (its residual checked), and train() steps.
// A back end that rejects an input (throws) is skipped for it, with a note on stderr.
//
//   build/bench-release/bench/relustab_bench_kernels --benchmark_filter=W1
#include "workload_setup.h"

#include <relustab/backend/backend.h>
#include <relustab/curvature/curvature.h>
#include <relustab/train/trainer.h>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace relustab::bench {
namespace {

/// Relative residual a sharpness evaluation must reach to count (workload W3).
constexpr double kRelativeResidual = 1e-9;

struct Problem {
  std::string label;          ///< "W1" or "W2"
  Dataset data;
  ShallowReluNet net;
  Vec direction;              ///< a fixed unit vector for the Hessian-vector product
  std::int64_t train_steps;   ///< GD steps per benchmark iteration
};

Problem make_problem(const std::string& label, Index n, Index k, std::int64_t train_steps) {
  Problem problem{label, workload_dataset(n), workload_net(k), Vec(), train_steps};
  Rng rng(7);
  problem.direction.resize(problem.net.n_params());
  for (Index p = 0; p < problem.direction.size(); ++p) problem.direction[p] = rng.normal();
  problem.direction.normalize();
  return problem;
}

void register_for(const std::string& backend_name, const std::shared_ptr<const Problem>& problem) {
  std::shared_ptr<const Backend> backend;
  try {
    backend = make_backend(backend_name);
    Vec grad;
    backend->loss_and_grad(problem->net, problem->data, {}, &grad);
    backend->curvature(problem->net, problem->data, CurvatureKind::Hessian);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "relustab_bench_kernels: skipping back end '%s' at %s: %s\n",
                 backend_name.c_str(), problem->label.c_str(), error.what());
    return;
  }
  const std::string suffix = "/" + backend_name + "/" + problem->label;

  benchmark::RegisterBenchmark(("loss_and_grad" + suffix).c_str(), [backend, problem](benchmark::State& state) {
    Vec grad;
    for (auto _ : state) {
      const double loss = backend->loss_and_grad(problem->net, problem->data, {}, &grad);
      benchmark::DoNotOptimize(loss);
      benchmark::DoNotOptimize(grad.data());
    }
  })->Unit(benchmark::kMicrosecond);

  // The operator's set-up (activations, residuals) is done once, as in Lanczos; the loop times apply().
  benchmark::RegisterBenchmark(("hvp" + suffix).c_str(), [backend, problem](benchmark::State& state) {
    const auto hessian = backend->curvature(problem->net, problem->data, CurvatureKind::Hessian);
    Vec out;
    for (auto _ : state) {
      hessian->apply(problem->direction, out);
      benchmark::DoNotOptimize(out.data());
    }
  })->Unit(benchmark::kMicrosecond);

  benchmark::RegisterBenchmark(("sharpness" + suffix).c_str(), [backend, problem](benchmark::State& state) {
    EigenResult result;
    for (auto _ : state) {
      result = sharpness(*backend, problem->net, problem->data);
      benchmark::DoNotOptimize(result.value);
    }
    const double relative = result.residual / std::abs(result.value);
    if (!(relative <= kRelativeResidual)) {
      state.SkipWithError("sharpness residual above 1e-9 relative");
      return;
    }
    state.counters["lambda_max"] = result.value;
    state.counters["rel_residual"] = relative;
  })->Unit(benchmark::kMicrosecond);

  benchmark::RegisterBenchmark(("train" + suffix).c_str(), [backend, problem](benchmark::State& state) {
    TrainOptions options;
    options.schedule.eta = kWorkloadEta;
    options.stop.max_steps = problem->train_steps;
    options.stop.loss_tol = 0.0;  // never converges: exactly train_steps steps
    options.log_every = 0;
    options.log_sharpness = false;
    for (auto _ : state) {
      const TrainResult result = train(*backend, problem->net, problem->data, options);
      if (result.steps != problem->train_steps) {
        state.SkipWithError("train() did not take the steps asked for");
        break;
      }
      benchmark::DoNotOptimize(result.final_loss);
    }
    state.counters["net_steps/s"] = benchmark::Counter(static_cast<double>(problem->train_steps),
                                                       benchmark::Counter::kIsIterationInvariantRate);
  })->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace relustab::bench

int main(int argc, char** argv) {
  using namespace relustab::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  const std::vector<std::shared_ptr<const Problem>> problems = {
      std::make_shared<const Problem>(make_problem("W1", 30, 100, 1000)),
      std::make_shared<const Problem>(make_problem("W2", 1024, 1024, 10)),
  };
  for (const auto& name : relustab::backend_names()) {
    for (const auto& problem : problems) register_for(name, problem);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
