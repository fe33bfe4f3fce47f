// SPDX-License-Identifier: MIT
// config::parse_experiment (the in-memory form of read_experiment) and expand_runs on its result.
//
// Determinism: includes are resolved against the harness's own temporary directory, which holds two
// fixed files (base.toml, a small valid experiment, and loop.toml, which includes itself). Inputs with a
// '/' or a \u / \U escape are skipped, so that no include can name a file outside that directory.
// Memory: expand_runs is called only when the sweep has at most kMaxRuns runs (the library's own limit,
// 10 million runs, would take gigabytes); the axes parse_experiment builds are not capped here.
#include <relustab/core/error.h>
#include <relustab/experiment/experiment.h>
#include <relustab/experiment/toml_reader.h>

#include "fuzz_common.h"
#include "temp_dir.h"

namespace {

constexpr std::size_t kMaxRuns = 4096;

const std::string& base_dir() {
  static const std::string dir = [] {
    relustab::fuzz::write_temp("base.toml",
                               "name = \"base\"\n[model]\nwidth = 3\n[optim]\neta = 0.1\n"
                               "[sweep]\nseeds = [1, 2]\n");
    relustab::fuzz::write_temp("loop.toml", "include = \"loop.toml\"\n");
    return relustab::fuzz::temp_dir().string();
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace relustab;
  const std::string text(fuzz::as_view(data, size));
  if (text.find('/') != std::string::npos || text.find("\\u") != std::string::npos ||
      text.find("\\U") != std::string::npos) {
    return -1;  // keeps the input out of the corpus
  }
  ExperimentSpec spec;
  try {
    spec = config::parse_experiment(text, "fuzz.toml", base_dir());
  } catch (const InputError&) {
    return 0;
  }
  std::size_t runs = 1;
  for (const SweepAxis& axis : spec.axes) {
    fuzz::check(!axis.values.empty(), "parse_experiment returned an empty sweep axis");
    if (axis.values.size() > kMaxRuns / runs) return 0;
    runs *= axis.values.size();
  }
  std::vector<RunConfig> configs;
  try {
    configs = expand_runs(spec);
  } catch (const InputError&) {
    return 0;
  }
  fuzz::check(configs.size() == runs, "expand_runs: run count differs from the product of the axis sizes");
  (void)experiment_json(spec);
  return 0;
}
