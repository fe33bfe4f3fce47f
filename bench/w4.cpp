// SPDX-License-Identifier: MIT
// W4 of bench/README.md: a two-layer ReLU net with d = 784 inputs and width 1000 (~786k parameters) on
// n = 1000 inputs in [0,1]^784 with labels +-1 (the shape of 1000 Fashion-MNIST images of two classes,
// and of the PyTorch peer bench/peers/torch_w4_sharpness.py), float64. Times, for each thread count:
// one full-batch GD step (loss_and_grad and the update), one exact Hessian-vector product, and one
// sharpness evaluation (Lanczos on the exact HVP) with its residual and HVP count. Checks that every
// result is bit-identical across the thread counts.
//
// Usage: relustab_w4 [--threads 1,2] [--repeat 3] [--tol 1e-9] [--seed 0] [--n 1000] [--d 784]
//                    [--width 1000] [--fashion-mnist] [--max-basis 40] [--save DIR] [--json FILE]
//                    [--trace-samples S] [--density-probes N --density-steps M]
//   --trace-samples  also times Hutchinson's trace of the Hessian with S Rademacher probes (W4-trace)
//   --density-probes, --density-steps  also times the spectral density by stochastic Lanczos
//                quadrature, N probes x M Lanczos steps (W4-density); both print their estimates
//   --fashion-mnist  the inputs are n Fashion-MNIST training images of classes 0 (y = +1) and 1
//                (y = -1), pixels / 255 (n = 12000: both classes in full, paper 3's size), instead of
//                random ones; d is 784. The net is drawn as for random inputs.
//   --max-basis  Lanczos basis cap (memory: max_basis + 1 vectors of n_params doubles).
// It also prints the process's peak resident memory (getrusage) after all measurements.
//   --save DIR   writes the inputs X (n x d), y (n), W1 (k x d), w2 (k) (b1 = 0, b2 = 0) and the
//                sharpness eigenvector v (n_params) as raw float64 files DIR/{X,y,W1,w2,v}.f64 and
//                DIR/meta.json (sizes, sharpness, residual), for bench/w4_crosscheck.py, which
//                checks the eigenpair with PyTorch's autograd Hessian-vector product.
// Exit status: 0, or 1 when the results differ between thread counts or the sharpness did not
// converge, 2 on bad arguments.
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/spectrum.h>
#include <relustab/data/image_task.h>
#include <relustab/io/idx.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using relustab::Dataset;
using relustab::Index;
using relustab::Rng;
using relustab::ShallowReluNet;
using relustab::Vec;

struct Options {
  std::vector<int> threads = {1, 2};
  int repeat = 3;
  double tol = 1e-9;
  std::uint64_t seed = 0;
  Index n = 1000;
  Index d = 784;
  Index width = 1000;
  bool fashion_mnist = false;
  int max_basis = relustab::LanczosOptions{}.max_basis;
  std::string save;
  std::string json;
  int trace_samples = 0;   ///< 0: no trace
  int density_probes = 0;  ///< 0: no density
  int density_steps = 0;
};

/// The figures of one thread count (times are medians over the repeats).
struct Figures {
  int threads = 1;
  double gd_step_s = 0.0, gd_step_cpu_s = 0.0;
  double hvp_s = 0.0, hvp_cpu_s = 0.0;
  double sharpness_s = 0.0, sharpness_cpu_s = 0.0;
  double trace_s = 0.0, trace_cpu_s = 0.0;
  double density_s = 0.0, density_cpu_s = 0.0;
  double loss = 0.0;
  Vec grad;
  relustab::EigenResult sharpness;
  relustab::TraceEstimate trace;
  relustab::SpectralDensity density;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// CPU seconds of the whole process (all threads): on a shared machine, less noisy than wall time.
double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t m = values.size() / 2;
  return values.size() % 2 == 1 ? values[m] : 0.5 * (values[m - 1] + values[m]);
}

std::vector<int> parse_int_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const int value = std::stoi(item);
    relustab::require(value >= 1, "--threads: expected integers >= 1, got " + item);
    out.push_back(value);
  }
  relustab::require(!out.empty(), "--threads: expected a list such as 1,2");
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    auto value = [&]() -> std::string {
      relustab::require(a + 1 < argc, arg + ": expected a value");
      return argv[++a];
    };
    if (arg == "--threads") o.threads = parse_int_list(value());
    else if (arg == "--repeat") o.repeat = std::stoi(value());
    else if (arg == "--tol") o.tol = std::stod(value());
    else if (arg == "--seed") o.seed = std::stoull(value());
    else if (arg == "--n") o.n = std::stol(value());
    else if (arg == "--d") o.d = std::stol(value());
    else if (arg == "--width") o.width = std::stol(value());
    else if (arg == "--fashion-mnist") o.fashion_mnist = true;
    else if (arg == "--max-basis") o.max_basis = std::stoi(value());
    else if (arg == "--save") o.save = value();
    else if (arg == "--json") o.json = value();
    else if (arg == "--trace-samples") o.trace_samples = std::stoi(value());
    else if (arg == "--density-probes") o.density_probes = std::stoi(value());
    else if (arg == "--density-steps") o.density_steps = std::stoi(value());
    else throw relustab::InputError("unknown argument '" + arg + "' (see the header of bench/w4.cpp)");
  }
  relustab::require(o.repeat >= 1 && o.n >= 1 && o.d >= 1 && o.width >= 1,
                    "--repeat, --n, --d, --width: expected integers >= 1");
  relustab::require(o.max_basis >= 2, "--max-basis: expected an integer >= 2");
  relustab::require(!o.fashion_mnist || o.d == 784, "--fashion-mnist: the images have d = 784");
  relustab::require(o.trace_samples >= 0 && o.density_probes >= 0 && o.density_steps >= 0,
                    "--trace-samples, --density-probes, --density-steps: expected integers >= 1");
  relustab::require((o.density_probes > 0) == (o.density_steps > 0),
                    "--density-probes and --density-steps: expected both or neither");
  return o;
}

/// The peer's distributions: X ~ U[0,1), y = +-1 with probability 1/2, W1 ~ N(0, 1/d), w2 ~ N(0, 1/k),
/// b1 = 0, b2 = 0 (PyTorch's generator differs, so the values do unless the peer loads ours).
void make_inputs(const Options& o, ShallowReluNet& net, Dataset& data) {
  relustab::Rng rng(o.seed);
  data.X.resize(o.n, o.d);
  for (Index j = 0; j < o.n; ++j)
    for (Index c = 0; c < o.d; ++c) data.X(j, c) = rng.uniform();
  data.y.resize(o.n);
  for (Index j = 0; j < o.n; ++j) data.y[j] = rng.uniform() < 0.5 ? -1.0 : 1.0;
  if (o.fashion_mnist) {
    relustab::BinaryTaskSpec spec;
    spec.n_train = o.n;
    spec.n_val_per_class = 0;
    spec.seed = o.seed;
    data = relustab::make_binary_image_task(relustab::io::read_fashion_mnist("train"), spec).train;
  }
  net = ShallowReluNet(o.d, o.width);
  const double w1_scale = 1.0 / std::sqrt(static_cast<double>(o.d));
  const double w2_scale = 1.0 / std::sqrt(static_cast<double>(o.width));
  for (Index i = 0; i < o.width; ++i)
    for (Index c = 0; c < o.d; ++c) net.W1()(i, c) = w1_scale * rng.normal();
  for (Index i = 0; i < o.width; ++i) net.w2()[i] = w2_scale * rng.normal();
}

void write_raw(const std::string& path, const double* values, Index count) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values), static_cast<std::streamsize>(count * 8));
  relustab::require(static_cast<bool>(out), path + ": cannot write");
}

Figures measure(const Options& o, const ShallowReluNet& net, const Dataset& data, int threads) {
  const auto backend = relustab::make_backend("cpu", relustab::RunContext{threads});
  Figures f;
  f.threads = threads;
  // Wall and CPU seconds of every repeat of each measurement.
  std::vector<double> gd, gd_cpu, hvp, hvp_cpu, sharp, sharp_cpu, trace, trace_cpu, density, density_cpu;
  relustab::SharpnessOptions sharpness_options;
  sharpness_options.lanczos.tol = o.tol;
  sharpness_options.lanczos.max_basis = o.max_basis;
  Rng probe_rng(7);
  Vec probe(net.n_params());
  for (Index p = 0; p < probe.size(); ++p) probe[p] = probe_rng.normal();
  auto timed = [](std::vector<double>& wall, std::vector<double>& cpu, auto&& work) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = process_cpu_seconds();
    work();
    cpu.push_back(process_cpu_seconds() - cpu_start);
    wall.push_back(seconds_since(start));
  };
  for (int r = 0; r < o.repeat; ++r) {
    timed(gd, gd_cpu, [&] {
      ShallowReluNet stepped = net;
      f.loss = backend->loss_and_grad(stepped, data, {}, &f.grad);
      stepped.theta() -= 0.1 * f.grad;
    });
    // One product, the operator built beforehand (sharpness builds it once for all its products).
    const auto hessian = backend->curvature(net, data, relustab::CurvatureKind::Hessian);
    timed(hvp, hvp_cpu, [&] {
      Vec hv;
      hessian->apply(probe, hv);
    });
    timed(sharp, sharp_cpu,
          [&] { f.sharpness = relustab::sharpness(*backend, net, data, sharpness_options); });
    // The trace and the density build their operator inside the timing, as sharpness does.
    if (o.trace_samples > 0) {
      relustab::TraceOptions options;
      options.samples = o.trace_samples;
      timed(trace, trace_cpu, [&] {
        f.trace = relustab::hutchinson_trace(*backend->curvature(net, data, relustab::CurvatureKind::Hessian),
                                             options);
      });
    }
    if (o.density_probes > 0) {
      relustab::DensityOptions options;
      options.probes = o.density_probes;
      options.steps = o.density_steps;
      timed(density, density_cpu, [&] {
        f.density = relustab::spectral_density(
            *backend->curvature(net, data, relustab::CurvatureKind::Hessian), options);
      });
    }
  }
  if (!trace.empty()) {
    f.trace_s = median(trace);
    f.trace_cpu_s = median(trace_cpu);
  }
  if (!density.empty()) {
    f.density_s = median(density);
    f.density_cpu_s = median(density_cpu);
  }
  f.gd_step_s = median(gd);
  f.gd_step_cpu_s = median(gd_cpu);
  f.hvp_s = median(hvp);
  f.hvp_cpu_s = median(hvp_cpu);
  f.sharpness_s = median(sharp);
  f.sharpness_cpu_s = median(sharp_cpu);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    ShallowReluNet net;
    Dataset data;
    make_inputs(o, net, data);
    std::printf("relustab W4: n=%ld d=%ld width=%ld P=%ld float64, %s inputs, tol %.0e, Lanczos basis "
                "<= %d, median of %d\n",
                static_cast<long>(o.n), static_cast<long>(o.d), static_cast<long>(o.width),
                static_cast<long>(net.n_params()), o.fashion_mnist ? "Fashion-MNIST 0/1" : "random",
                o.tol, o.max_basis, o.repeat);
    std::vector<Figures> all;
    for (int threads : o.threads) {
      all.push_back(measure(o, net, data, threads));
      const Figures& f = all.back();
      std::printf("relustab threads=%d: GD step %.4f s (cpu %.4f), HVP %.4f s (cpu %.4f), sharpness "
                  "%.4f s (cpu %.4f; %d HVPs, lambda=%.12g, residual %.3g, converged %s)\n",
                  f.threads, f.gd_step_s, f.gd_step_cpu_s, f.hvp_s, f.hvp_cpu_s, f.sharpness_s,
                  f.sharpness_cpu_s, f.sharpness.iterations,
                  f.sharpness.value, f.sharpness.residual, f.sharpness.converged ? "yes" : "no");
      if (o.trace_samples > 0) {
        std::printf("relustab threads=%d trace: %.4f s (cpu %.4f; probes=%d hvps=%d trace=%.12g stderr=%.6g)\n",
                    f.threads, f.trace_s, f.trace_cpu_s, f.trace.samples, f.trace.samples, f.trace.value,
                    f.trace.standard_error);
      }
      if (o.density_probes > 0) {
        double mass = 0.0, mean = 0.0, second = 0.0;
        for (size_t i = 0; i < f.density.nodes.size(); ++i) {
          mass += f.density.weights[i];
          mean += f.density.weights[i] * f.density.nodes[i];
          second += f.density.weights[i] * f.density.nodes[i] * f.density.nodes[i];
        }
        int hvps = 0;
        for (const int steps : f.density.probe_steps) hvps += steps;
        std::printf("relustab threads=%d density: %.4f s (cpu %.4f; probes=%d steps=%d hvps=%d nodes=%zu "
                    "mass=%.15g mean=%.12g second_moment=%.12g)\n",
                    f.threads, f.density_s, f.density_cpu_s, f.density.probes, f.density.steps, hvps,
                    f.density.nodes.size(), mass, mean, second);
      }
      std::fflush(stdout);
    }
    if (!o.save.empty()) {
      const Figures& f = all.front();
      write_raw(o.save + "/X.f64", data.X.data(), data.X.size());
      write_raw(o.save + "/y.f64", data.y.data(), data.y.size());
      write_raw(o.save + "/W1.f64", net.W1().data(), net.W1().size());
      write_raw(o.save + "/w2.f64", net.w2().data(), net.w2().size());
      write_raw(o.save + "/v.f64", f.sharpness.vector.data(), f.sharpness.vector.size());
      std::ofstream meta(o.save + "/meta.json");
      meta.precision(17);
      meta << "{\"n\":" << o.n << ",\"d\":" << o.d << ",\"width\":" << o.width
           << ",\"sharpness\":" << f.sharpness.value << ",\"residual\":" << f.sharpness.residual
           << ",\"tol\":" << o.tol << "}\n";
      relustab::require(static_cast<bool>(meta), o.save + "/meta.json: cannot write");
    }
    bool identical = true;
    for (const Figures& f : all) {
      identical = identical && f.loss == all[0].loss && f.grad == all[0].grad &&
                  f.sharpness.value == all[0].sharpness.value &&
                  f.sharpness.residual == all[0].sharpness.residual &&
                  f.sharpness.vector == all[0].sharpness.vector &&
                  f.trace.value == all[0].trace.value && f.density.nodes == all[0].density.nodes &&
                  f.density.weights == all[0].density.weights;
    }
    std::printf("relustab bit-identical across thread counts: %s\n", identical ? "yes" : "NO");
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
    std::printf("relustab peak resident memory: %.0f MiB\n", peak_mb);
    if (!o.json.empty()) {
      std::ofstream out(o.json);
      out << "{\"n\":" << o.n << ",\"d\":" << o.d << ",\"width\":" << o.width
          << ",\"params\":" << net.n_params() << ",\"tol\":" << o.tol
          << ",\"inputs\":\"" << (o.fashion_mnist ? "fashion-mnist-0-1" : "random") << "\""
          << ",\"max_basis\":" << o.max_basis << ",\"peak_rss_mib\":" << peak_mb
          << ",\"bit_identical\":" << (identical ? "true" : "false") << ",\"runs\":[";
      out.precision(17);
      for (size_t i = 0; i < all.size(); ++i) {
        const Figures& f = all[i];
        out << (i ? "," : "") << "{\"threads\":" << f.threads << ",\"gd_step_s\":" << f.gd_step_s
            << ",\"gd_step_cpu_s\":" << f.gd_step_cpu_s
            << ",\"hvp_s\":" << f.hvp_s << ",\"hvp_cpu_s\":" << f.hvp_cpu_s
            << ",\"sharpness_s\":" << f.sharpness_s << ",\"sharpness_cpu_s\":" << f.sharpness_cpu_s
            << ",\"hvps\":" << f.sharpness.iterations << ",\"sharpness\":" << f.sharpness.value
            << ",\"residual\":" << f.sharpness.residual
            << ",\"converged\":" << (f.sharpness.converged ? "true" : "false");
        if (o.trace_samples > 0) {
          out << ",\"trace_s\":" << f.trace_s << ",\"trace\":" << f.trace.value
              << ",\"trace_stderr\":" << f.trace.standard_error << ",\"trace_samples\":" << f.trace.samples;
        }
        if (o.density_probes > 0) out << ",\"density_s\":" << f.density_s;
        out << "}";
      }
      out << "]}\n";
    }
    const bool converged = std::all_of(all.begin(), all.end(),
                                       [](const Figures& f) { return f.sharpness.converged; });
    return identical && converged ? 0 : 1;
  } catch (const relustab::InputError& e) {
    std::fprintf(stderr, "relustab_w4: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relustab_w4: %s\n", e.what());
    return 2;
  }
}
