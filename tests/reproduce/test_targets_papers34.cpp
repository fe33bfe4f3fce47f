// SPDX-License-Identifier: MIT
// Acceptance tests of issue 6: the quick settings of papers 3 and 4 run through
// `relustab reproduce TARGET --quick`, and the claims hold on the stored results: the multivariate
// stability bound is tight between 1 + 2 x weighted norm and 2/eta (Nacson et al. 2023); a
// two-hidden-layer net represents the pyramid stably where stable shallow nets cannot fit it (depth
// separation); and past the optimization threshold GD stops interpolating and generalises better, with
// the neurons aligned to the teacher (Boursier and Flammarion 2025).
#include "reproduce/reproduce_util.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace relustab::test {
namespace {

namespace fs = std::filesystem;

/// `relustab reproduce TARGET --quick` into a temporary directory, with figures when the figure
/// scripts are in the source tree.
StoredExperiment run_quick_target(const std::string& target, TempDir& dir) {
  const bool plotted = fs::is_regular_file(source_dir() + "/python/figures/plot.py");
  const std::string out = dir.file(target + "-quick");
  const CommandResult result = run_relustab("reproduce " + target + " --quick --jobs 2 --out " + out +
                                            (plotted ? "" : " --no-plot"));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  StoredExperiment stored = read_results(out);
  EXPECT_EQ(stored.name, target);
  EXPECT_FALSE(stored.runs.empty());
  for (const StoredRun& run : stored.runs) {
    EXPECT_TRUE(run.status == "done" || run.status == "failed") << "run " << run.id << " is " << run.status;
  }
  if (plotted) check_figures_and_index(out);
  return stored;
}

bool has(const StoredRun& run, const std::string& metric) { return run.metrics.count(metric) > 0; }
bool converged(const StoredRun& run) { return has(run, "outcome") && run.metric("outcome") == 0.0; }
double config_number(const StoredRun& run, const char* key) { return run.config.at(key).get<double>(); }
std::string config_text(const StoredRun& run, const char* key) {
  return run.config.at(key).get<std::string>();
}

#define RELUSTAB_REQUIRE_BINARY()                                           \
  if (relustab_bin().empty() || source_dir().empty()) {                     \
    GTEST_SKIP() << "RELUSTAB_BIN/SOURCE_DIR not set";                      \
  }

TEST(ReproduceTarget, NacsonTightnessBoundHoldsAtEveryConvergedStepSize) {
  RELUSTAB_REQUIRE_BINARY();
  TempDir dir;
  const StoredExperiment results = run_quick_target("nacson2023-tightness", dir);
  int checked = 0;
  for (const StoredRun& run : results.runs) {
    if (!converged(run)) continue;
    SCOPED_TRACE("eta = " + std::to_string(config_number(run, "optim.eta")));
    const double sharpness = run.metric("sharpness");
    // 1 + 2 x weighted norm <= lambda_max(GN) <= ... and lambda_max <= 2/eta at a stable minimum;
    // the loss tolerance of the stopping rule leaves a small non-interpolating margin.
    EXPECT_LE(run.metric("lemma4_bound"), run.metric("gn_sharpness") * (1.0 + 1e-9));
    EXPECT_LE(run.metric("lemma4_bound"), sharpness * (1.0 + 1e-3));
    EXPECT_LE(sharpness, run.metric("two_over_eta") * (1.0 + 1e-3));
    EXPECT_LE(run.metric("sharpness_residual"), 1e-6 * sharpness);
    EXPECT_GE(run.metric("val_error"), 0.0);
    ++checked;
  }
  EXPECT_GE(checked, 3) << "too few converged step sizes to speak of a curve";
}

TEST(ReproduceTarget, NacsonDepthTwoLayersFitThePyramidWhereStableShallowNetsCannot) {
  RELUSTAB_REQUIRE_BINARY();
  TempDir dir;
  const StoredExperiment results = run_quick_target("nacson2023-depth", dir);
  // Per step size: the deep net's test error on the pyramid, and the best stable shallow net's.
  std::map<double, double> deep_error, best_shallow_error;
  for (const StoredRun& run : results.runs) {
    if (run.status != "done" || config_text(run, "data.target") != "pyramid") continue;
    const double eta = config_number(run, "optim.eta");
    const double error = run.metric("val_mse_clean");
    if (config_number(run, "model.depth") == 2.0) {
      // The exact deep pyramid is a minimum of sharpness ~1.8: stable for eta below ~1.1, where GD
      // stays at it (training error at the noise level) and where the claim is about; above, GD
      // leaves it for a flatter, worse fit, as the theory says it must.
      const bool stayed = run.metric("train_mse") <= 10.0 * run.metric("noise_var");
      if (run.metric("stable") == 1.0 && stayed) deep_error[eta] = error;
    } else if (has(run, "stable") && run.metric("stable") == 1.0) {
      const auto it = best_shallow_error.find(eta);
      best_shallow_error[eta] = it == best_shallow_error.end() ? error : std::min(it->second, error);
    }
  }
  int compared = 0;
  for (const auto& [eta, deep] : deep_error) {
    const auto shallow = best_shallow_error.find(eta);
    if (shallow == best_shallow_error.end()) continue;
    SCOPED_TRACE("eta = " + std::to_string(eta));
    EXPECT_LT(deep, 0.1 * shallow->second);
    EXPECT_GT(shallow->second, 1e-4);  // bounded away from zero
    ++compared;
  }
  EXPECT_GE(compared, 1) << "no step size with both a deep and a stable shallow run";
}

TEST(ReproduceTarget, BoursierThresholdInterpolationStopsAndTestLossFalls) {
  RELUSTAB_REQUIRE_BINARY();
  TempDir dir;
  const StoredExperiment results = run_quick_target("boursier2025-threshold", dir);
  // The plain variant (ReLU, GD), seeds pooled by median per n.
  std::map<double, std::vector<const StoredRun*>> by_n;
  for (const StoredRun& run : results.runs) {
    if (run.status != "done" || config_text(run, "model.activation") != "relu" ||
        config_text(run, "optim.optimizer") != "gd") {
      continue;
    }
    by_n[config_number(run, "data.n")].push_back(&run);
  }
  ASSERT_GE(by_n.size(), 3u);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 == 1 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  auto median_metric = [&](double n, const char* name) {
    std::vector<double> values;
    for (const StoredRun* run : by_n.at(n)) values.push_back(run->metric(name));
    return median(values);
  };
  const double smallest = by_n.begin()->first, largest = by_n.rbegin()->first;
  const double noise_var = by_n.begin()->second.front()->metric("noise_var");
  // Below the threshold the net interpolates; above it the training error is the noise level.
  EXPECT_LT(median_metric(smallest, "train_mse"), 0.2 * noise_var);
  EXPECT_GT(median_metric(largest, "train_mse"), 0.5 * noise_var);
  EXPECT_LT(median_metric(largest, "train_mse"), 1.5 * noise_var);
  // ... and the test error falls.
  EXPECT_LT(median_metric(largest, "val_mse"), median_metric(smallest, "val_mse"));
  // Early alignment: most of the output weight sits on neurons aligned with the teacher.
  EXPECT_GT(median_metric(largest, "aligned_fraction_weighted"), 0.5);
  EXPECT_GT(median_metric(largest, "extremal_max_cos"), 0.9);
}

}  // namespace
}  // namespace relustab::test
