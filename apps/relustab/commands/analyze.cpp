// SPDX-License-Identifier: MIT
// relustab analyze: sharpness, function-space quantities and the bounds for one net on its data.
#include "commands.h"
#include "common.h"

#include <relustab/api.h>
#include <relustab/io/formats.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

namespace relustab::cli {
namespace {

struct AnalyzeArgs {
  std::string net_path;
  std::string data_path;
  std::optional<double> eta;
  bool json = false;
  bool flattest = false;
  double edge_tolerance = kEdgeTolerance;
  int threads = 1;
  std::string backend = "auto";
  std::string loss = "half_mse";
  SpectrumRequest spectrum;
};

/// The spectrum's JSON beyond its scalar metrics: the density as arrays.
nlohmann::ordered_json density_json(const SpectralDensity& density) {
  nlohmann::ordered_json j;
  j["nodes"] = density.nodes;
  j["weights"] = density.weights;
  j["probe_steps"] = density.probe_steps;
  j["probes"] = density.probes;
  j["steps"] = density.steps;
  return j;
}

void print_spectrum(const SpectrumOutput& s) {
  for (std::size_t i = 0; i < s.top.size(); ++i) {
    std::printf("Hessian eigenvalue %-11zu %.10g  (residual %.2e%s)\n", i + 1, s.top[i].value,
                s.top[i].residual, s.top[i].converged ? "" : ", NOT converged");
  }
  if (s.lambda_min) {
    std::printf("Hessian lambda_min             %.10g  (residual %.2e%s)\n", s.lambda_min->value,
                s.lambda_min->residual, s.lambda_min->converged ? "" : ", NOT converged");
  }
  if (s.trace) {
    std::printf("Hessian trace (Hutchinson)     %.10g  (standard error %.2e, %d samples)\n",
                s.trace->value, s.trace->standard_error, s.trace->samples);
  }
  if (s.density) {
    std::printf("spectral density (SLQ)         %zu nodes from %d probes x %d steps (--json lists them)\n",
                s.density->nodes.size(), s.density->probes, s.density->steps);
  }
}

void print_flattest(const FlattestResult& f) {
  std::printf("flattest implementation        %.10g  (certified >= %.10g, %d iterations%s)\n",
              f.sharpness, f.lower_bound, f.iterations, f.converged ? "" : ", NOT converged");
}

/// One line of a ReLU-theory quantity: its value, or why there is none.
void print_relu_theory(const StabilityReport& r, const char* label, const char* format,
                       double value) {
  std::printf("%-31s", label);
  if (r.activation == Activation::Relu) {
    std::printf(format, value);
  } else {
    std::printf("n/a (ReLU theory)");
  }
  std::printf("\n");
}

void print_flattest_all(const FlattestAllResult& f, Index width) {
  std::printf("flattest over all implementations %.10g  (certified >= %.10g%s)\n", f.sharpness,
              f.lower_bound, f.certified ? "" : ", gap above tolerance");
  std::printf("  its neurons                  %lld (%lld more than the net's %lld; %lld split knots)\n",
              static_cast<long long>(f.neurons), static_cast<long long>(f.extra_neurons),
              static_cast<long long>(width), static_cast<long long>(f.split_knots));
}

void print_text(const StabilityReport& r) {
  std::printf("samples n                      %lld (input dimension %lld, width %lld)\n",
              static_cast<long long>(r.n), static_cast<long long>(r.input_dim),
              static_cast<long long>(r.width));
  if (r.activation != Activation::Relu) {
    std::printf("activation                     %s\n",
                std::string(activation_name(r.activation)).c_str());
  }
  const bool mse = r.loss_function == Loss::Mse;
  std::printf("loss function                  %s (%s)\n", std::string(loss_name(r.loss_function)).c_str(),
              mse ? "1/n sum r^2, torch.nn.MSELoss; Hessian twice the half-MSE one"
                  : "1/(2n) sum r^2, the papers'");
  std::printf("loss %-25s %.6g\n", mse ? "1/n sum r^2" : "1/(2n) sum r^2", r.loss);
  std::printf("sharpness (Hessian lambda_max) %.10g  (residual %.2e%s)\n", r.sharpness.value,
              r.sharpness.residual, r.sharpness.converged ? "" : ", NOT converged");
  std::printf("Gauss-Newton lambda_max        %.10g  (residual %.2e)\n", r.gn_sharpness.value,
              r.gn_sharpness.residual);
  if (r.input_dim == 1) {
    print_relu_theory(r, "weighted TV  int |f''| g", "%.6g", r.weighted_tv);
    print_relu_theory(r, "knots inside the data range", "%.0f", static_cast<double>(r.knots));
    print_relu_theory(r, "knots carrying 90% of int|f''|", "%.0f",
                      static_cast<double>(r.effective_knots));
    print_relu_theory(r, "... and 90% of int |f''| g", "%.0f",
                      static_cast<double>(r.effective_knots_weighted));
  }
  print_relu_theory(r, "dead neurons (off on all data)", "%.0f", static_cast<double>(r.dead_neurons));
  print_relu_theory(r, "weighted norm (per neuron)", "%.6g", r.weighted_norm);
  print_relu_theory(r, "Lemma 4 bound 1 + 2 x weighted", "%.6g", r.lemma4_bound);
  print_relu_theory(r, "per-implementation bound", "%.6g", r.per_implementation_bound);
  print_relu_theory(r, "neurons with a knot on a point", "%.0f",
                    static_cast<double>(r.neurons_on_data));
  if (r.eta) {
    std::printf("eta                            %g\n", *r.eta);
    if (mse) {
      std::printf("  the same GD as half_mse at    %g (the theorems' step size below)\n",
                  loss_scale(r.loss_function) * *r.eta);
    }
    std::printf("2/eta                          %.6g\n", r.two_over_eta);
    std::printf("sharpness x eta / 2            %.6g -> %s (at the edge: within %g of 1)\n",
                r.edge_ratio, std::string(stability_name(r.stability)).c_str(), r.edge_tolerance);
    print_relu_theory(r, mse ? "Theorem 1: 1/(2 eta) - 1/2" : "Theorem 1: 1/eta - 1/2", "%.6g",
                      r.thm1_rhs);
    print_relu_theory(r, "non-interpolating bound", "%.6g", r.noninterpolating_bound);
    if (r.input_dim == 1) print_relu_theory(r, "Theorem 2 Delta", "%.6g", r.thm2_delta);
  }
}

}  // namespace

Command add_analyze(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  auto* sub = app.add_subcommand("analyze", "Sharpness, weighted TV, knots and the bounds of a net");
  sub->add_option("--net", args->net_path, "network file (.json or .npz)")->required();
  sub->add_option("--data", args->data_path, "data CSV (x,y or x1..xd,y)")->required();
  sub->add_option("--eta,--lr", args->eta, "step size (--lr: the same): adds 2/eta, 1/eta - 1/2 and the stability verdict")
      ->check(kPositiveFinite);
  sub->add_flag("--json", args->json, "print one JSON object");
  sub->add_flag("--flattest", args->flattest,
                "also the flattest implementation over per-neuron rescalings and, for 1-d inputs, "
                "over all implementations of the same function (Gauss-Newton sharpness; the "
                "Hessian's at interpolating minima)");
  sub->add_option("--edge-tol", args->edge_tolerance,
                  "relative band around 2/eta counted as 'at the edge' of stability")
      ->check(CLI::Range(0.0, 0.999))
      ->capture_default_str();
  sub->add_option("--threads", args->threads, "threads")->check(CLI::PositiveNumber);
  sub->add_option("--backend", args->backend, kBackendHelp)->capture_default_str();
  sub->add_option("--loss", args->loss, kLossHelp)
      ->check(CLI::IsMember({"half_mse", "mse"}))
      ->capture_default_str();
  SpectrumRequest& spectrum = args->spectrum;
  sub->add_option("--top-k", spectrum.top_k,
                  "also the K largest Hessian eigenvalues with their residuals (Lanczos)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--lambda-min", spectrum.lambda_min,
                "also the smallest Hessian eigenvalue with its residual");
  sub->add_option("--trace-samples", spectrum.trace_samples,
                  "also the Hessian trace by Hutchinson's estimator with S Rademacher probes, and "
                  "its standard error")
      ->check(CLI::PositiveNumber);
  auto* probes = sub->add_option("--density-probes", spectrum.density_probes,
                                 "also the spectral density by stochastic Lanczos quadrature with N "
                                 "probes (with --density-steps; --json lists nodes and weights)")
                     ->check(CLI::PositiveNumber);
  auto* steps = sub->add_option("--density-steps", spectrum.density_steps,
                                "Lanczos steps per density probe (1..number of parameters)")
                    ->check(CLI::PositiveNumber);
  probes->needs(steps);
  steps->needs(probes);
  sub->add_option("--spectrum-seed", spectrum.seed,
                  "seed of the random vectors of --top-k, --lambda-min, --trace-samples and the "
                  "density")
      ->check(CLI::NonNegativeNumber)  // CLI11 would wrap -1 round to 2^64 - 1
      ->capture_default_str();
  return [args] {
    const ShallowReluNet net = io::read_net(args->net_path);
    const Dataset data = io::read_csv(args->data_path);
    // Checked here too, to name both files.
    require(data.dim() == net.input_dim(),
            args->data_path + ": data have input dimension " + std::to_string(data.dim()) + " but " +
                args->net_path + " expects " + std::to_string(net.input_dim()));
    require(!args->flattest || net.activation() == Activation::Relu,
            "--flattest: the flattest implementation over per-neuron rescalings is ReLU theory; "
            "expected a ReLU net, " + args->net_path + " is a " +
                std::string(activation_name(net.activation())) + " net");
    AnalyzeRequest request;
    request.eta = args->eta;
    request.flattest = args->flattest;
    request.edge_tolerance = args->edge_tolerance;
    request.backend = args->backend;
    request.loss = parse_loss(args->loss);
    request.spectrum = args->spectrum;
    const AnalysisOutput analysis = analyze(net, data, request, RunContext{args->threads});
    if (args->json) {
      nlohmann::ordered_json out = metrics_to_json(analysis_metrics(analysis));
      if (analysis.spectrum && analysis.spectrum->density) {
        out["spectral_density"] = density_json(*analysis.spectrum->density);
      }
      std::cout << out.dump() << "\n";
    } else {
      print_text(analysis.report);
      if (analysis.flattest) print_flattest(*analysis.flattest);
      if (analysis.flattest_all) print_flattest_all(*analysis.flattest_all, net.width());
      if (analysis.spectrum) print_spectrum(*analysis.spectrum);
    }
  };
}

}  // namespace relustab::cli
