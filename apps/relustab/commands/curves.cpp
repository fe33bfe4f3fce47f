// SPDX-License-Identifier: MIT
// relustab curves: a univariate net's function, smoothed |f''|, the data's weight function g, its knots
// and neurons on a grid, for figures.
#include "commands.h"
#include "common.h"

#include <relustab/analysis/function_space.h>
#include <relustab/io/formats.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

namespace relustab::cli {
namespace {

/// Default plotting range: the data range widened by this fraction of its length on each side, so
/// that knots just outside the data (paper 1, Fig. 3: large |f''| outside the support) show.
constexpr double kDefaultMarginFraction = 0.25;
/// Default Gaussian smoothing width of |f''| as a fraction of the data range (our choice; the
/// papers' smoothing is not published, Mulayoff et al. 2021, Sec. 4).
constexpr double kDefaultBandwidthFraction = 0.02;
constexpr Index kDefaultPoints = 801;

struct CurvesArgs {
  std::string net_path;
  std::string data_path;
  std::optional<double> from;
  std::optional<double> to;
  Index points = kDefaultPoints;
  std::optional<double> bandwidth;
  bool json = false;
};

/// Everything the command prints, on the grid x.
struct Curves {
  std::vector<double> x, f, abs_f2_smoothed, g;
  std::vector<Knot> knots;
  double bandwidth = 0.0;
};

Curves compute_curves(const CurvesArgs& a, const ShallowReluNet& net, const Dataset& data) {
  const std::vector<double> inputs(data.X.data(), data.X.data() + data.n());
  const EmpiricalWeight weight(inputs);
  const double range = weight.x_max() - weight.x_min();
  // One data point (or all equal): a unit range keeps the defaults finite and non-degenerate.
  const double scale = range > 0.0 ? range : 1.0;
  const double from = a.from.value_or(weight.x_min() - kDefaultMarginFraction * scale);
  const double to = a.to.value_or(weight.x_max() + kDefaultMarginFraction * scale);
  require(from < to, "--from/--to: expected from < to, got from = " + std::to_string(from) +
                         ", to = " + std::to_string(to));

  Curves c;
  c.bandwidth = a.bandwidth.value_or(kDefaultBandwidthFraction * scale);
  c.x.resize(static_cast<std::size_t>(a.points));
  for (Index i = 0; i < a.points; ++i) {
    // Endpoints exact; interior points by linear interpolation of the two ends.
    const double s = static_cast<double>(i) / static_cast<double>(a.points - 1);
    c.x[static_cast<std::size_t>(i)] = i + 1 == a.points ? to : from + s * (to - from);
  }
  const RowMatrix grid = Eigen::Map<const RowMatrix>(c.x.data(), a.points, 1);
  const Vec f = net.predict(grid);
  c.f.assign(f.data(), f.data() + f.size());
  const Vec smoothed = smoothed_abs_second_derivative(net, c.x, c.bandwidth);
  c.abs_f2_smoothed.assign(smoothed.data(), smoothed.data() + smoothed.size());
  const Vec g = weight.evaluate(c.x);
  c.g.assign(g.data(), g.data() + g.size());
  c.knots = knots(net);
  return c;
}

nlohmann::ordered_json to_json(const Curves& c, const ShallowReluNet& net) {
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

void print_text(const Curves& c) {
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
  sub->add_option("--from", a->from, "left end of the grid (default: x_min - 25% of the data range)");
  sub->add_option("--to", a->to, "right end of the grid (default: x_max + 25% of the data range)");
  sub->add_option("--points", a->points, "grid points, ends included")
      ->check(CLI::Range(Index{2}, Index{10'000'000}))
      ->capture_default_str();
  sub->add_option("--bandwidth", a->bandwidth,
                  "standard deviation of the Gaussian smoothing of |f''| (default: 2% of the data "
                  "range; our choice, the papers' is not published)")
      ->check(kPositiveFinite);
  sub->add_flag("--json", a->json, "print one JSON object");
  return [a] {
    if (a->from) require(std::isfinite(*a->from), "--from: expected a finite number");
    if (a->to) require(std::isfinite(*a->to), "--to: expected a finite number");
    const ShallowReluNet net = io::read_net(a->net_path);
    require(net.input_dim() == 1, a->net_path + ": curves need a univariate net (input_dim 1), got " +
                                      std::to_string(net.input_dim()));
    require(net.activation() == Activation::Relu,
            a->net_path + ": curves (knots, |f''| and the ReLU bounds) need a ReLU net, got a " +
                std::string(activation_name(net.activation())) + " net");
    const Dataset data = io::read_csv(a->data_path);
    require(data.dim() == 1, a->data_path + ": curves need univariate data (x,y), got " +
                                 std::to_string(data.dim()) + " input columns");
    const Curves curves = compute_curves(*a, net, data);
    if (a->json) {
      std::cout << to_json(curves, net).dump() << "\n";
    } else {
      print_text(curves);
    }
  };
}

}  // namespace relustab::cli
