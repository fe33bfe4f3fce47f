// SPDX-License-Identifier: MIT
// relustab data: writes a seeded synthetic data set (or the built-in demo set) as CSV.
#include "commands.h"
#include "common.h"

#include <relustab/data/generators.h>
#include <relustab/io/formats.h>

#include <cstdio>
#include <memory>

namespace relustab::cli {
namespace {

struct DataArgs {
  std::string out;
  Index n = 20;
  Index dim = 1;
  std::string inputs = "uniform";
  std::string target = "sin3";
  double noise = 0.0;
  double lo = -1.0;
  double hi = 1.0;
  std::uint64_t seed = 0;
  bool builtin = false;
};

}  // namespace

Command add_data(CLI::App& app) {
  auto a = std::make_shared<DataArgs>();
  auto* sub = app.add_subcommand("data", "Generate a seeded synthetic data set as CSV");
  sub->add_option("--out", a->out, "output CSV")->required();
  sub->add_option("--n", a->n, "number of samples")->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--dim", a->dim, "input dimension")->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--inputs", a->inputs, "uniform | gaussian | laplace | grid")->capture_default_str();
  sub->add_option("--target", a->target, "sin3 | cubic | abs | tent | sawtooth | zero | linear")
      ->capture_default_str();
  sub->add_option("--noise", a->noise, "label noise sigma")->check(kNonNegativeFinite)->capture_default_str();
  sub->add_option("--lo", a->lo, "interval for uniform/grid inputs")->capture_default_str();
  sub->add_option("--hi", a->hi, "interval for uniform/grid inputs")->capture_default_str();
  sub->add_option("--seed", a->seed, "seed")->capture_default_str();
  sub->add_flag("--builtin", a->builtin, "write the built-in demo data set instead");
  return [a] {
    Dataset data;
    if (a->builtin) {
      data = builtin_demo_dataset();
    } else {
      require(std::isfinite(a->lo) && std::isfinite(a->hi) && a->lo < a->hi,
              "--lo/--hi: expected finite numbers with lo < hi");
      // The streams of a sweep's generated data (make_run_data), so `relustab data --seed S`
      // writes exactly the training set of a run with data.seed = S.
      RunConfig config;
      config.n = a->n;
      config.dim = a->dim;
      config.inputs = parse_input_law(a->inputs);
      config.target = parse_target_kind(a->target);
      config.noise = a->noise;
      config.lo = a->lo;
      config.hi = a->hi;
      config.data_seed = a->seed;
      data = make_run_data(config).train;
    }
    io::write_csv(a->out, data);
    std::printf("wrote %lld samples to %s\n", static_cast<long long>(data.n()), a->out.c_str());
  };
}

}  // namespace relustab::cli
