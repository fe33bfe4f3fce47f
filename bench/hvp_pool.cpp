// SPDX-License-Identifier: MIT
// Google Benchmark: one exact Hessian-vector product of the CPU reference back end on a multivariate
// net, with the threads started per parallel loop (as block_reduce did before the persistent pool:
// a RunContext whose pool slot is reset makes a new pool for every loop) against the persistent
// ThreadPool of a RunContext. Both run in one process, so their ratio is measured under the same
// load. BM_Sharpness times sharpness() with the restarted and the unrestarted Lanczos.
//
//   build/release/bench/relustab_bench_hvp_pool --benchmark_repetitions=5
#include "workload_setup.h"

#include <relustab/backend/backend.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/curvature.h>

#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>

namespace relustab::bench {
namespace {

struct Problem {
  ShallowReluNet net;
  Dataset data;
  Vec direction;
};

/// n samples x ~ N(0, I_d), targets N(0, 1), a net of width k with N(0, 1/d) first-layer weights.
Problem make_problem(Index n, Index d, Index k) {
  Rng rng(11);
  Problem p{ShallowReluNet(d, k), Dataset{}, Vec()};
  for (Index i = 0; i < p.net.n_params(); ++i) p.net.theta()[i] = rng.normal(0.0, 1.0 / std::sqrt(double(d)));
  p.data.X.resize(n, d);
  p.data.y.resize(n);
  for (Index j = 0; j < n; ++j) {
    for (Index c = 0; c < d; ++c) p.data.X(j, c) = rng.normal();
    p.data.y[j] = rng.normal();
  }
  p.direction.resize(p.net.n_params());
  for (Index i = 0; i < p.direction.size(); ++i) p.direction[i] = rng.normal();
  p.direction.normalize();
  return p;
}

void run(benchmark::State& state, bool persistent) {
  const Problem p = make_problem(state.range(0), state.range(1), state.range(2));
  RunContext context{static_cast<int>(state.range(3))};
  if (!persistent) context.slot.reset();  // no shared slot: every parallel loop starts its threads
  const auto backend = make_backend("cpu", context);
  const auto op = backend->curvature(p.net, p.data, CurvatureKind::Hessian);
  Vec out;
  for (auto _ : state) {
    op->apply(p.direction, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["P"] = static_cast<double>(p.net.n_params());
}

void BM_HvpThreadsPerLoop(benchmark::State& state) { run(state, false); }
void BM_HvpPersistentPool(benchmark::State& state) { run(state, true); }

// {n, d, k, threads}: 2 and 4 blocks of samples; P = 769 and 8705.
#define RELUSTAB_HVP_ARGS ->Args({512, 10, 64, 2})->Args({1024, 32, 256, 2})->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_HvpThreadsPerLoop) RELUSTAB_HVP_ARGS;
BENCHMARK(BM_HvpPersistentPool) RELUSTAB_HVP_ARGS;

/// One sharpness() evaluation (Lanczos, tol 1e-10) with the default basis (thick restarts when it
/// fills) and with a basis of max_iter = 300 vectors, which never restarts: the Lanczos of before
/// the restarts, for the cost of restarting on today's callers. Arguments {problem, max_basis}:
/// problem 0 = W2 (n = k = 1024) on the CPU reference back end, 1 = W2 on the sorted-knot back end,
/// 2 = the multivariate net above (n = 1024, d = 32, k = 256).
void BM_Sharpness(benchmark::State& state) {
  const Index problem = state.range(0);
  Problem p = problem == 2 ? make_problem(1024, 32, 256)
                           : Problem{workload_net(1024), workload_dataset(1024), Vec()};
  const auto backend = make_backend(problem == 1 ? "univariate" : "cpu");
  SharpnessOptions options;
  options.dense_max = 0;
  options.lanczos.max_basis = static_cast<int>(state.range(1));
  EigenResult result;
  for (auto _ : state) {
    result = sharpness(*backend, p.net, p.data, options);
    benchmark::DoNotOptimize(result.value);
  }
  if (!result.converged) state.SkipWithError("sharpness did not converge");
  state.counters["products"] = result.iterations;
  state.counters["restarts"] = result.restarts;
}
BENCHMARK(BM_Sharpness)
    ->ArgsProduct({{0, 1, 2}, {40, 300}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace relustab::bench

BENCHMARK_MAIN();
