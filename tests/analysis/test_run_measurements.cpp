// SPDX-License-Identifier: MIT
// The measurements execute_run adds on request (measure.flattest, measure.kinks, measure.knot_stats)
// and always (mse_full, mse_interior), against the library functions called by hand on the run's
// data and final net, and the interval MSE against a brute-force grid.
#include "test_util.h"

#include <relustab/analysis/flattest.h>
#include <relustab/analysis/kinks.h>
#include <relustab/analysis/knot_stats.h>
#include <relustab/core/error.h>
#include <relustab/data/generators.h>
#include <relustab/experiment/run_config.h>
#include <relustab/experiment/run_result.h>
#include <relustab/io/formats.h>

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace relustab {
namespace {

/// A brute-force grid average against the library's: the same squares summed in another order.
constexpr double kMeasurementRoundingTol = 1e-12;

/// GD on 10 noiseless points with 50 neurons: after 10^5 steps (0.4 s) three neurons' knots sit on
/// data points up to rounding, so the run has 2^3 modes (the situation of Mulayoff et al. 2021, Theorem 2).
RunConfig measured_config() {
  RunConfig config;
  config.n = 10;
  config.target = Target::Kind::Sin3;
  config.noise = 0.0;
  config.data_seed = 3;
  config.width = 50;
  config.eta = 0.2;
  config.max_steps = 100000;
  config.seed = 0;
  config.flattest = true;
  config.kinks = true;
  config.knot_stats = true;
  config.interior_margin = 0.2;
  config.grid_points = 501;
  return config;
}

/// The data exactly as `relustab data --seed S` builds them, and the target.
Dataset data_by_hand(const RunConfig& c, Target& target) {
  Rng rng(c.data_seed);
  Rng input_rng = rng.split(1), target_rng = rng.split(2), noise_rng = rng.split(3);
  const RowMatrix X = sample_inputs(c.inputs, c.n, c.dim, input_rng, c.lo, c.hi);
  target = make_target(c.target, c.dim, target_rng);
  return make_dataset(X, target, c.noise, noise_rng);
}

std::map<std::string, double> metric_map(const RunResult& result) {
  std::map<std::string, double> metrics;
  for (const auto& [name, value] : result.metrics) {
    EXPECT_TRUE(metrics.emplace(name, value).second) << "metric " << name << " reported twice";
  }
  return metrics;
}

/// Mean of (f - sin 3x)^2 over `points` evenly spaced points of [a, b], by a loop.
double brute_mse_sin3(const ShallowReluNet& net, double a, double b, Index points) {
  double sum = 0.0;
  for (Index g = 0; g < points; ++g) {
    const double x = a + (b - a) * static_cast<double>(g) / static_cast<double>(points - 1);
    Vec at(1);
    at << x;
    const double r = test::brute_force_output(net, at) - std::sin(3.0 * x);
    sum += r * r;
  }
  return sum / static_cast<double>(points);
}

TEST(RunMeasurements, EveryRequestedMetricEqualsTheLibraryByHand) {
  const RunConfig config = measured_config();
  const RunResult result = execute_run(config, {});
  ASSERT_EQ(result.status, RunStatus::Done);
  const auto metrics = metric_map(result);
  Target target;
  const Dataset data = data_by_hand(config, target);
  const ShallowReluNet net = io::parse_net_json(result.net_json, "run net");
  const double eta = metrics.at("final_eta");

  const FlattestResult flat = flattest_implementation(net, data);
  EXPECT_EQ(metrics.at("flattest_sharpness"), flat.sharpness);
  EXPECT_EQ(metrics.at("flattest_iterations"), static_cast<double>(flat.iterations));
  EXPECT_EQ(metrics.at("flattest_converged"), flat.converged ? 1.0 : 0.0);
  EXPECT_EQ(metrics.at("flattest_converged"), 1.0);
  EXPECT_LE(metrics.at("flattest_sharpness"), metrics.at("gn_sharpness") * (1.0 + kMeasurementRoundingTol));
  const FlattestAllResult all = flattest_over_implementations(net, data);
  EXPECT_EQ(metrics.at("flattest_all_sharpness"), all.sharpness);
  EXPECT_EQ(metrics.at("flattest_all_lower_bound"), all.lower_bound);
  EXPECT_EQ(metrics.at("flattest_all_certified"), all.certified ? 1.0 : 0.0);
  EXPECT_EQ(metrics.at("flattest_all_neurons"), static_cast<double>(all.neurons));
  EXPECT_EQ(metrics.at("flattest_all_extra_neurons"), static_cast<double>(all.extra_neurons));
  EXPECT_EQ(metrics.at("flattest_all_split_knots"), static_cast<double>(all.split_knots));
  EXPECT_LE(metrics.at("flattest_all_sharpness"), metrics.at("flattest_sharpness") * (1.0 + kMeasurementRoundingTol));

  const KinkAnalysis kinks = analyze_kinks(net, data, eta);
  ASSERT_EQ(kinks.kinks.size(), 3u);
  EXPECT_EQ(metrics.at("kink_points"), 3.0);
  EXPECT_EQ(metrics.at("kink_neurons"), static_cast<double>(kinks.kink_neurons));
  EXPECT_EQ(metrics.at("kink_neurons"), metrics.at("neurons_on_data"));
  EXPECT_EQ(metrics.at("kink_modes"), static_cast<double>(kinks.modes.size()));
  EXPECT_EQ(metrics.at("kink_modes"), std::pow(2.0, static_cast<double>(kinks.kinks.size())));
  EXPECT_EQ(metrics.at("lambda_upper"), kinks.lambda_upper);
  EXPECT_EQ(metrics.at("lambda_lower"), kinks.lambda_lower);
  EXPECT_EQ(metrics.at("kink_delta"), kinks.delta);
  EXPECT_EQ(metrics.at("kink_max_gradient"), kinks.max_gradient_norm);
  EXPECT_EQ(metrics.at("lemma3_stable"), kinks.lemma3_stable ? 1.0 : 0.0);
  EXPECT_EQ(metrics.at("lemma2_unstable"), kinks.lemma2_unstable ? 1.0 : 0.0);
  // The relu'(0) = 0 mode is one of the modes: its top eigenvalue is the reported sharpness.
  EXPECT_GE(metrics.at("lambda_upper"), metrics.at("sharpness") * (1.0 - kMeasurementRoundingTol));

  const std::vector<double> inputs(data.X.data(), data.X.data() + data.n());
  const KnotStatistics stats = knot_statistics(net, inputs);
  ASSERT_GT(stats.active_neurons, 0);
  EXPECT_EQ(metrics.at("active_neurons"), static_cast<double>(stats.active_neurons));
  const std::pair<const char*, double> location_quantiles[] = {
      {"knot_q10", 0.10}, {"knot_q25", 0.25}, {"knot_q50", 0.50}, {"knot_q75", 0.75},
      {"knot_q90", 0.90}};
  for (const auto& [name, p] : location_quantiles) {
    EXPECT_EQ(metrics.at(name), quantile(stats.locations, p)) << name;
  }
  EXPECT_EQ(metrics.at("knot_distance_q50"), quantile(stats.distances, 0.5));
  EXPECT_EQ(metrics.at("knot_distance_q90"), quantile(stats.distances, 0.9));
  EXPECT_EQ(metrics.at("knot_distance_max"), stats.distances.back());

  const double x_min = data.X.minCoeff(), x_max = data.X.maxCoeff();
  EXPECT_NEAR(metrics.at("mse_full"), brute_mse_sin3(net, x_min, x_max, 501),
              kMeasurementRoundingTol * metrics.at("mse_full"));
  const double width = x_max - x_min;
  EXPECT_NEAR(metrics.at("mse_interior"),
              brute_mse_sin3(net, x_min + 0.2 * width, x_max - 0.2 * width, 501),
              kMeasurementRoundingTol * metrics.at("mse_interior"));
}

TEST(RunMeasurements, DefaultsAddOnlyTheCleanTargetErrors) {
  RunConfig config = measured_config();
  config.max_steps = 2000;
  config.flattest = false;
  config.kinks = false;
  config.knot_stats = false;
  config.final_analysis = false;
  const auto metrics = metric_map(execute_run(config, {}));
  for (const char* name : {"flattest_sharpness", "kink_modes", "lambda_upper", "active_neurons",
                           "knot_q50", "sharpness"}) {
    EXPECT_EQ(metrics.count(name), 0u) << name;
  }
  EXPECT_EQ(metrics.count("mse_full"), 1u);
  EXPECT_EQ(metrics.count("mse_interior"), 1u);
  // Training does not depend on what is measured.
  RunConfig measured = measured_config();
  measured.max_steps = 2000;
  EXPECT_EQ(metrics.at("loss"), metric_map(execute_run(measured, {})).at("loss"));
}

TEST(RunMeasurements, NoCleanTargetErrorsWithoutAKnownTargetOrInSeveralDimensions) {
  RunConfig config = measured_config();
  config.max_steps = 50;
  config.data_file = "given.csv";
  Target target;
  const Dataset data = data_by_hand(measured_config(), target);
  const auto from_file = metric_map(execute_run(config, RunInputs{.load_data = [&](const std::string&) { return data; }}));
  EXPECT_EQ(from_file.count("mse_full"), 0u);
  EXPECT_EQ(from_file.count("flattest_sharpness"), 1u);

  RunConfig plane = measured_config();
  plane.max_steps = 50;
  plane.dim = 2;
  plane.target = Target::Kind::LinearTeacher;
  const auto metrics = metric_map(execute_run(plane, {}));
  EXPECT_EQ(metrics.count("mse_full"), 0u);
  EXPECT_EQ(metrics.count("knot_q50"), 0u);     // knot statistics are univariate
  EXPECT_EQ(metrics.count("flattest_sharpness"), 1u);  // the rescaling works in any dimension
  EXPECT_EQ(metrics.count("flattest_all_sharpness"), 0u);  // moving neurons across sides: d = 1
  EXPECT_EQ(metrics.count("lambda_upper"), 1u);
}

TEST(RunMeasurements, NewKeysAreRangeChecked) {
  RunConfig config;
  const auto message = [&](const char* key, ParamValue value) {
    try {
      find_parameter(key)->set(config, value);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("measure.interior_margin", ParamValue(0.5)),
            "key 'measure.interior_margin' expects a finite number >= 0 and < 0.5, got 0.5");
  EXPECT_EQ(message("measure.interior_margin", ParamValue(-0.1)),
            "key 'measure.interior_margin' expects a finite number >= 0 and < 0.5, got -0.1");
  EXPECT_EQ(message("measure.grid_points", ParamValue(std::int64_t{1})),
            "key 'measure.grid_points' expects an integer >= 2, got 1");
  EXPECT_EQ(message("measure.kinks", ParamValue(std::int64_t{1})),
            "key 'measure.kinks' expects a boolean, got integer");
  find_parameter("measure.interior_margin")->set(config, ParamValue(0.0));
  EXPECT_EQ(config.interior_margin, 0.0);

  // Dense eigenproblems too large for the measurements are refused before training.
  RunConfig wide;
  wide.width = 1000;  // P = 3001
  wide.kinks = true;
  try {
    validate_run_config(wide);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("measure.kinks"), std::string::npos) << e.what();
  }
  wide.kinks = false;
  wide.flattest = true;  // min(n = 30, P) = 30: fine
  EXPECT_NO_THROW(validate_run_config(wide));
}

}  // namespace
}  // namespace relustab
