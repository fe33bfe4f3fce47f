// SPDX-License-Identifier: MIT
// The run API: what a sweep stores for a run equals an independent analysis of the net it saved
// (the three fields the old sweep mapping lacked included), a run on given data and a given net is
// the trainer's run bit for bit, the metric mapping's undefined and typed values, and the file
// cache reads each image set once.
#include <relustab/api.h>
#include <relustab/backend/backend.h>
#include <relustab/core/error.h>
#include <relustab/io/file_cache.h>
#include <relustab/io/formats.h>
#include <relustab/model/init.h>
#include <relustab/train/trainer.h>

#include "io/idx_test_util.h"
#include "io/io_test_util.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

namespace relustab {
namespace {

RunConfig small_api_config() {
  RunConfig config;
  config.n = 16;
  config.noise = 0.2;
  config.data_seed = 11;
  config.width = 10;
  config.eta = 0.05;
  config.max_steps = 300;
  config.seed = 5;
  return config;
}

std::map<std::string, double> stored(const RunResult& result) {
  std::map<std::string, double> map;
  for (const auto& [name, value] : result.metrics) map.emplace(name, value);
  return map;
}

TEST(RunApi, WhatASweepStoresEqualsAnAnalysisOfTheNetItSaved) {
  const RunConfig config = small_api_config();
  const RunResult result = execute_run(config, {});
  const auto metrics = stored(result);
  const ShallowReluNet net = io::parse_net_json(result.net_json, "saved net");
  const Dataset data = make_run_data(config).train;
  AnalyzeRequest request;
  request.eta = metrics.at("final_eta");
  const AnalysisOutput analysis = analyze(net, data, request);
  // The fields the sweep's own mapping used to leave out are there now, with the analysis' values.
  for (const char* name : {"sharpness_converged", "gn_sharpness_residual", "max_abs_x"}) {
    ASSERT_EQ(metrics.count(name), 1u) << name;
  }
  EXPECT_EQ(metrics.at("sharpness_converged"), analysis.report.sharpness.converged ? 1.0 : 0.0);
  EXPECT_EQ(metrics.at("gn_sharpness_residual"), analysis.report.gn_sharpness.residual);
  double max_abs_x = 0.0;  // brute force over the samples
  for (Index j = 0; j < data.n(); ++j) max_abs_x = std::max(max_abs_x, std::abs(data.X(j, 0)));
  EXPECT_EQ(metrics.at("max_abs_x"), max_abs_x);
  // Every defined report quantity but the loss (the training loss comes first) is stored as is.
  for (const Metric& metric : report_metrics(analysis.report)) {
    if (metric.name == "loss") continue;
    if (const auto* value = std::get_if<double>(&metric.value)) {
      if (std::isfinite(*value)) {
        EXPECT_EQ(metrics.at(metric.name), *value) << metric.name;
      } else {
        EXPECT_EQ(metrics.count(metric.name), 0u) << metric.name;
      }
    } else if (const auto* count = std::get_if<std::int64_t>(&metric.value)) {
      EXPECT_EQ(metrics.at(metric.name), static_cast<double>(*count)) << metric.name;
    } else if (const auto* flag = std::get_if<bool>(&metric.value)) {
      EXPECT_EQ(metrics.at(metric.name), *flag ? 1.0 : 0.0) << metric.name;
    } else {
      EXPECT_EQ(metrics.count(metric.name), 0u) << metric.name << " is a name, not a number";
    }
  }
  EXPECT_EQ(metrics.at("stability_class"), static_cast<double>(analysis.report.stability));
}

TEST(RunApi, AGivenNetOnGivenDataTrainsExactlyAsTheTrainer) {
  Rng rng(21);
  const ShallowReluNet teacher = test::random_net(1, 4, rng);
  const Dataset data = test::random_dataset(teacher, 12, rng);
  Rng init_rng(99);
  const ShallowReluNet initial = initialize(1, 6, InitKind::KaimingNormal, 1.0, init_rng);
  RunConfig config = small_api_config();
  config.data_file = "given";
  config.width = 6;
  config.eta = 0.02;
  config.max_steps = 150;
  config.final_analysis = false;
  RunInputs inputs;
  inputs.data = data;
  inputs.initial_net = initial;
  const RunOutput output = run(config, inputs, RunContext{2});

  TrainOptions options;
  options.schedule.eta = config.eta;
  options.stop.max_steps = config.max_steps;
  options.stop.loss_tol = config.loss_tol;
  options.stop.patience = config.patience;
  options.log_sharpness = false;
  const TrainResult expected = train(*make_backend("univariate"), initial, data, options);
  const auto& net = std::get<ShallowReluNet>(output.net);
  ASSERT_EQ(net.theta().size(), expected.net.theta().size());
  for (Index i = 0; i < net.theta().size(); ++i) EXPECT_EQ(net.theta()[i], expected.net.theta()[i]);
  EXPECT_EQ(output.training.steps, expected.steps);
  EXPECT_EQ(output.training.final_loss, expected.final_loss);
  EXPECT_FALSE(output.report.has_value());
  // A net of another input dimension is refused, naming both.
  inputs.initial_net = initialize(2, 6, InitKind::KaimingNormal, 1.0, init_rng);
  EXPECT_THROW(run(config, inputs), InputError);
}

TEST(RunApi, TheMappingKeepsTypesAndTheDatabaseLeavesOutWhatIsUndefined) {
  RunConfig config = small_api_config();
  config.activation = Activation::Gelu;
  config.max_steps = 50;
  const RunOutput output = run(config);
  ASSERT_TRUE(output.report.has_value());
  const Metrics metrics = run_metrics(output);
  // ReLU theory is undefined for a GeLU net: NaN in the typed list, absent from the database.
  const MetricValue* weighted_tv = find_metric(metrics, "weighted_tv");
  ASSERT_NE(weighted_tv, nullptr);
  EXPECT_TRUE(std::isnan(std::get<double>(*weighted_tv)));
  EXPECT_EQ(std::get<std::string>(*find_metric(metrics, "activation")), "gelu");
  EXPECT_EQ(std::get<bool>(*find_metric(metrics, "stable")),
            output.report->sharpness.value <= 2.0 / output.training.final_eta);
  // Every name once, the training's loss first.
  std::map<std::string, int> seen;
  for (const Metric& metric : metrics) ++seen[metric.name];
  for (const auto& [name, times] : seen) EXPECT_EQ(times, 1) << name;
  EXPECT_EQ(std::get<double>(*find_metric(metrics, "loss")), output.training.final_loss);
  const auto row = stored(to_run_result(config, output));
  EXPECT_EQ(row.count("weighted_tv"), 0u);
  EXPECT_EQ(row.count("activation"), 0u);
  EXPECT_EQ(row.at("stable"), std::get<bool>(*find_metric(metrics, "stable")) ? 1.0 : 0.0);
}

TEST(FileCache, AnImageSetIsReadOnceAndAFailedReadIsNotKept) {
  testing::ScratchDir dir;
  std::vector<std::uint8_t> pixels(6 * 4), labels(6);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 2);
  const std::string images = dir.file("images"), labels_path = dir.file("labels");
  io::FileCache cache;
  EXPECT_THROW(cache.images(DataSource::Idx, images, labels_path), InputError);  // no files yet
  testing::write_bytes(images, testing::idx_ubyte({6, 2, 2}, pixels));
  testing::write_bytes(labels_path, testing::idx_ubyte({6}, labels));
  const auto first = cache.images(DataSource::Idx, images, labels_path);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->pixels.rows(), 6);
  EXPECT_EQ(static_cast<int>(first->pixels(5, 3)), 23);  // image 5, pixel 3: 5 * 4 + 3
  // The files change on disk; the cache keeps handing out what it read.
  std::filesystem::remove(images);
  EXPECT_EQ(cache.images(DataSource::Idx, images, labels_path).get(), first.get());
  EXPECT_THROW(cache.images(DataSource::Generated, "", ""), InputError);
}

}  // namespace
}  // namespace relustab
