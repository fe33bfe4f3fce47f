// SPDX-License-Identifier: MIT
// relustab weight: the weight function g of Mulayoff et al. 2021, empirical (from data) or population.
#include "commands.h"
#include "common.h"

#include <relustab/analysis/function_space.h>
#include <relustab/io/formats.h>

#include <cstdio>
#include <iostream>
#include <memory>

namespace relustab::cli {
namespace {

struct WeightArgs {
  std::string data_path;
  std::string dist;
  std::vector<double> at;
  bool json = false;
};

Distribution parse_distribution(const std::string& name) {
  if (name == "uniform") return Distribution::Uniform;
  if (name == "gaussian") return Distribution::Gaussian;
  if (name == "laplace") return Distribution::Laplace;
  throw InputError("--dist: expected uniform, gaussian or laplace, got '" + name + "'");
}

}  // namespace

Command add_weight(CLI::App& app) {
  auto a = std::make_shared<WeightArgs>();
  auto* sub = app.add_subcommand("weight", "Weight function g: empirical (--data) or population (--dist)");
  auto* data_option = sub->add_option("--data", a->data_path, "data CSV; g from its inputs (d = 1)");
  auto* dist = sub->add_option("--dist", a->dist, "uniform | gaussian | laplace (unit variance)");
  data_option->excludes(dist);
  sub->add_option("--at", a->at, "points, comma separated")->required()->delimiter(',');
  sub->add_flag("--json", a->json, "print one JSON object");
  return [a] {
    require(!a->data_path.empty() || !a->dist.empty(), "weight: expected --data or --dist");
    for (size_t i = 0; i < a->at.size(); ++i) {
      require(std::isfinite(a->at[i]), "--at: point " + std::to_string(i + 1) + " is not finite");
    }
    nlohmann::ordered_json out;
    std::vector<double> g(a->at.size()), g_minus, g_plus;
    if (!a->dist.empty()) {
      const Distribution law = parse_distribution(a->dist);
      for (size_t i = 0; i < a->at.size(); ++i) g[i] = population_weight(law, a->at[i]);
      out["dist"] = a->dist;
    } else {
      const Dataset data = io::read_csv(a->data_path);
      require(data.dim() == 1, a->data_path + ": the weight function g needs univariate data (x,y), got " +
                                   std::to_string(data.dim()) + " input columns");
      const std::vector<double> inputs(data.X.data(), data.X.data() + data.n());
      const EmpiricalWeight weight(inputs);
      for (size_t i = 0; i < a->at.size(); ++i) {
        g[i] = weight(a->at[i]);
        g_minus.push_back(weight.g_minus(a->at[i]));
        g_plus.push_back(weight.g_plus(a->at[i]));
      }
      out["data"] = a->data_path;
    }
    out["at"] = a->at;
    out["g"] = g;
    if (!g_minus.empty()) {
      out["g_minus"] = g_minus;
      out["g_plus"] = g_plus;
    }
    if (a->json) {
      std::cout << out.dump() << "\n";
      return;
    }
    std::printf("%14s %16s%s\n", "x", "g(x)", g_minus.empty() ? "" : "          g_-(x)          g_+(x)");
    for (size_t i = 0; i < a->at.size(); ++i) {
      std::printf("%14.6g %16.8g", a->at[i], g[i]);
      if (!g_minus.empty()) std::printf(" %15.8g %15.8g", g_minus[i], g_plus[i]);
      std::printf("\n");
    }
  };
}

}  // namespace relustab::cli
