// SPDX-License-Identifier: MIT
// relustab_workloads: the workloads W1, W2, W3 of bench/README.md and the batched W1, timed through the
// library's public API, one line each in the style of the peers' scripts (bench/peers/), e.g.
//   relustab-univariate W1 float64: 1,234,567 net-steps/s (n=30 k=100, 1 thread, ...)
// bench/compare.sh runs it beside the peers and parses the number before the unit.
//
// Exit codes: 0 measured, 1 a check failed (steps not taken, residual too large), 2 bad arguments,
// 3 the workload is not available in this build.
#include "workload_setup.h"

#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/spectrum.h>
#include <relustab/train/trainer.h>
#ifdef RELUSTAB_BENCH_HAVE_TRAIN_BATCH
#include <relustab/train/batched.h>
#include <relustab/train/lanes.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace relustab::bench {
namespace {

constexpr double kW3RelativeResidual = 1e-9;
constexpr int kExitCheckFailed = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitNotAvailable = 3;

struct Options {
  std::string workload = "W1";
  std::string backend;        ///< empty: "univariate" when compiled in, else "cpu"
  std::int64_t steps = 0;     ///< 0: chosen so that one timing lasts about min_time seconds
  Index nets = 64;            ///< W1-batched: number of nets
  int threads = 1;
  int repeat = 3;             ///< timings; the median is printed
  double min_time = 1.0;      ///< seconds per timing when steps is 0
  bool list_backends = false;
  std::string save;           ///< W3: write the problem and relustab's eigenpair here as JSON
  int probes = 0;             ///< W3-trace / W3-density: Rademacher probes (0: 100 / 10)
  int density_steps = 80;     ///< W3-density: Lanczos steps per probe
};

/// The probes of W3-trace and W3-density when --probes is not given: the peers' rows use the same.
constexpr int kDefaultTraceProbes = 100;
constexpr int kDefaultDensityProbes = 10;

/// A check of the harness that failed (exit code 1).
class CheckFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A workload this build cannot run (exit code 3).
class NotAvailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const char* kUsage =
    "usage: relustab_workloads [--workload W1|W2|W3|W3-trace|W3-density|W1-batched|W1-lanes|W1-lanes-f32]\n"
    "                          [--backend NAME] [--steps S] [--probes N] [--density-steps M]\n"
    "                          [--nets B] [--threads T] [--repeat R] [--min-time SECONDS]\n"
    "                          [--list-backends] [--save FILE]\n"
    "  W1: n=30, k=100 GD steps; W2: n=k=1024 GD steps; W3: sharpness of the W1 net at its random\n"
    "  init (relative residual <= 1e-9 asserted); W3-trace: Hutchinson's trace of the same Hessian\n"
    "  with N Rademacher probes (default 100); W3-density: its spectral density by stochastic Lanczos\n"
    "  quadrature, N probes (default 10) x M Lanczos steps (default 80); each evaluation builds the\n"
    "  Hessian operator, as W3 does. W1-batched: B W1 nets, etas logspace(-3, 0),\n"
    "  through train_batch on T threads; W1-lanes (-f32): the same B nets as SIMD lanes of GdLanes,\n"
    "  float64 (float32), one thread. Prints the median of R timings. --steps 0 (default) picks\n"
    "  the step count (W3: evaluation count) so that one timing lasts about --min-time seconds.\n"
    "  --save FILE (W3): writes the data, the net and relustab's eigenpair as JSON, so that the\n"
    "  curvature peers (bench/peers/curvature_w3.py) compute the sharpness of the very same problem.\n";

std::int64_t parse_integer(const std::string& flag, const std::string& text, std::int64_t min) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used == text.size() && value >= min,
          flag + ": expected an integer >= " + std::to_string(min) + ", got '" + text + "'");
  return value;
}

double parse_seconds(const std::string& flag, const std::string& text) {
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used == text.size() && std::isfinite(value) && value > 0.0,
          flag + ": expected a number of seconds > 0, got '" + text + "'");
  return value;
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (flag == "--list-backends") {
      options.list_backends = true;
      continue;
    }
    require(i + 1 < argc, flag + ": expected a value after it (see --help)");
    const std::string value = argv[++i];
    if (flag == "--workload") {
      require(value == "W1" || value == "W2" || value == "W3" || value == "W3-trace" ||
                  value == "W3-density" || value == "W1-batched" || value == "W1-lanes" ||
                  value == "W1-lanes-f32",
              "--workload: expected W1, W2, W3, W3-trace, W3-density, W1-batched, W1-lanes or W1-lanes-f32, "
              "got '" + value + "'");
      options.workload = value;
    } else if (flag == "--backend") {
      options.backend = value;
    } else if (flag == "--steps") {
      options.steps = parse_integer(flag, value, 0);
    } else if (flag == "--nets") {
      options.nets = parse_integer(flag, value, 1);
    } else if (flag == "--threads") {
      options.threads = static_cast<int>(parse_integer(flag, value, 1));
    } else if (flag == "--repeat") {
      options.repeat = static_cast<int>(parse_integer(flag, value, 1));
    } else if (flag == "--probes") {
      options.probes = static_cast<int>(parse_integer(flag, value, 1));
    } else if (flag == "--density-steps") {
      options.density_steps = static_cast<int>(parse_integer(flag, value, 1));
    } else if (flag == "--save") {
      options.save = value;
    } else if (flag == "--min-time") {
      options.min_time = parse_seconds(flag, value);
    } else {
      throw InputError("unknown argument '" + flag + "' (see --help)");
    }
  }
  return options;
}

std::string default_backend() {
  for (const auto& name : backend_names()) {
    if (name == "univariate") return name;
  }
  return "cpu";
}

double seconds_of(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

/// 1234567.8 -> "1,234,568"; rates below 100 keep two decimals ("16.60").
std::string format_rate(double rate) {
  if (!(rate >= 100.0)) {
    char text[64];
    std::snprintf(text, sizeof text, "%.2f", rate);
    return text;
  }
  const std::string digits = std::to_string(static_cast<long long>(std::llround(rate)));
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

std::string threads_text(int threads) {
  return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

/// The step count of one timing: `fixed` when > 0, else the count that makes one call of `run_steps`
/// last about `min_time` seconds, found by growing runs (which also warm the caches).
std::int64_t calibrate_steps(std::int64_t fixed, double min_time,
                             const std::function<double(std::int64_t)>& run_steps) {
  if (fixed > 0) {
    run_steps(std::min<std::int64_t>(fixed, 64));  // warm-up
    return fixed;
  }
  std::int64_t steps = 8;
  for (;;) {
    const double seconds = run_steps(steps);
    if (seconds >= 0.1 * min_time || steps >= (std::int64_t{1} << 40)) {
      const double wanted = min_time / std::max(seconds, 1e-9) * static_cast<double>(steps);
      return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wanted)));
    }
    steps *= 4;
  }
}

/// Full-batch GD at a constant step size for exactly `steps` steps (loss_tol 0 never converges).
TrainOptions exact_gd_options(double eta, std::int64_t steps) {
  TrainOptions options;
  options.schedule.eta = eta;
  options.stop.max_steps = steps;
  options.stop.loss_tol = 0.0;
  options.log_every = 0;
  options.log_sharpness = false;
  return options;
}

void require_exact_steps(const TrainResult& result, std::int64_t steps, const std::string& what) {
  if (result.outcome != Outcome::MaxSteps || result.steps != steps) {
    throw CheckFailed(what + ": expected exactly " + std::to_string(steps) + " GD steps, got " +
                      std::to_string(result.steps) + " (outcome " +
                      std::string(outcome_name(result.outcome)) + ")");
  }
}

/// W1 (n = 30, k = 100) or W2 (n = k = 1024): network-steps per second of the library's train().
int run_single(const Options& options, Index n, Index k) {
  const std::string name = options.backend.empty() ? default_backend() : options.backend;
  const auto backend = make_backend(name, RunContext{options.threads});
  const Dataset data = workload_dataset(n);
  const ShallowReluNet net = workload_net(k);
  TrainResult last;
  const auto run_steps = [&](std::int64_t steps) {
    const double seconds = seconds_of([&] { last = train(*backend, net, data, exact_gd_options(kWorkloadEta, steps)); });
    require_exact_steps(last, steps, options.workload);
    return seconds;
  };
  const std::int64_t steps = calibrate_steps(options.steps, options.min_time, run_steps);
  std::vector<double> rates;
  for (int r = 0; r < options.repeat; ++r) rates.push_back(static_cast<double>(steps) / run_steps(steps));
  std::printf("relustab-%s %s float64: %s net-steps/s (n=%lld k=%lld, %s, %lld steps, eta %g, median of %d, "
              "final loss %.6g)\n",
              name.c_str(), options.workload.c_str(), format_rate(median(rates)).c_str(),
              static_cast<long long>(n), static_cast<long long>(k), threads_text(options.threads).c_str(),
              static_cast<long long>(steps), kWorkloadEta, options.repeat, last.final_loss);
  return 0;
}

/// Writes `values` as a JSON array with every digit a double needs to round-trip.
void write_array(std::ofstream& out, const char* name, const double* values, Index count) {
  out << '"' << name << "\":[";
  for (Index i = 0; i < count; ++i) out << (i ? "," : "") << values[i];
  out << "]";
}

/// The W3 problem (half-MSE loss, relustab's parameter order W1, b1, w2, b2) and the eigenpair
/// relustab found, for the peers that must work on the same net and data.
void save_w3(const std::string& path, const std::string& backend, const ShallowReluNet& net,
             const Dataset& data, const EigenResult& result) {
  std::ofstream out(path);
  out.precision(17);
  out << "{\"workload\":\"W3\",\"loss\":\"half_mse\",\"backend\":\"" << backend << "\",\"n\":"
      << data.X.rows() << ",\"k\":" << net.W1().rows() << ",\"params\":" << net.n_params() << ",";
  write_array(out, "x", data.X.data(), data.X.size());
  out << ",";
  write_array(out, "y", data.y.data(), data.y.size());
  out << ",";
  write_array(out, "w1", net.W1().data(), net.W1().size());
  out << ",";
  write_array(out, "b1", net.b1().data(), net.b1().size());
  out << ",";
  write_array(out, "w2", net.w2().data(), net.w2().size());
  out << ",\"b2\":" << net.b2() << ",\"sharpness\":" << result.value << ",\"residual\":" << result.residual
      << ",";
  write_array(out, "vector", result.vector.data(), result.vector.size());
  out << "}\n";
  if (!out) throw CheckFailed(path + ": cannot write");
}

/// W3: sharpness evaluations per second of the W1 net at its random initialisation, each with its
/// residual checked against kW3RelativeResidual.
int run_sharpness(const Options& options) {
  const std::string name = options.backend.empty() ? default_backend() : options.backend;
  const auto backend = make_backend(name, RunContext{options.threads});
  const Dataset data = workload_dataset(30);
  const ShallowReluNet net = workload_net(100);
  EigenResult last;
  const auto run_evaluations = [&](std::int64_t count) {
    return seconds_of([&] {
      for (std::int64_t e = 0; e < count; ++e) {
        last = sharpness(*backend, net, data);
        const double relative = last.residual / std::abs(last.value);
        if (!(relative <= kW3RelativeResidual)) {
          char message[200];
          std::snprintf(message, sizeof message,
                        "W3: sharpness %.12g has relative residual %.3g, expected <= %g", last.value,
                        relative, kW3RelativeResidual);
          throw CheckFailed(message);
        }
      }
    });
  };
  const std::int64_t count = calibrate_steps(options.steps, options.min_time, run_evaluations);
  std::vector<double> rates;
  for (int r = 0; r < options.repeat; ++r) {
    rates.push_back(static_cast<double>(count) / run_evaluations(count));
  }
  std::printf("relustab-%s W3 float64: %s evals/s (n=30 k=100, %lld parameters, %s, %lld evals, median of "
              "%d, lambda_max=%.10g, residual %.3g, relative residual %.3g <= %g, %s)\n",
              name.c_str(), format_rate(median(rates)).c_str(), static_cast<long long>(net.n_params()),
              threads_text(options.threads).c_str(), static_cast<long long>(count), options.repeat,
              last.value, last.residual, last.residual / std::abs(last.value), kW3RelativeResidual,
              last.converged ? "converged" : "NOT converged");
  if (!options.save.empty()) save_w3(options.save, name, net, data, last);
  return 0;
}

/// W3-trace and W3-density: Hutchinson's trace, or the spectral density by stochastic Lanczos quadrature,
/// of the W3 Hessian (the W1 net at its random initialisation) per second, through the library's
/// spectrum.h on the back end's Hessian operator, built anew for every evaluation (as the peers build
/// theirs). Prints the estimate (trace and standard error; the density's mass, mean and second moment,
/// which estimate 1, trace / P and ||H||_F^2 / P) so that the table can judge its accuracy.
int run_spectrum(const Options& options) {
  const bool trace = options.workload == "W3-trace";
  const std::string name = options.backend.empty() ? default_backend() : options.backend;
  const auto backend = make_backend(name, RunContext{options.threads});
  const Dataset data = workload_dataset(30);
  const ShallowReluNet net = workload_net(100);
  TraceOptions trace_options;
  trace_options.samples = options.probes > 0 ? options.probes : kDefaultTraceProbes;
  DensityOptions density_options;
  density_options.probes = options.probes > 0 ? options.probes : kDefaultDensityProbes;
  density_options.steps = options.density_steps;
  TraceEstimate last_trace;
  SpectralDensity last_density;
  const auto run_evaluations = [&](std::int64_t count) {
    return seconds_of([&] {
      for (std::int64_t e = 0; e < count; ++e) {
        const auto hessian = backend->curvature(net, data, CurvatureKind::Hessian);
        if (trace) {
          last_trace = hutchinson_trace(*hessian, trace_options);
        } else {
          last_density = spectral_density(*hessian, density_options);
        }
      }
    });
  };
  const std::int64_t count = calibrate_steps(options.steps, options.min_time, run_evaluations);
  std::vector<double> rates;
  for (int r = 0; r < options.repeat; ++r) {
    rates.push_back(static_cast<double>(count) / run_evaluations(count));
  }
  std::printf("relustab-%s %s float64: %s evals/s (n=30 k=100, %lld parameters, %s, %lld evals, median of %d, ",
              name.c_str(), options.workload.c_str(), format_rate(median(rates)).c_str(),
              static_cast<long long>(net.n_params()), threads_text(options.threads).c_str(),
              static_cast<long long>(count), options.repeat);
  if (trace) {
    std::printf("probes=%d hvps=%d trace=%.12g stderr=%.6g)\n", last_trace.samples, last_trace.samples,
                last_trace.value, last_trace.standard_error);
    return 0;
  }
  double mass = 0.0, mean = 0.0, second = 0.0;
  for (std::size_t i = 0; i < last_density.nodes.size(); ++i) {
    const double w = last_density.weights[i], x = last_density.nodes[i];
    mass += w;
    mean += w * x;
    second += w * x * x;
  }
  int hvps = 0;
  for (const int steps : last_density.probe_steps) hvps += steps;
  std::printf("probes=%d steps=%d hvps=%d nodes=%zu mass=%.15g mean=%.12g second_moment=%.12g)\n",
              last_density.probes, last_density.steps, hvps, last_density.nodes.size(), mass, mean, second);
  return 0;
}

/// W1-batched: B W1 nets (different initialisations, etas logspace(-3, 0)) through train_batch on
/// `threads` workers; network-steps per second counts the steps every member actually took.
int run_batched(const Options& options) {
#ifdef RELUSTAB_BENCH_HAVE_TRAIN_BATCH
  const Index count = options.nets;
  const Dataset data = workload_dataset(30);
  std::vector<ShallowReluNet> nets;
  for (Index i = 0; i < count; ++i) nets.push_back(workload_net(100, static_cast<std::uint64_t>(i)));
  std::int64_t taken = 0;
  std::int64_t diverged = 0;
  const auto run_steps = [&](std::int64_t steps) {
    std::vector<BatchMember> members(static_cast<std::size_t>(count));
    for (Index i = 0; i < count; ++i) {
      auto& member = members[static_cast<std::size_t>(i)];
      member.net = &nets[static_cast<std::size_t>(i)];
      member.data = &data;
      member.options = exact_gd_options(batched_eta(i, count), steps);
    }
    std::vector<TrainResult> results;
    const double seconds = seconds_of([&] { results = train_batch(members, options.threads); });
    taken = 0;
    diverged = 0;
    for (const auto& result : results) {
      // A diverged member stops early; the others must run to the end.
      if (result.outcome == Outcome::Diverged) {
        ++diverged;
      } else {
        require_exact_steps(result, steps, "W1-batched");
      }
      taken += result.steps;
    }
    if (results.size() != members.size()) throw CheckFailed("W1-batched: train_batch lost members");
    return seconds;
  };
  const std::int64_t steps = calibrate_steps(options.steps, options.min_time, run_steps);
  std::vector<double> rates;
  for (int r = 0; r < options.repeat; ++r) {
    const double seconds = run_steps(steps);
    rates.push_back(static_cast<double>(taken) / seconds);
  }
  std::printf("relustab-batched B=%lld W1 float64: %s net-steps/s (n=30 k=100, %s, %lld steps per net, etas "
              "logspace(-3, 0), median of %d, %lld of %lld diverged)\n",
              static_cast<long long>(count), format_rate(median(rates)).c_str(),
              threads_text(options.threads).c_str(), static_cast<long long>(steps), options.repeat,
              static_cast<long long>(diverged), static_cast<long long>(count));
  return 0;
#else
  (void)options;
  throw NotAvailable("W1-batched: train_batch (relustab/train/batched.h) is not built into the library yet");
#endif
}

/// W1-lanes: the B nets of W1-batched (same initialisations and etas) as the SIMD lanes of GdLanes,
/// in float64 or float32, on one thread; network-steps per second counts B x steps (every lane
/// computes every step, as a vmapped peer does; a diverged lane is counted and reported).
template <class Real>
int run_lanes(const Options& options, const char* precision) {
  const Index count = options.nets;
  const Dataset data = workload_dataset(30);
  std::vector<ShallowReluNet> nets;
  std::vector<double> etas;
  for (Index i = 0; i < count; ++i) {
    nets.push_back(workload_net(100, static_cast<std::uint64_t>(i)));
    etas.push_back(batched_eta(i, count));
  }
  std::int64_t diverged = 0;
  const auto run_steps = [&](std::int64_t steps) {
    GdLanes<Real> lanes(nets, data);
    const double seconds = seconds_of([&] {
      for (std::int64_t s = 0; s < steps; ++s) lanes.step(etas);
    });
    diverged = 0;
    for (const Real loss : lanes.losses()) diverged += std::isfinite(static_cast<double>(loss)) ? 0 : 1;
    return seconds;
  };
  const std::int64_t steps = calibrate_steps(options.steps, options.min_time, run_steps);
  std::vector<double> rates;
  for (int r = 0; r < options.repeat; ++r) {
    rates.push_back(static_cast<double>(steps * count) / run_steps(steps));
  }
  std::printf("relustab-lanes B=%lld W1 %s: %s net-steps/s (n=30 k=100, 1 thread, %lld steps per net, etas "
              "logspace(-3, 0), median of %d, %lld of %lld diverged)\n",
              static_cast<long long>(count), precision, format_rate(median(rates)).c_str(),
              static_cast<long long>(steps), options.repeat, static_cast<long long>(diverged),
              static_cast<long long>(count));
  return 0;
}

int run(const Options& options) {
  if (options.list_backends) {
    for (const auto& name : backend_names()) std::printf("%s\n", name.c_str());
    return 0;
  }
  require(options.save.empty() || options.workload == "W3", "--save: only with --workload W3");
  require(options.probes == 0 || options.workload == "W3-trace" || options.workload == "W3-density",
          "--probes: only with --workload W3-trace or W3-density");
  if (options.workload == "W1") return run_single(options, 30, 100);
  if (options.workload == "W2") return run_single(options, 1024, 1024);
  if (options.workload == "W3") return run_sharpness(options);
  if (options.workload == "W3-trace" || options.workload == "W3-density") return run_spectrum(options);
  if (options.workload == "W1-lanes") return run_lanes<double>(options, "float64");
  if (options.workload == "W1-lanes-f32") return run_lanes<float>(options, "float32");
  return run_batched(options);
}

}  // namespace
}  // namespace relustab::bench

int main(int argc, char** argv) {
  using namespace relustab::bench;
  try {
    return run(parse_options(argc, argv));
  } catch (const relustab::InputError& error) {
    std::fprintf(stderr, "relustab_workloads: %s\n", error.what());
    return kExitBadInput;
  } catch (const NotAvailable& error) {
    std::fprintf(stderr, "relustab_workloads: not available: %s\n", error.what());
    return kExitNotAvailable;
  } catch (const CheckFailed& error) {
    std::fprintf(stderr, "relustab_workloads: check failed: %s\n", error.what());
    return kExitCheckFailed;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "relustab_workloads: error: %s\n", error.what());
    return kExitCheckFailed;
  }
}
