// SPDX-License-Identifier: MIT
// The Hessian spectrum as opt-in run measures (measure.top_k, lambda_min, trace_samples,
// spectrum_seed), and run keys: results stored before those keys existed keep their keys. Oracles:
// the keys, canonical JSON and results directory an earlier relustab wrote, Eigen's dense eigensolver on the dense
// Hessian, the library's hessian_spectrum called directly on the run's final net.
#include <relustab/api.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/deep_curvature.h>

#include "cli/cli_runner.h"
#include "dense_oracles.h"
#include "experiment/config_from_json.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace relustab {
namespace {

double metric(const Metrics& metrics, const std::string& name) {
  const MetricValue* value = find_metric(metrics, name);
  if (value == nullptr) throw std::runtime_error("no metric " + name);
  if (const auto* d = std::get_if<double>(value)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(value)) return static_cast<double>(*i);
  if (const auto* b = std::get_if<bool>(value)) return *b ? 1.0 : 0.0;
  throw std::runtime_error(name + " is not a number");
}

/// tests/experiment/data: a results directory written by relustab c085958, before the measure.*
/// spectrum keys existed, by `relustab sweep run-keys.toml` (six runs: activations, batch sizes,
/// depths, seeds).
std::string fixture(const std::string& name) {
  return std::string(RELUSTAB_TEST_SOURCE_DIR) + "/tests/experiment/data/" + name;
}

/// (key, canonical JSON) of every run the fixture's database holds, read with SQLite itself.
std::vector<std::pair<std::string, std::string>> stored_runs(const std::string& database) {
  sqlite3* db = nullptr;
  std::vector<std::pair<std::string, std::string>> runs;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return runs;
  }
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(db, "SELECT key, config FROM runs ORDER BY id", -1, &select, nullptr);
  while (sqlite3_step(select) == SQLITE_ROW) {
    runs.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(select, 0)),
                      reinterpret_cast<const char*>(sqlite3_column_text(select, 1)));
  }
  sqlite3_finalize(select);
  sqlite3_close(db);
  return runs;
}

TEST(RunKeys, KeysStoredByAnEarlierVersionAreUnchanged) {
  const auto runs = stored_runs(fixture("results-c085958/results.sqlite"));
  ASSERT_EQ(runs.size(), 6u);
  for (const auto& [key, json] : runs) {
    const RunConfig config = detail::config_from_json(json);
    EXPECT_EQ(canonical_json(config), json);
    EXPECT_EQ(run_key(config), key);
    // A spectrum key set makes a new run; set back to its default, the old one.
    RunConfig measured = config;
    measured.spectrum_top_k = 2;
    EXPECT_NE(run_key(measured), key);
    EXPECT_NE(canonical_json(measured).find("\"measure.top_k\":2"), std::string::npos);
    EXPECT_EQ(detail::config_from_json(canonical_json(measured)).spectrum_top_k, 2);
    measured.spectrum_top_k = 0;
    EXPECT_EQ(run_key(measured), key);
    measured.trace_samples = 5;
    measured.spectrum_lambda_min = true;
    measured.spectrum_seed = 3;
    const RunConfig back = detail::config_from_json(canonical_json(measured));
    EXPECT_EQ(run_key(back), run_key(measured)) << "the canonical JSON holds every key that was set";
  }
}

TEST(RunKeys, AnEarlierVersionsResultsDirectoryResumesWithNothingToRun) {
  if (test::relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  test::TempDir tmp;
  const std::filesystem::path dir = tmp.path() / "results";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(fixture("results-c085958/results.sqlite"), dir / "results.sqlite");
  const std::string before = test::must_run("export " + test::quote(dir.string()));
  // The same experiment file: every run is found by its key, none is added or run again.
  const std::string out =
      test::must_run("sweep " + test::quote(fixture("run-keys.toml")) + " --out " + test::quote(dir.string()));
  EXPECT_NE(out.find("6 runs, 6 done"), std::string::npos) << out;
  EXPECT_EQ(stored_runs((dir / "results.sqlite").string()), stored_runs(fixture("results-c085958/results.sqlite")));
  const std::string after = test::must_run("export " + test::quote(dir.string()));
  EXPECT_EQ(after, before);
  EXPECT_EQ(after.find("measure.top_k"), std::string::npos) << "no column for a key no run has";
  // A spectrum measure changes the experiment itself (not an axis): refused in place, naming the key.
  test::expect_bad_input("sweep " + test::quote(fixture("run-keys.toml")) + " --out " + test::quote(dir.string()) +
                             " --set measure.top_k=2",
                         {"measure.top_k", "another --out directory"});
  EXPECT_EQ(stored_runs((dir / "results.sqlite").string()).size(), 6u);
}

RunConfig small_run(std::int64_t depth) {
  RunConfig config;
  config.n = 12;
  config.width = 6;
  config.depth = depth;
  config.width2 = 4;
  config.eta = 0.05;
  config.max_steps = 300;
  config.spectrum_top_k = 3;
  config.spectrum_lambda_min = true;
  config.trace_samples = 400;
  return config;
}

TEST(RunSpectrum, MetricsAreTheLibrarysAndTheDenseHessiansOneHiddenLayer) {
  for (const Loss loss : {Loss::HalfMse, Loss::Mse}) {
    RunConfig config = small_run(1);
    config.loss = loss;
    const RunOutput out = run(config);
    ASSERT_EQ(out.training.outcome == Outcome::Diverged, false);
    const Metrics m = run_metrics(out);
    // The library on the same net and data: the same numbers, bit for bit.
    const Dataset data = make_run_data(config).train;
    SpectrumRequest request;
    request.top_k = 3;
    request.lambda_min = true;
    request.trace_samples = 400;
    LossRequest convention;
    convention.loss = loss;
    const Metrics direct = spectrum_metrics(hessian_spectrum(out.net, data, request, convention));
    ASSERT_EQ(direct.size(), 3u * 3u + 3u + 3u);
    for (const Metric& expected : direct) EXPECT_EQ(metric(m, expected.name), metric(direct, expected.name)) << expected.name;
    // The dense Hessian of the loss convention.
    const ShallowReluNet& net = std::get<ShallowReluNet>(out.net);
    const Matrix H = loss_scale(loss) * dense_hessian(net, data);
    const Vec eigenvalues = test::symmetric_eigenvalues(H);
    const Index P = eigenvalues.size();
    const double scale = std::max(1.0, eigenvalues.cwiseAbs().maxCoeff());
    for (int i = 1; i <= 3; ++i) {
      EXPECT_NEAR(metric(m, "hessian_eigenvalue_" + std::to_string(i)), eigenvalues[P - i], 1e-9 * scale);
    }
    EXPECT_NEAR(metric(m, "lambda_min"), eigenvalues[0], 1e-9 * scale);
    EXPECT_NEAR(metric(m, "hessian_trace"), H.trace(), 4.0 * metric(m, "hessian_trace_stderr"));
    EXPECT_EQ(metric(m, "hessian_trace_samples"), 400.0);
    // The final analysis's sharpness is the same eigenvalue.
    EXPECT_NEAR(metric(m, "sharpness"), metric(m, "hessian_eigenvalue_1"), 1e-9 * scale);
  }
}

TEST(RunSpectrum, TwoHiddenLayersAgainstTheDenseHessian) {
  const RunConfig config = small_run(2);
  const RunOutput out = run(config);
  const Metrics m = run_metrics(out);
  const Dataset data = make_run_data(config).train;
  const Matrix H = deep_curvature_matrix(std::get<DeepReluNet>(out.net), data, CurvatureKind::Hessian);
  const Vec eigenvalues = test::symmetric_eigenvalues(H);
  const Index P = eigenvalues.size();
  const double scale = std::max(1.0, eigenvalues.cwiseAbs().maxCoeff());
  EXPECT_NEAR(metric(m, "hessian_eigenvalue_1"), eigenvalues[P - 1], 1e-9 * scale);
  EXPECT_NEAR(metric(m, "hessian_eigenvalue_3"), eigenvalues[P - 3], 1e-9 * scale);
  EXPECT_NEAR(metric(m, "lambda_min"), eigenvalues[0], 1e-9 * scale);
}

TEST(RunSpectrum, NothingUnlessAskedAndTooManyEigenvaluesFailBeforeTraining) {
  RunConfig plain = small_run(1);
  plain.spectrum_top_k = 0;
  plain.spectrum_lambda_min = false;
  plain.trace_samples = 0;
  const Metrics m = run_metrics(run(plain));
  EXPECT_EQ(find_metric(m, "hessian_eigenvalue_1"), nullptr);
  EXPECT_EQ(find_metric(m, "lambda_min"), nullptr);
  EXPECT_EQ(find_metric(m, "hessian_trace"), nullptr);
  RunConfig too_many = small_run(1);
  too_many.spectrum_top_k = 6 * 3 + 2;  // P = 19 for width 6 on d = 1
  too_many.max_steps = 100000000;       // the check must come before the steps
  const std::string message = test::message_of([&] { run(too_many); });
  EXPECT_NE(message.find("measure.top_k"), std::string::npos) << message;
  EXPECT_NE(message.find("19"), std::string::npos) << message;
}

}  // namespace
}  // namespace relustab
