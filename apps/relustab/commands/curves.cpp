// SPDX-License-Identifier: MIT
// relustab curves: a univariate net's function, smoothed |f''|, the data's weight function g, its knots
// and neurons on a grid, for figures.
#include "commands.h"
#include "common.h"

#include <relustab/api.h>
#include <relustab/io/formats.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

namespace relustab::cli {
namespace {

struct CurvesArgs {
  std::string net_path;
  std::string data_path;
  CurvesRequest request;
  bool json = false;
};

nlohmann::ordered_json to_json(const FunctionCurves& c, const ShallowReluNet& net) {
  nlohmann::ordered_json j;
  j["x"] = c.x;
  j["f"] = c.f;
  j["abs_f2_smoothed"] = c.abs_f2_smoothed;
  j["g"] = c.g;
  j["knots"] = nlohmann::ordered_json::array();
  for (const Knot& knot : c.knots) j["knots"].push_back({knot.location, knot.slope_jump});
  j["neurons"] = nlohmann::ordered_json::array();
  for (Index i = 0; i < net.width(); ++i) {
    j["neurons"].push_back({net.W1()(i, 0), net.b1()[i], net.w2()[i]});
  }
  j["b2"] = net.b2();
  j["bandwidth"] = c.bandwidth;
  return j;
}

void print_text(const FunctionCurves& c) {
  std::printf("# smoothing bandwidth %.6g; %zu knots\n", c.bandwidth, c.knots.size());
  std::printf("%14s %16s %16s %16s\n", "x", "f(x)", "|f''| smoothed", "g(x)");
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    std::printf("%14.6g %16.8g %16.8g %16.8g\n", c.x[i], c.f[i], c.abs_f2_smoothed[i], c.g[i]);
  }
}

}  // namespace

Command add_curves(CLI::App& app) {
  auto a = std::make_shared<CurvesArgs>();
  auto* sub = app.add_subcommand(
      "curves", "A univariate net on a grid: f, smoothed |f''|, the data's g, knots, neurons");
  sub->add_option("--net", a->net_path, "network file (.json or .npz), input dimension 1")->required();
  sub->add_option("--data", a->data_path, "data CSV (x,y): g is computed from its inputs")->required();
  sub->add_option("--from", a->request.from, "left end of the grid (default: x_min - 25% of the data range)");
  sub->add_option("--to", a->request.to, "right end of the grid (default: x_max + 25% of the data range)");
  sub->add_option("--points", a->request.points, "grid points, ends included")
      ->check(CLI::Range(Index{2}, Index{10'000'000}))
      ->capture_default_str();
  sub->add_option("--bandwidth", a->request.bandwidth,
                  "standard deviation of the Gaussian smoothing of |f''| (default: 2% of the data "
                  "range; our choice, the papers' is not published)")
      ->check(kPositiveFinite);
  sub->add_flag("--json", a->json, "print one JSON object");
  return [a] {
    if (a->request.from) require(std::isfinite(*a->request.from), "--from: expected a finite number");
    if (a->request.to) require(std::isfinite(*a->request.to), "--to: expected a finite number");
    if (a->request.from && a->request.to) {
      require(*a->request.from < *a->request.to,
              "--from/--to: expected from < to, got from = " + std::to_string(*a->request.from) +
                  ", to = " + std::to_string(*a->request.to));
    }
    const ShallowReluNet net = io::read_net(a->net_path);
    require(net.input_dim() == 1, a->net_path + ": curves need a univariate net (input_dim 1), got " +
                                      std::to_string(net.input_dim()));
    require(net.activation() == Activation::Relu,
            a->net_path + ": curves (knots, |f''| and the ReLU bounds) need a ReLU net, got a " +
                std::string(activation_name(net.activation())) + " net");
    const Dataset data = io::read_csv(a->data_path);
    require(data.dim() == 1, a->data_path + ": curves need univariate data (x,y), got " +
                                 std::to_string(data.dim()) + " input columns");
    const FunctionCurves curves = function_curves(net, data, a->request);
    if (a->json) {
      std::cout << to_json(curves, net).dump() << "\n";
    } else {
      print_text(curves);
    }
  };
}

}  // namespace relustab::cli
