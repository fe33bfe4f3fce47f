// SPDX-License-Identifier: MIT
// Acceptance tests of issue 6: the quick settings of papers 3 and 4 run through
// `relustab reproduce TARGET --quick`, and the claims hold on the stored results: the multivariate
// stability bound is tight between 1 + 2 x weighted norm and 2/eta (Nacson et al. 2023); a
// two-hidden-layer net represents the pyramid stably where stable shallow nets cannot fit it (depth
// separation); and past the optimization threshold GD stops interpolating and converges near the
// least-squares fit, the neurons having aligned with the teacher early in training (Boursier and
// Flammarion 2025).
#include "test_util.h"
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
  // The claim, for GD (batch 0) and SGD (batch > 0), at every converged step size:
  // 1 + 2 x weighted norm <= sharpness <= 2/eta, i.e. weighted norm <= 1/eta - 1/2, within the
  // 1% edge tolerance of the stored stability_class; GD at the edge; the lower side close at the
  // largest converged eta; the weighted norm falling with eta.
  constexpr double kEdge = 1e-2;
  constexpr double kLowerClose = 0.9;
  std::map<double, std::map<double, const StoredRun*>> converged_by_batch;  // batch -> eta -> run
  for (const StoredRun& run : results.runs) {
    const double batch = config_number(run, "optim.batch");
    converged_by_batch[batch];  // every arm of the sweep, converged or not
    if (converged(run)) converged_by_batch[batch][config_number(run, "optim.eta")] = &run;
  }
  ASSERT_EQ(converged_by_batch.size(), 2u) << "expected a GD arm (batch 0) and an SGD arm";
  ASSERT_EQ(converged_by_batch.begin()->first, 0.0);
  for (const auto& [batch, arm] : converged_by_batch) {
    SCOPED_TRACE("batch = " + std::to_string(batch));
    EXPECT_GE(arm.size(), 3u) << "too few converged step sizes to speak of a curve";
    for (const auto& [eta, run] : arm) {
      SCOPED_TRACE("eta = " + std::to_string(eta));
      const double sharpness = run->metric("sharpness");
      const double limit = 2.0 / run->metric("final_eta");
      EXPECT_NEAR(run->metric("two_over_eta"), limit, 1e-12 * limit);
      const double weighted_norm = run->metric("weighted_norm");
      EXPECT_NEAR(run->metric("lemma4_bound"), 1.0 + 2.0 * weighted_norm, 1e-12 * (1 + weighted_norm));
      // 1 + 2 x weighted norm <= lambda_max(GN) (the neuron-wise bound), and <= the sharpness.
      EXPECT_LE(1.0 + 2.0 * weighted_norm, run->metric("gn_sharpness") * (1.0 + 1e-9));
      EXPECT_LE(1.0 + 2.0 * weighted_norm, sharpness * (1.0 + kEdge));
      EXPECT_LE(sharpness, limit * (1.0 + kEdge));
      EXPECT_LE(weighted_norm, (limit / 2.0 - 0.5) + kEdge * limit / 2.0);  // <= 1/eta - 1/2
      EXPECT_LE(run->metric("stability_class"), 1.0);  // stable or at the edge, not unstable
      EXPECT_LE(run->metric("sharpness_residual"), 1e-6 * sharpness);
      EXPECT_GE(run->metric("val_error"), 0.0);
      EXPECT_LE(run->metric("val_error"), 1.0);
      if (batch == 0.0) {
        // GD sits at the edge: the upper side of the bound is tight.
        EXPECT_NEAR(sharpness / limit, 1.0, kEdge);
        EXPECT_EQ(run->metric("stability_class"), 1.0);
      }
    }
  }
  const auto& gd = converged_by_batch.at(0.0);
  if (gd.size() >= 2) {
    const auto lower_ratio = [](const StoredRun* run) {
      return run->metric("lemma4_bound") / run->metric("sharpness");
    };
    EXPECT_GE(lower_ratio(gd.rbegin()->second), kLowerClose);
    EXPECT_GT(lower_ratio(gd.rbegin()->second), lower_ratio(gd.begin()->second));
    double previous = std::numeric_limits<double>::infinity();
    for (const auto& [eta, run] : gd) {
      EXPECT_LT(run->metric("weighted_norm"), previous) << "eta = " << eta;
      previous = run->metric("weighted_norm");
    }
  }
  const std::string verdict_path = dir.file("nacson2023-tightness-quick") + "/figures/verdict.json";
  if (fs::is_regular_file(source_dir() + "/python/figures/plot.py")) {
    const nlohmann::json verdict = nlohmann::json::parse(slurp(verdict_path));
    EXPECT_EQ(verdict.at("outcome"), "reproduced") << verdict.dump(1);
  }
}

TEST(ReproduceTarget, NacsonDepthTwoLayersFitThePyramidWhereStableShallowNetsCannot) {
  RELUSTAB_REQUIRE_BINARY();
  TempDir dir;
  const StoredExperiment results = run_quick_target("nacson2023-depth", dir);
  // GD at the edge of stability without converging hovers around 2/eta: a shallow run counts as
  // stable up to 5% above it. The exact deep pyramid is stable where eta x its sharpness / 2 <= 1
  // within the 1% tolerance of the stored stability_class.
  constexpr double kSlack = 0.05, kEdge = 1e-2;
  std::map<double, const StoredRun*> deep;                         // eta -> run
  std::map<double, std::map<double, const StoredRun*>> pyramid;  // width -> eta -> run
  std::map<double, std::map<double, const StoredRun*>> bump;     // width -> eta -> run
  for (const StoredRun& run : results.runs) {
    ASSERT_EQ(run.status, "done") << "run " << run.id << ": " << run.reason;
    const double eta = config_number(run, "optim.eta");
    const double width = config_number(run, "model.width");
    if (config_number(run, "model.depth") == 2.0) {
      deep[eta] = &run;
    } else if (config_text(run, "data.target") == "pyramid") {
      pyramid[width][eta] = &run;
    } else {
      bump[width][eta] = &run;
    }
  }
  ASSERT_GE(deep.size(), 2u);
  ASSERT_GE(pyramid.size(), 2u) << "several shallow widths on the pyramid";
  ASSERT_FALSE(bump.empty());
  const auto stable = [&](const StoredRun* run) {
    return run->metric("sharpness") <= run->metric("two_over_eta") * (1.0 + kSlack);
  };
  const auto error = [](const StoredRun* run) { return run->metric("val_mse_clean"); };
  const double noise_var = deep.begin()->second->metric("noise_var");

  // 1. The exact deep pyramid (its sharpness at the smallest step size, where GD surely stays):
  //    at every step size where it is stable GD stays there, at the noise level.
  const double exact_sharpness = deep.begin()->second->metric("sharpness");
  std::vector<double> stayed;
  for (const auto& [eta, run] : deep) {
    if (eta * exact_sharpness / 2.0 > 1.0 + kEdge) continue;
    SCOPED_TRACE("deep, eta = " + std::to_string(eta));
    EXPECT_LE(error(run), noise_var);
    EXPECT_LE(run->metric("train_mse"), 10.0 * noise_var);
    EXPECT_NEAR(run->metric("sharpness"), exact_sharpness, 1e-3 * exact_sharpness);
    stayed.push_back(eta);
  }
  EXPECT_GE(stayed.size(), 2u);
  // 2. Depth separation there: every stable shallow net, of any width, is at least 100x worse.
  for (const double eta : stayed) {
    SCOPED_TRACE("eta = " + std::to_string(eta));
    double best = std::numeric_limits<double>::infinity();
    for (const auto& [width, runs] : pyramid) {
      const auto it = runs.find(eta);
      if (it != runs.end() && stable(it->second)) best = std::min(best, error(it->second));
    }
    ASSERT_TRUE(std::isfinite(best)) << "no stable shallow net";
    EXPECT_GE(best, 100.0 * error(deep.at(eta)));
  }
  // 3. Width does not lower the floor: the widest net's error >= half the narrowest's, at every eta.
  const auto& narrowest = pyramid.begin()->second;
  const auto& widest = pyramid.rbegin()->second;
  for (const auto& [eta, run] : narrowest) {
    SCOPED_TRACE("eta = " + std::to_string(eta));
    ASSERT_TRUE(widest.count(eta) == 1);
    EXPECT_GE(error(widest.at(eta)), 0.5 * error(run));
  }
  // 4. The bound limits them: 1 + 2 wn <= (2/eta)(1 + slack) for every stable shallow run, and the
  //    pyramid error grows at least tenfold from the smallest to the largest step size.
  for (const auto* group : {&pyramid, &bump}) {
    for (const auto& [width, runs] : *group) {
      for (const auto& [eta, run] : runs) {
        if (!stable(run)) continue;
        EXPECT_LE(1.0 + 2.0 * run->metric("weighted_norm"), run->metric("two_over_eta") * (1.0 + kSlack))
            << "width " << width << ", eta " << eta;
      }
    }
  }
  for (const auto& [width, runs] : pyramid) {
    EXPECT_GE(error(runs.rbegin()->second), 10.0 * error(runs.begin()->second)) << "width " << width;
  }
  // 5. The smooth bump is fitted by stable shallow nets wherever 1/eta - 1/2 leaves room for the
  //    weighted norm of its fit at the smallest step size, and beats the pyramid there.
  for (const auto& [width, runs] : bump) {
    const double needed = runs.begin()->second->metric("weighted_norm");
    double largest = 0.0;
    for (const auto& [eta, run] : runs) {
      if (1.0 / eta - 0.5 < needed) continue;
      SCOPED_TRACE("bump, eta = " + std::to_string(eta));
      EXPECT_TRUE(stable(run));
      EXPECT_LE(error(run), 1e-4);
      largest = eta;
    }
    ASSERT_GT(largest, 0.0);
    ASSERT_TRUE(pyramid.count(width) == 1 && pyramid.at(width).count(largest) == 1);
    EXPECT_GE(error(pyramid.at(width).at(largest)), 10.0 * error(runs.at(largest)));
  }
  const std::string verdict_path = dir.file("nacson2023-depth-quick") + "/figures/verdict.json";
  if (fs::is_regular_file(source_dir() + "/python/figures/plot.py")) {
    const nlohmann::json verdict = nlohmann::json::parse(slurp(verdict_path));
    EXPECT_EQ(verdict.at("outcome"), "reproduced") << verdict.dump(1);
  }
}

using test::median;

/// The training MSE (twice the logged loss) of a run's log rows, in step order.
std::vector<std::pair<std::int64_t, double>> training_mse(const StoredRun& run) {
  std::vector<std::pair<std::int64_t, double>> rows;
  const auto it = run.logs.find("loss");
  if (it == run.logs.end()) return rows;
  for (const auto& [step, loss] : it->second) rows.emplace_back(step, 2.0 * loss);
  return rows;
}

/// |MSE(S) - MSE(S')| / MSE(S') between the last logged step S' <= S / 2 and the last step S.
double change_over_last_half(const StoredRun& run) {
  const auto rows = training_mse(run);
  if (rows.size() < 2) return std::numeric_limits<double>::infinity();
  const std::int64_t last = rows.back().first;
  double before = rows.front().second;
  for (const auto& [step, mse] : rows) {
    if (2 * step <= last) before = mse;
  }
  return std::abs(rows.back().second - before) / before;
}

/// The output-weighted aligned fraction at the last log row whose training MSE is above the
/// midpoint of the initial and final ones: the end of the early phase.
double early_aligned_fraction(const StoredRun& run) {
  const auto rows = training_mse(run);
  const auto aligned = run.logs.find("aligned_fraction_weighted");
  if (rows.empty() || aligned == run.logs.end()) return std::numeric_limits<double>::quiet_NaN();
  const double midpoint = 0.5 * (rows.front().second + rows.back().second);
  std::int64_t end_of_phase = -1;
  for (const auto& [step, mse] : rows) {
    if (mse > midpoint) end_of_phase = step;
  }
  for (const auto& [step, value] : aligned->second) {
    if (step == end_of_phase) return value;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

TEST(ReproduceTarget, BoursierThresholdInterpolationStopsAndTheFitApproachesLeastSquares) {
  RELUSTAB_REQUIRE_BINARY();
  TempDir dir;
  const StoredExperiment results = run_quick_target("boursier2025-threshold", dir);
  // Runs per variant (activation, optimiser) and n.
  std::map<std::string, std::map<double, std::vector<const StoredRun*>>> variants;
  for (const StoredRun& run : results.runs) {
    ASSERT_EQ(run.status, "done") << "run " << run.id << ": " << run.reason;
    // Every run reports the gradient norm at its end.
    EXPECT_TRUE(has(run, "grad_norm")) << "run " << run.id;
    const std::string variant =
        config_text(run, "model.activation") + "/" + config_text(run, "optim.optimizer");
    variants[variant][config_number(run, "data.n")].push_back(&run);
  }
  ASSERT_EQ(variants.size(), 3u);  // ReLU with GD and Adam, GeLU with GD
  const double noise_var = results.runs.front().metric("noise_var");
  auto median_metric = [](const std::vector<const StoredRun*>& runs, const char* name) {
    std::vector<double> values;
    for (const StoredRun* run : runs) values.push_back(run->metric(name));
    return median(values);
  };
  for (const auto& [variant, by_n] : variants) {
    SCOPED_TRACE(variant);
    ASSERT_GE(by_n.size(), 3u);
    const auto& smallest = by_n.begin()->second;
    const auto& largest = by_n.rbegin()->second;
    // The threshold in every variant: near interpolation at the smallest n, a training MSE of the
    // order of the noise at the largest, and a lower test MSE there.
    EXPECT_LT(median_metric(smallest, "train_mse"), 0.1 * noise_var);
    EXPECT_GT(median_metric(largest, "train_mse"), 0.5 * noise_var);
    EXPECT_LT(median_metric(largest, "val_mse"), median_metric(smallest, "val_mse"));
  }
  // The paper's setting (ReLU, GD; its theory is gradient flow) in full.
  for (const char* variant : {"relu/gd"}) {
    SCOPED_TRACE(variant);
    const auto& by_n = variants.at(variant);
    const auto& smallest = by_n.begin()->second;
    const auto& largest = by_n.rbegin()->second;
    // Below the threshold: interpolation.
    EXPECT_LE(median_metric(smallest, "train_mse"), 0.01 * noise_var);
    // Above it: no interpolation, a fit near least squares on the same data (training MSE at least
    // 0.75 x least squares', test MSE at most 1.2 x least squares' on the same test set).
    EXPECT_GE(median_metric(largest, "train_mse"), 0.75 * median_metric(largest, "ols_train_mse"));
    EXPECT_LE(median_metric(largest, "val_mse"), 1.2 * median_metric(largest, "ols_val_mse"));
    // Converged: stopped by a stop rule (interpolation or a stationary point), or on a plateau
    // (training MSE changed by at most 5% over the last half of the run).
    for (const auto* runs : {&smallest, &largest}) {
      for (const StoredRun* run : *runs) {
        const bool stopped = converged(*run);
        EXPECT_TRUE(stopped || change_over_last_half(*run) <= 0.05)
            << "run " << run->id << " (n = " << config_number(*run, "data.n")
            << "): training MSE still changes by " << change_over_last_half(*run);
        // A stop rule means a training loss below loss_tol or a gradient norm below grad_tol.
        if (stopped) {
          EXPECT_TRUE(run->metric("loss") < config_number(*run, "optim.loss_tol") ||
                      run->metric("grad_norm") < config_number(*run, "optim.grad_tol"))
              << "run " << run->id;
        }
      }
    }
    // Early alignment at the largest n: at the end of the early phase the output weight sits on
    // neurons aligned with the teacher.
    std::vector<double> early;
    for (const StoredRun* run : largest) early.push_back(early_aligned_fraction(*run));
    EXPECT_GE(median(early), 0.9);
    // ... and it is an early phase: at the first logged step the neurons point anywhere.
    for (const StoredRun* run : largest) {
      EXPECT_LT(run->logs.at("aligned_fraction_weighted").front().second, 0.5) << "run " << run->id;
    }
  }
}

}  // namespace
}  // namespace relustab::test
