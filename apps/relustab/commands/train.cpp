// SPDX-License-Identifier: MIT
// relustab train: GD / SGD on a CSV data set; writes net.json, log.csv and summary.json to --out.
#include "commands.h"
#include "common.h"

#include <relustab/api.h>
#include <relustab/io/atomic_file.h>
#include <relustab/io/formats.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

namespace relustab::cli {
namespace {

struct TrainArgs {
  std::string data_path;
  std::string out_dir;
  std::string init_net_path;
  Index width = 0;
  std::string init = "torch";
  double init_scale = 1.0;
  std::string fit_output = "none";
  std::uint64_t seed = 0;
  int threads = 1;
  std::string backend = "auto";
  std::string activation;  // empty: the initial net's, else the back end's, else relu
  bool quiet = false;
  std::string loss = "half_mse";
  TrainOptions options;
};

std::string log_to_csv(const std::vector<LogRow>& log) {
  std::ostringstream out;
  out.precision(17);
  out << "step,eta,loss,mse_clean,sharpness,sharpness_residual\n";
  for (const LogRow& row : log) {
    out << row.step << ',' << row.eta << ',' << row.loss << ',' << row.mse_clean << ','
        << row.sharpness << ',' << row.sharpness_residual << '\n';
  }
  return out.str();
}

void prepare_output_directory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  require(!ec && std::filesystem::is_directory(dir),
          "--out " + dir + ": cannot create the output directory (" + ec.message() + ")");
}

}  // namespace

Command add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto* sub = app.add_subcommand("train", "Train a two-layer ReLU (or GeLU) net with GD or SGD");
  sub->add_option("--data", a->data_path, "data CSV (x,y or x1..xd,y[,y_clean])")->required();
  sub->add_option("--out", a->out_dir, "output directory (net.json, log.csv, summary.json)")
      ->required();
  sub->add_option("--width", a->width, "number of hidden neurons k")->check(CLI::PositiveNumber);
  sub->add_option("--init-net", a->init_net_path, "start from this net (.json/.npz) instead");
  sub->add_option("--eta,--lr", a->options.schedule.eta, "step size eta (--lr: the same)")->required()->check(kPositiveFinite);
  sub->add_option("--steps", a->options.stop.max_steps, "maximum number of steps")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  sub->add_option("--seed", a->seed, "seed of the initialisation and of the SGD batches")
      ->capture_default_str();
  sub->add_option("--batch", a->options.batch_size, "SGD batch size (0: full-batch GD)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  sub->add_option("--init", a->init,
                  "torch | kaiming | scaled | balanced | data_knots (1-d inputs: knots spread over "
                  "the gaps between the inputs, output layer 0)")
      ->check(CLI::IsMember({"torch", "kaiming", "scaled", "balanced", "data_knots"}))
      ->capture_default_str();
  sub->add_option("--init-scale", a->init_scale, "scale for --init scaled / balanced; |w1| of data_knots")
      ->check(kPositiveFinite)->capture_default_str();
  sub->add_option("--fit-output", a->fit_output,
                  "none | min_norm: before the steps, the minimum-norm least-squares output layer for "
                  "the fixed first layer")
      ->check(CLI::IsMember({"none", "min_norm"}))->capture_default_str();
  sub->add_option("--tol", a->options.stop.loss_tol, "converged when loss < tol ...")
      ->check(kNonNegativeFinite)->capture_default_str();
  sub->add_option("--patience", a->options.stop.patience, "... for this many consecutive steps")
      ->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--grad-tol", a->options.stop.grad_tol,
                  "> 0: also converged when the gradient norm < grad-tol for --patience steps")
      ->check(kNonNegativeFinite)->capture_default_str();
  sub->add_option("--warmup-from", a->options.schedule.warmup_from, "warm-up start step size")
      ->check(kPositiveFinite);
  sub->add_option("--warmup-steps", a->options.schedule.warmup_steps, "warm-up length in steps")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--switch-factor", a->options.schedule.switch_factor,
                  "multiply eta by this when the loss first drops below --switch-below")
      ->check(kPositiveFinite);
  sub->add_option("--switch-below", a->options.schedule.switch_below_loss, "loss threshold")
      ->check(kNonNegativeFinite);
  a->options.log_every = 1000;
  sub->add_option("--log-every", a->options.log_every, "log every N steps (0: only the end)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  sub->add_flag("!--no-log-sharpness", a->options.log_sharpness, "do not measure sharpness in logs");
  sub->add_option("--threads", a->threads, "threads")->check(CLI::PositiveNumber);
  sub->add_option("--backend", a->backend, kBackendHelp)->capture_default_str();
  sub->add_option("--activation", a->activation,
                  "relu or gelu (default: the --init-net's; else the --backend's; else relu); "
                  "written to net.json")
      ->check(CLI::IsMember({"relu", "gelu"}));
  sub->add_option("--loss", a->loss, kLossHelp)
      ->check(CLI::IsMember({"half_mse", "mse"}))
      ->capture_default_str();
  sub->add_flag("--quiet", a->quiet, "no progress line");
  return [a] {
    RunInputs inputs;
    inputs.data = io::read_csv(a->data_path);
    const Dataset& data = *inputs.data;
    if (!a->init_net_path.empty()) {
      inputs.initial_net = io::read_net(a->init_net_path);
      // Checked here too, to name both files.
      require(data.dim() == inputs.initial_net->input_dim(),
              a->data_path + ": data have input dimension " + std::to_string(data.dim()) + " but " +
                  a->init_net_path + " expects " + std::to_string(inputs.initial_net->input_dim()));
    } else {
      require(a->width >= 1, "--width: expected an integer >= 1 (or --init-net)");
    }
    const TrainOptions& o = a->options;
    RunConfig config;
    config.data_file = a->data_path;  // the data are given in `inputs`; this names them
    config.width = inputs.initial_net ? inputs.initial_net->width() : a->width;
    config.init = parse_init_scheme(a->init);
    config.init_scale = a->init_scale;
    config.fit_output = parse_output_fit(a->fit_output);
    config.seed = a->seed;
    config.batch = o.batch_size;
    config.eta = o.schedule.eta;
    config.loss = parse_loss(a->loss);
    config.warmup_from = o.schedule.warmup_from;
    config.warmup_steps = o.schedule.warmup_steps;
    config.switch_factor = o.schedule.switch_factor;
    config.switch_below = o.schedule.switch_below_loss;
    config.max_steps = o.stop.max_steps;
    config.loss_tol = o.stop.loss_tol;
    config.patience = o.stop.patience;
    config.divergence_loss = o.stop.divergence_loss;
    config.grad_tol = o.stop.grad_tol;
    config.log_every = o.log_every > 0 ? o.log_every : std::max<std::int64_t>(o.stop.max_steps, 1);
    config.log_sharpness = o.log_sharpness;
    config.final_analysis = false;
    config.backend = a->backend;
    // The activation: --activation, else the initial net's, else the back end's, else ReLU.
    if (!a->activation.empty()) {
      config.activation = parse_activation(a->activation, "--activation");
    } else if (inputs.initial_net) {
      config.activation = inputs.initial_net->activation();
    } else if (a->backend != "auto") {
      config.activation = make_backend(a->backend)->activation();
    }
    // The checks the run repeats with its keys' names, made here with the flags' and files' names.
    require(config.init != InitScheme::DataKnots || inputs.initial_net || data.dim() == 1,
            "--init data_knots: needs one-dimensional inputs, " + a->data_path + " has dimension " +
                std::to_string(data.dim()));
    if (a->backend != "auto") {
      const Activation computes = make_backend(a->backend)->activation();
      require(computes == config.activation,
              "--backend " + a->backend + " computes " + std::string(activation_name(computes)) +
                  " nets, but the net is a " + std::string(activation_name(config.activation)) +
                  " net");
    }
    require(config.fit_output == OutputLayerFit::None || config.activation == Activation::Relu,
            "--fit-output min_norm: fits the output layer on ReLU features, not a " +
                std::string(activation_name(config.activation)) + " net");
    prepare_output_directory(a->out_dir);
    const bool show_progress = !a->quiet && stderr_is_terminal();
    const RunOutput output = run(config, inputs, RunContext{a->threads}, [&](const LogRow& row) {
      if (!show_progress) return;
      std::fprintf(stderr, "\rstep %lld  eta %.4g  loss %.4e  sharpness %.5g   ",
                   static_cast<long long>(row.step), row.eta, row.loss, row.sharpness);
      std::fflush(stderr);
    });
    if (show_progress) std::fprintf(stderr, "\n");
    const TrainingTrace& result = output.training;
    const ShallowReluNet& net = std::get<ShallowReluNet>(output.net);

    nlohmann::ordered_json meta;
    meta["eta"] = config.eta;
    meta["loss"] = a->loss;
    meta["seed"] = a->seed;
    meta["outcome"] = std::string(outcome_name(result.outcome));
    meta["steps"] = result.steps;
    nlohmann::ordered_json summary = meta;
    summary["final_loss"] = number_or_null(result.final_loss);
    summary["final_grad_norm"] = number_or_null(result.final_grad_norm);
    summary["switch_step"] = result.switch_step;
    summary["batch"] = config.batch;
    summary["init"] = a->init_net_path.empty() ? a->init : a->init_net_path;
    summary["fit_output"] = a->fit_output;
    summary["width"] = net.width();
    summary["n"] = data.n();
    summary["data"] = a->data_path;
    if (!result.log.empty()) {
      summary["final_sharpness"] = number_or_null(result.log.back().sharpness);
      summary["final_mse_clean"] = number_or_null(result.log.back().mse_clean);
    }
    const std::filesystem::path dir(a->out_dir);
    io::write_net_json((dir / "net.json").string(), net, meta.dump());
    io::write_file_atomically((dir / "log.csv").string(), log_to_csv(result.log));
    io::write_file_atomically((dir / "summary.json").string(), summary.dump(2) + "\n");
    std::printf("%s after %lld steps, loss %.6g; wrote %s\n", std::string(outcome_name(result.outcome)).c_str(),
                static_cast<long long>(result.steps), result.final_loss, a->out_dir.c_str());
  };
}

}  // namespace relustab::cli
