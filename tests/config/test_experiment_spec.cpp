// SPDX-License-Identifier: MIT
// Expanding sweep axes into runs (order, values, errors) and the experiment's canonical JSON.
#include "config/config_test_util.h"

#include <relustab/core/error.h>
#include <relustab/experiment/experiment.h>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace relustab {
namespace {

using test::expect_same_config;
using test::input_error_message;

TEST(ExpandRuns, NoAxesGiveTheBaseRun) {
  ExperimentSpec spec;
  spec.base.eta = 0.3;
  const auto runs = expand_runs(spec);
  ASSERT_EQ(runs.size(), 1u);
  expect_same_config(runs[0], spec.base);
}

TEST(ExpandRuns, TwoAxesFirstSlowest) {
  ExperimentSpec spec;
  spec.base.width = 20;
  const std::vector<double> etas = {0.1, 0.2, 0.3};
  const std::vector<std::int64_t> seeds = {4, 9};
  spec.axes.push_back({"optim.eta", {ParamValue(0.1), ParamValue(0.2), ParamValue(0.3)}});
  spec.axes.push_back({"run.seed", {ParamValue(std::int64_t{4}), ParamValue(std::int64_t{9})}});
  const auto runs = expand_runs(spec);
  ASSERT_EQ(runs.size(), 6u);
  // Oracle: the nested loops the product stands for.
  std::size_t r = 0;
  for (double eta : etas) {
    for (std::int64_t seed : seeds) {
      RunConfig expected = spec.base;
      expected.eta = eta;
      expected.seed = static_cast<std::uint64_t>(seed);
      expect_same_config(runs[r], expected);
      ++r;
    }
  }
}

TEST(ExpandRuns, ThreeAxesEveryCombinationOnceInOrder) {
  ExperimentSpec spec;
  const std::vector<std::int64_t> widths = {10, 20};
  const std::vector<double> etas = {0.1, 0.2, 0.4};
  const std::vector<std::int64_t> seeds = {5, 6, 7, 8};
  SweepAxis width{"model.width", {}}, eta{"optim.eta", {}}, seed{"run.seed", {}};
  for (auto w : widths) width.values.emplace_back(w);
  for (auto e : etas) eta.values.emplace_back(e);
  for (auto s : seeds) seed.values.emplace_back(s);
  spec.axes = {width, eta, seed};
  const auto runs = expand_runs(spec);
  ASSERT_EQ(runs.size(), widths.size() * etas.size() * seeds.size());
  for (std::size_t i = 0; i < widths.size(); ++i) {
    for (std::size_t j = 0; j < etas.size(); ++j) {
      for (std::size_t k = 0; k < seeds.size(); ++k) {
        const RunConfig& run = runs[(i * etas.size() + j) * seeds.size() + k];
        EXPECT_EQ(run.width, widths[i]);
        EXPECT_EQ(run.eta, etas[j]);
        EXPECT_EQ(run.seed, static_cast<std::uint64_t>(seeds[k]));
        EXPECT_EQ(run.n, RunConfig{}.n);  // untouched
      }
    }
  }
  std::set<std::string> keys;
  for (const RunConfig& run : runs) keys.insert(run_key(run));
  EXPECT_EQ(keys.size(), runs.size());
}

TEST(ExpandRuns, IntegerValuesOnADoubleAxisAreNumbers) {
  ExperimentSpec spec;
  spec.axes.push_back({"optim.eta", {ParamValue(std::int64_t{1})}});
  EXPECT_EQ(expand_runs(spec)[0].eta, 1.0);
}

TEST(ExpandRuns, AnAxisWithNoValuesIsAnError) {
  ExperimentSpec spec;
  spec.axes.push_back({"run.seed", {ParamValue(std::int64_t{1})}});
  spec.axes.push_back({"optim.eta", {}});
  EXPECT_EQ(input_error_message([&] { expand_runs(spec); }), "sweep axis 'optim.eta' has no values");
}

TEST(ExpandRuns, BadAxesNameTheKey) {
  ExperimentSpec unknown;
  unknown.axes.push_back({"optim.etaa", {ParamValue(0.1)}});
  EXPECT_NE(input_error_message([&] { expand_runs(unknown); }).find("'optim.etaa'"),
            std::string::npos);

  ExperimentSpec wrong_type;
  wrong_type.axes.push_back({"model.width", {ParamValue(std::int64_t{10}), ParamValue(std::string("wide"))}});
  EXPECT_EQ(input_error_message([&] { expand_runs(wrong_type); }),
            "key 'model.width' expects an integer, got string");

  ExperimentSpec out_of_range;
  out_of_range.axes.push_back({"optim.eta", {ParamValue(0.1), ParamValue(-0.1)}});
  EXPECT_NE(input_error_message([&] { expand_runs(out_of_range); }).find("key 'optim.eta'"),
            std::string::npos);

  ExperimentSpec twice;
  twice.axes.push_back({"optim.eta", {ParamValue(0.1)}});
  twice.axes.push_back({"optim.eta", {ParamValue(0.2)}});
  EXPECT_NE(input_error_message([&] { expand_runs(twice); }).find("'optim.eta' is given twice"),
            std::string::npos);
}

TEST(ExpandRuns, CrossFieldErrorsNameTheRun) {
  ExperimentSpec spec;  // hi = 1, so lo = 2 makes an empty interval in the second run
  spec.axes.push_back({"data.lo", {ParamValue(-1.0), ParamValue(2.0)}});
  const std::string message = input_error_message([&] { expand_runs(spec); });
  EXPECT_EQ(message.rfind("sweep run 1 (data.lo = 2): ", 0), 0u) << message;
  EXPECT_NE(message.find("data.hi"), std::string::npos) << message;
}

TEST(ExperimentJson, NameBaseAndAxesInOrder) {
  ExperimentSpec spec;
  spec.name = "t\"x";
  spec.axes.push_back({"optim.eta", {ParamValue(0.5), ParamValue(std::int64_t{1})}});
  spec.axes.push_back({"run.seed", {ParamValue(std::int64_t{3})}});
  spec.axes.push_back({"model.init", {ParamValue(std::string("torch")), ParamValue(std::string("scaled"))}});
  const std::string expected =
      "{\"name\":\"t\\\"x\",\"base\":" + std::string(test::kDefaultCanonicalJson) +
      ",\"axes\":[{\"key\":\"optim.eta\",\"values\":[0.5,1]},{\"key\":\"run.seed\",\"values\":[3]},"
      "{\"key\":\"model.init\",\"values\":[\"torch\",\"scaled\"]}]}";
  EXPECT_EQ(experiment_json(spec), expected);
}

TEST(ExperimentJson, DiffersWhenAnythingDiffers) {
  ExperimentSpec a;
  a.name = "a";
  a.axes.push_back({"optim.eta", {ParamValue(0.5)}});
  ExperimentSpec b = a;
  EXPECT_EQ(experiment_json(a), experiment_json(b));
  b.name = "b";
  EXPECT_NE(experiment_json(a), experiment_json(b));
  b = a;
  b.base.width = 3;
  EXPECT_NE(experiment_json(a), experiment_json(b));
  b = a;
  b.axes[0].values.emplace_back(0.25);
  EXPECT_NE(experiment_json(a), experiment_json(b));
}

}  // namespace
}  // namespace relustab
