// SPDX-License-Identifier: MIT
// Acceptance tests of the reproduction targets: every target runs in its quick setting
// (`relustab reproduce TARGET --quick`), its figures are valid files listed in index.html, and the
// papers' claims hold on the stored results, judged here independently of the figure script's verdict
// (which must then say "reproduced"): the step-size switch (Mulayoff et al. 2021, Fig. 1), the
// empirical g (Fig. 2), the edge of stability, the flattest implementation, Theorem 1 and the SGD arm
// (Fig. 3), the large-versus-small step-size contrast of Qiao et al. 2024, and its interpolation versus
// width (catastrophic overfitting near k = n, tempered for k >> n).
#include "reproduce/reproduce_util.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

namespace relustab::test {
namespace {

namespace fs = std::filesystem;

/// Runs `relustab reproduce TARGET --quick` into a temporary directory. The figures are drawn when the
/// figure script is in the source tree (it is written beside this test); otherwise --no-plot.
class QuickTarget {
 public:
  explicit QuickTarget(const std::string& target) : target_(target) {
    plotted_ = !source_dir().empty() && fs::is_regular_file(source_dir() + "/python/figures/plot.py");
    out_ = dir_.file(target + "-quick");
    result_ = run_relustab("reproduce " + target + " --quick --jobs 2 --out " + out_ +
                           (plotted_ ? "" : " --no-plot"));
  }
  const std::string& out() const { return out_; }
  bool plotted() const { return plotted_; }
  const CommandResult& result() const { return result_; }

 private:
  std::string target_;
  TempDir dir_;
  std::string out_;
  bool plotted_ = false;
  CommandResult result_;
};

/// The common part of every target: the command succeeded, the database holds the target's
/// experiment with no run left unfinished, and the figures are valid and indexed.
StoredExperiment check_target(const QuickTarget& run, const std::string& target) {
  EXPECT_EQ(run.result().exit_code, 0) << run.result().out << run.result().err;
  StoredExperiment results = read_results(run.out());
  EXPECT_EQ(results.name, target);
  EXPECT_FALSE(results.runs.empty());
  for (const StoredRun& run_row : results.runs) {
    EXPECT_TRUE(run_row.status == "done" || run_row.status == "failed")
        << "run " << run_row.id << " is " << run_row.status;
  }
  if (run.plotted()) {
    check_figures_and_index(run.out());
  } else {
    std::cout << "[ NOTE     ] python/figures/plot.py not found: figures not checked\n";
  }
  return results;
}

double config_double(const StoredRun& run, const char* key) { return run.config.at(key).get<double>(); }

/// `relustab data` with the run's data settings into `csv`: the training data exactly as execute_run
/// generated them.
bool regenerate_data(const StoredRun& r, const std::string& csv) {
  std::ostringstream data;
  data.precision(17);
  data << "data --out " << csv << " --n " << r.config.at("data.n").get<std::int64_t>() << " --inputs "
       << r.config.at("data.inputs").get<std::string>() << " --lo " << config_double(r, "data.lo")
       << " --hi " << config_double(r, "data.hi") << " --target "
       << r.config.at("data.target").get<std::string>() << " --noise " << config_double(r, "data.noise")
       << " --seed " << r.config.at("data.seed").get<std::uint64_t>();
  const CommandResult result = run_relustab(data.str());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.exit_code == 0;
}

/// The inputs (first column) of a data CSV with a header line.
std::vector<double> read_inputs(const std::string& csv) {
  std::istringstream lines(slurp(csv));
  std::string line;
  std::getline(lines, line);  // header
  std::vector<double> x;
  while (std::getline(lines, line)) {
    if (!line.empty()) x.push_back(std::stod(line.substr(0, line.find(','))));
  }
  return x;
}

/// Writes the inputs standardised to zero mean and unit (population) standard deviation, labels 0:
/// the normalisation of paper 1's Fig. 2.
void write_standardised(const std::vector<double>& x, const std::string& csv) {
  double mean = 0.0, square = 0.0;
  for (const double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  for (const double v : x) square += (v - mean) * (v - mean);
  const double sd = std::sqrt(square / static_cast<double>(x.size()));
  std::ostringstream out;
  out.precision(17);
  out << "x,y\n";
  for (const double v : x) out << (v - mean) / sd << ",0\n";
  std::ofstream(csv) << out.str();
}

/// g at the points (`relustab weight --json SOURCE --at ...`), SOURCE "--data CSV" or "--dist LAW".
std::vector<double> weight_at(const std::string& source, const std::vector<double>& at) {
  std::ostringstream points;
  points.precision(17);
  for (std::size_t i = 0; i < at.size(); ++i) points << (i > 0 ? "," : "") << at[i];
  const CommandResult r = run_relustab("weight --json " + source + " --at " + points.str());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return std::vector<double>(at.size(), std::nan(""));
  return nlohmann::json::parse(r.out)["g"].get<std::vector<double>>();
}

/// The knots t = -b1/w1 of a univariate relustab-net JSON and their slope jumps w2 |w1|, neurons with
/// the same knot merged (w1 = 0 neurons are constants: no knot).
std::map<double, double> knots_of(const nlohmann::json& net) {
  std::map<double, double> jumps;
  for (std::size_t i = 0; i < net.at("b1").size(); ++i) {
    const double w1 = net.at("W1")[i][0].get<double>();
    if (w1 == 0.0) continue;
    jumps[-net.at("b1")[i].get<double>() / w1] += net.at("w2")[i].get<double>() * std::abs(w1);
  }
  return jumps;
}

/// The total variation of f' where the data's g is at least half its maximum (over 2001 points of the
/// data range): the sum of |slope jump| over the knots there.
double variation_where_g_is_large(const nlohmann::json& net, const std::string& csv) {
  const std::vector<double> x = read_inputs(csv);
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  std::vector<double> grid;
  for (int i = 0; i <= 2000; ++i) grid.push_back(*lo + (*hi - *lo) * i / 2000.0);
  const std::vector<double> g_grid = weight_at("--data " + csv, grid);
  const double g_max = *std::max_element(g_grid.begin(), g_grid.end());
  const std::map<double, double> jumps = knots_of(net);
  std::vector<double> at;
  for (const auto& [t, s] : jumps) at.push_back(t);
  const std::vector<double> g = weight_at("--data " + csv, at);
  double variation = 0.0;
  std::size_t i = 0;
  for (const auto& [t, s] : jumps) {
    if (g[i++] >= 0.5 * g_max) variation += std::abs(s);
  }
  return variation;
}

/// Theorem 1's right-hand side 1/eta - 1/2 at the final step size, plus Theorem 2's Delta where a knot
/// of f sits on a data point (the run's metric neurons_on_data).
double theorem_bound(const StoredRun& r) {
  const double rhs = 1.0 / r.metric("final_eta") - 0.5;
  return r.metric("neurons_on_data") > 0.0 ? rhs + r.metric("thm2_delta") : rhs;
}

/// GD stops once the loss stays below loss_tol for `patience` steps; a top eigenvalue above 2/eta by
/// delta makes the top-eigendirection component grow by (1 + eta delta) per step, which at an
/// oscillation amplitude below loss_tol goes unseen over the patience window only for relative
/// excesses of order 1e-3 or less: the slack of "sharpness <= 2/eta" at a converged run.
constexpr double kStopSlack = 1e-3;

void expect_verdict_reproduced(const QuickTarget& run) {
  if (!run.plotted()) return;
  const nlohmann::json verdict = nlohmann::json::parse(slurp(run.out() + "/figures/verdict.json"));
  EXPECT_EQ(verdict.at("outcome"), "reproduced") << verdict.dump(1);
}

TEST(ReproduceTarget, MulayoffFig1SwitchLeavesTheSharpMinimumForASmootherOne) {
  if (relustab_bin().empty() || source_dir().empty()) GTEST_SKIP() << "RELUSTAB_BIN/SOURCE_DIR not set";
  const QuickTarget run("mulayoff2021-fig1");
  const StoredExperiment results = check_target(run, "mulayoff2021-fig1");
  ASSERT_EQ(results.runs.size(), 2u);  // run A (x1) and run B (x3), one sweep
  const StoredRun* a = nullptr;
  const StoredRun* b = nullptr;
  for (const StoredRun& r : results.runs) {
    (config_double(r, "optim.switch_factor") == 1.0 ? a : b) = &r;
  }
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_EQ(a->status, "done") << a->reason;
  ASSERT_EQ(b->status, "done") << b->reason;
  const double eta = config_double(*a, "optim.eta");
  const double eta_b = config_double(*b, "optim.switch_factor") * eta;
  // Both converge; B switched "near the minimum" and converged at the larger step size.
  EXPECT_EQ(a->metric("outcome"), 0.0);
  EXPECT_EQ(b->metric("outcome"), 0.0);
  const double switch_step = b->metric("switch_step");
  EXPECT_GE(switch_step, 0.0);
  EXPECT_DOUBLE_EQ(b->metric("final_eta"), eta_b);
  // A's minimum is too sharp for 3 eta.
  EXPECT_GT(a->metric("sharpness"), 2.0 / eta_b);
  // B's loss jumps after the switch: its largest logged loss after the switch is at least 10 times the
  // last one before it.
  const StoredLog log_b = read_log(run.out(), b->id);
  ASSERT_EQ(log_b.count("loss"), 1u);
  double before = std::nan(""), after = 0.0;
  for (const auto& [step, loss] : log_b.at("loss")) {
    if (static_cast<double>(step) < switch_step) before = loss;
    if (static_cast<double>(step) > switch_step) after = std::max(after, loss);
  }
  constexpr double kLossJumpFactor = 10.0;
  EXPECT_GE(after, kLossJumpFactor * before) << "loss " << before << " before the switch, " << after
                                             << " after";
  // B ends at a flatter minimum with a smaller weighted TV, and less |f''| where g is large.
  EXPECT_LT(b->metric("sharpness"), a->metric("sharpness"));
  EXPECT_LT(b->metric("weighted_tv"), a->metric("weighted_tv"));
  TempDir work;
  const std::string csv = work.file("data.csv");
  ASSERT_TRUE(regenerate_data(*a, csv));
  const nlohmann::json net_a = read_net(run.out(), a->id), net_b = read_net(run.out(), b->id);
  ASSERT_FALSE(net_a.is_null() || net_b.is_null()) << "both nets stored";
  EXPECT_LT(variation_where_g_is_large(net_b, csv), variation_where_g_is_large(net_a, csv));
  // Both end stable for their final step size, and satisfy Theorem 1 (Theorem 2 with a knot on data).
  for (const StoredRun* r : {a, b}) {
    SCOPED_TRACE("run " + std::to_string(r->id));
    EXPECT_LE(r->metric("sharpness") * r->metric("final_eta") / 2.0, 1.0 + kStopSlack);
    EXPECT_LE(r->metric("weighted_tv"), theorem_bound(*r));
  }
  expect_verdict_reproduced(run);
}

TEST(ReproduceTarget, MulayoffFig2EmpiricalWeightApproachesThePopulation) {
  if (relustab_bin().empty() || source_dir().empty()) GTEST_SKIP() << "RELUSTAB_BIN/SOURCE_DIR not set";
  const QuickTarget run("mulayoff2021-fig2");
  const StoredExperiment results = check_target(run, "mulayoff2021-fig2");
  TempDir work;
  // A grid over the bulk of the three unit-variance laws; outside it the population g is below 0.01.
  std::vector<double> grid;
  for (int i = 0; i <= 200; ++i) grid.push_back(-2.5 + 5.0 * i / 200.0);
  // Paper 1's quoted population values g(0) of the unit-variance laws (5 digits).
  const std::map<std::string, double> g_at_zero = {
      {"uniform", 0.28641}, {"gaussian", 0.25518}, {"laplace", 0.21651}};
  for (const std::string law : {"uniform", "gaussian", "laplace"}) {
    SCOPED_TRACE(law);
    const std::vector<double> population = weight_at("--dist " + law, grid);
    EXPECT_NEAR(weight_at("--dist " + law, {0.0}).front(), g_at_zero.at(law), 1e-5);
    const double peak = *std::max_element(population.begin(), population.end());
    // Mean over seeds of max |g_emp - g_pop| on the grid, per n, for each sample standardised to zero
    // mean and unit standard deviation as in the paper; the data of each run regenerated from its
    // configuration exactly as execute_run generated them.
    std::map<std::int64_t, std::pair<double, int>> error_by_n;
    for (const StoredRun& r : results.runs) {
      if (r.config.at("data.inputs") != law) continue;
      const std::string raw = work.file("data.csv"), standardised = work.file("standardised.csv");
      ASSERT_TRUE(regenerate_data(r, raw));
      write_standardised(read_inputs(raw), standardised);
      const std::vector<double> empirical = weight_at("--data " + standardised, grid);
      double error = 0.0;
      for (std::size_t i = 0; i < empirical.size(); ++i) {
        error = std::max(error, std::abs(empirical[i] - population[i]));
      }
      const std::int64_t n = r.config.at("data.n").get<std::int64_t>();
      error_by_n[n].first += error;
      error_by_n[n].second += 1;
    }
    ASSERT_GE(error_by_n.size(), 3u);
    ASSERT_EQ(error_by_n.begin()->first, 20) << "the paper's n = 20 is in the sweep";
    std::vector<double> errors;
    for (const auto& [n, sum_count] : error_by_n) errors.push_back(sum_count.first / sum_count.second);
    // Close at the paper's n = 20: within a quarter of the population peak (the figure's curves).
    constexpr double kCloseFraction = 0.25;
    EXPECT_LE(errors.front(), kCloseFraction * peak);
    // The sup error of an empirical g shrinks like n^(-1/2) (it is built from empirical CDFs and
    // means); from n = 20 to n = 10^4 that is a factor 22, of which we ask 5, and at the largest n we
    // ask for 0.03, about a tenth of g(0) (0.22 to 0.29 for these laws).
    constexpr double kShrinkFactor = 5.0;
    constexpr double kLargestNError = 0.03;
    EXPECT_LT(errors.back() * kShrinkFactor, errors.front());
    EXPECT_LT(errors.back(), kLargestNError);
    for (std::size_t i = 1; i < errors.size(); ++i) EXPECT_LT(errors[i], errors[i - 1]) << "n index " << i;
  }
  expect_verdict_reproduced(run);
}

/// The sharpness where GD first comes near a minimum: at the lowest-loss log row (loss below 1e-4)
/// before the first row at the edge of stability (sharpness x eta_t / 2 >= 0.99); NaN if none.
double nearby_minimum_sharpness(const StoredLog& log) {
  if (log.count("sharpness") == 0 || log.count("eta") == 0 || log.count("loss") == 0) return std::nan("");
  const std::map<std::int64_t, double> eta(log.at("eta").begin(), log.at("eta").end());
  const std::map<std::int64_t, double> loss(log.at("loss").begin(), log.at("loss").end());
  double lowest = 1e-4, sharpness = std::nan("");
  for (const auto& [step, value] : log.at("sharpness")) {
    if (eta.count(step) == 0 || loss.count(step) == 0) continue;
    if (value * eta.at(step) / 2.0 >= 0.99) break;
    if (loss.at(step) < lowest) {
      lowest = loss.at(step);
      sharpness = value;
    }
  }
  return sharpness;
}

TEST(ReproduceTarget, MulayoffFig3GradientDescentConvergesAtTheEdgeOfStability) {
  if (relustab_bin().empty() || source_dir().empty()) GTEST_SKIP() << "RELUSTAB_BIN/SOURCE_DIR not set";
  const QuickTarget run("mulayoff2021-fig3");
  const StoredExperiment results = check_target(run, "mulayoff2021-fig3");
  ASSERT_GE(results.runs.size(), 4u);
  // "At the edge": GD that converged at the edge ends a little below 2/eta (the oscillation along the
  // top eigenvector dies out once the sharpness is just under it): within 5% below, kStopSlack above.
  constexpr double kEdgeBelow = 0.05;
  // The paper calls Lemma 4 "relatively tight" against the flattest implementation: within a factor 2
  // (1.45 at most when written).
  constexpr double kTightFactor = 2.0;
  // The chain Lemma 4 <= certified <= flattest (all) <= flattest (rescalings) up to rounding.
  constexpr double kChainSlack = 1e-9;
  int gd_at_edge = 0;
  std::map<std::int64_t, int> sgd_runs, sgd_converged;
  for (const StoredRun& r : results.runs) {
    const double eta = config_double(r, "optim.eta");
    const std::int64_t batch = r.config.at("optim.batch").get<std::int64_t>();
    SCOPED_TRACE("eta = " + std::to_string(eta) + ", batch " + std::to_string(batch));
    ASSERT_EQ(r.status, "done") << r.reason;
    const bool converged = r.metric("outcome") == 0.0;
    const double sharpness = r.metric("sharpness");
    const double edge_ratio = sharpness * eta / 2.0;
    if (batch == 0) {
      EXPECT_TRUE(converged) << "every GD run converges";
      EXPECT_EQ(r.metric("final_eta"), eta) << "converged at the target step size, not in the warm-up";
      // Where the minima near the initialisation are unstable for eta, GD converges at the edge.
      const double nearby = nearby_minimum_sharpness(read_log(run.out(), r.id));
      ASSERT_TRUE(std::isfinite(nearby)) << "the sharpness log shows GD near a minimum";
      if (nearby * eta / 2.0 > 1.01) {
        EXPECT_GE(edge_ratio, 1.0 - kEdgeBelow) << "nearby minimum's sharpness " << nearby;
        ++gd_at_edge;
      }
      EXPECT_LE(r.metric("flattest_all_sharpness"), kTightFactor * r.metric("lemma4_bound"));
    } else {
      ++sgd_runs[batch];
      if (converged) ++sgd_converged[batch];
    }
    if (!converged) continue;  // the claims below are about minima
    // Stable: sharpness <= 2/eta (Lemma 1, necessary for GD and SGD alike).
    EXPECT_LE(edge_ratio, 1.0 + kStopSlack);
    // Lemma 4 and the flattest implementation are statements about (1/n) sum grad f grad f^T; the
    // Hessian differs from it by at most sqrt(1 + R^2) sqrt(2 L), R = max |x_j| (the residual term).
    const double radius =
        std::max(std::abs(config_double(r, "data.lo")), std::abs(config_double(r, "data.hi")));
    const double hessian_vs_gn = std::sqrt(1.0 + radius * radius) * std::sqrt(2.0 * r.metric("loss"));
    EXPECT_LE(r.metric("lemma4_bound"), r.metric("flattest_all_lower_bound") * (1.0 + kChainSlack));
    EXPECT_LE(r.metric("flattest_all_lower_bound"),
              r.metric("flattest_all_sharpness") * (1.0 + kChainSlack));
    EXPECT_LE(r.metric("flattest_all_sharpness"), r.metric("flattest_sharpness") * (1.0 + kChainSlack));
    EXPECT_LE(r.metric("flattest_sharpness"), sharpness + hessian_vs_gn);
    // Theorem 1 (Theorem 2's + Delta where a knot sits on a data point).
    EXPECT_LE(r.metric("weighted_tv"), theorem_bound(r));
  }
  EXPECT_GE(gd_at_edge, 3);
  // The SGD arm: two batch sizes, each with runs that converged (to stable minima, checked above).
  EXPECT_EQ(sgd_runs.size(), 2u);
  for (const auto& [batch, count] : sgd_runs) EXPECT_GE(sgd_converged[batch], 1) << "batch " << batch;
  expect_verdict_reproduced(run);
}

using test::median;

/// Median of a metric over runs (runs without it skipped; NaN when none is left).
double median_metric(const std::vector<const StoredRun*>& runs, const char* metric) {
  std::vector<double> values;
  for (const StoredRun* r : runs) {
    if (r->has(metric) && std::isfinite(r->metric(metric))) values.push_back(r->metric(metric));
  }
  return values.empty() ? NAN : median(values);
}

/// The runs of a step-size target by arm (warm-up or not) and step size.
using ArmRuns = std::map<bool, std::map<double, std::vector<const StoredRun*>>>;
ArmRuns runs_by_arm_and_eta(const StoredExperiment& results) {
  ArmRuns arms;
  for (const StoredRun& r : results.runs) {
    EXPECT_EQ(r.status, "done") << r.reason;
    arms[config_double(r, "optim.warmup_steps") > 0][config_double(r, "optim.eta")].push_back(&r);
  }
  return arms;
}

TEST(ReproduceTarget, QiaoFig1ErrorIsUShapedAndLargeStepSparsityIsNeuronDeath) {
  if (relustab_bin().empty() || source_dir().empty()) GTEST_SKIP() << "RELUSTAB_BIN/SOURCE_DIR not set";
  const QuickTarget run("qiao2024-fig1");
  const StoredExperiment results = check_target(run, "qiao2024-fig1");
  const ArmRuns arms = runs_by_arm_and_eta(results);
  ASSERT_EQ(arms.size(), 2u);
  for (const auto& [warm, by_eta] : arms) {
    SCOPED_TRACE(warm ? "after a warm-up" : "from the start");
    ASSERT_GE(by_eta.size(), 3u);
    // The U: the smallest median interior MSE is at neither end of the step-size range.
    std::vector<double> errors;
    for (const auto& [eta, runs] : by_eta) errors.push_back(median_metric(runs, "mse_interior"));
    const auto best = std::min_element(errors.begin(), errors.end()) - errors.begin();
    EXPECT_GT(best, 0);
    EXPECT_LT(best, static_cast<long>(errors.size()) - 1);
    for (const auto& [eta, runs] : by_eta) {
      for (const StoredRun* r : runs) {
        // A theorem, so in every run: sharpness >= 1 + 2 int|f''|g - 2 (R+1) sqrt(2L), the last
        // term being 2 (noninterpolating_bound - thm1_rhs).
        const double correction = r->metric("noninterpolating_bound") - r->metric("thm1_rhs");
        EXPECT_GE(r->metric("sharpness") * (1 + 1e-9), r->metric("lemma4_bound") - 2 * correction);
      }
    }
    const auto& smallest = by_eta.begin()->second;
    const auto& largest = by_eta.rbegin()->second;
    if (!warm) {
      // From the start the largest step size kills most neurons: that is where its sparsity is.
      EXPECT_LE(median_metric(largest, "effective_knots_weighted"),
                0.5 * median_metric(smallest, "effective_knots_weighted"));
      EXPECT_GE(median_metric(largest, "dead_neurons"), 80.0);
    } else {
      // After a warm-up (almost) no neuron dies beyond those dead at the initialisation.
      EXPECT_LE(median_metric(largest, "dead_neurons"), median_metric(smallest, "dead_neurons") + 5);
    }
  }
  if (run.plotted()) {
    EXPECT_EQ(verdict_outcome(run.out()), "partly reproduced");
  }
}

TEST(ReproduceTarget, QiaoEtaLargeStepDoesNotFitTheNoiseAndItsSparsityIsNeuronDeath) {
  if (relustab_bin().empty() || source_dir().empty()) GTEST_SKIP() << "RELUSTAB_BIN/SOURCE_DIR not set";
  const QuickTarget run("qiao2024-eta");
  const StoredExperiment results = check_target(run, "qiao2024-eta");
  // Three arms per initialisation: eta = 0.4 from the start, eta = 0.4 after a warm-up, eta = 0.01.
  std::map<double, std::map<std::string, const StoredRun*>> by_seed;
  for (const StoredRun& r : results.runs) {
    ASSERT_EQ(r.status, "done") << r.reason;
    const double eta = config_double(r, "optim.eta");
    const bool warm = config_double(r, "optim.warmup_steps") > 0;
    by_seed[config_double(r, "run.seed")][eta == 0.01 ? "small" : (warm ? "warm" : "cold")] = &r;
  }
  ASSERT_GE(by_seed.size(), 2u);
  std::map<std::string, std::vector<const StoredRun*>> by_arm;
  for (const auto& [seed, arms] : by_seed) {
    for (const auto& [name, r] : arms) by_arm[name].push_back(r);
  }
  // Over the initialisations (medians): eta = 0.01 nearly interpolates, its training MSE far below
  // the noise variance; eta = 0.4, from the start or after the warm-up, does not fit the noise.
  const double noise_var = median_metric(by_arm.at("small"), "noise_var");
  EXPECT_LT(median_metric(by_arm.at("small"), "train_mse"), 0.25 * noise_var);
  for (const char* name : {"cold", "warm"}) {
    EXPECT_GT(median_metric(by_arm.at(name), "train_mse"),
              2.0 * median_metric(by_arm.at("small"), "train_mse")) << name;
  }
  for (const auto& [seed, arms] : by_seed) {
    SCOPED_TRACE("run.seed " + std::to_string(seed));
    ASSERT_EQ(arms.size(), 3u);
    const StoredRun& small = *arms.at("small");
    for (const char* name : {"cold", "warm"}) {
      SCOPED_TRACE(name);
      const StoredRun& large = *arms.at(name);
      // The large step ends stable: at the edge of stability at most (1% band), with the weighted
      // TV inside the non-interpolating bound of Qiao et al.
      EXPECT_LE(large.metric("edge_ratio"), 1.01);
      EXPECT_LE(large.metric("weighted_tv"), large.metric("noninterpolating_bound"));
    }
    // From a cold start the fit is sparse, and the cause is stated: most neurons died.
    const StoredRun& cold = *arms.at("cold");
    EXPECT_LE(cold.metric("effective_knots_weighted"), 0.5 * small.metric("effective_knots_weighted"));
    EXPECT_GE(cold.metric("dead_neurons"), 0.8 * config_double(cold, "model.width"));
    // Through the warm-up (almost) no neuron dies beyond those dead at the shared initialisation,
    // and the fit keeps about as many effective knots as eta = 0.01.
    const StoredRun& warm = *arms.at("warm");
    EXPECT_LE(warm.metric("dead_neurons"), small.metric("dead_neurons") + 5);
    EXPECT_GT(warm.metric("effective_knots_weighted"), 0.5 * small.metric("effective_knots_weighted"));
  }
  if (run.plotted()) {
    EXPECT_EQ(verdict_outcome(run.out()), "partly reproduced");
  }
}


TEST(ReproduceTarget, QiaoWidthCatastrophicNearNTemperedForLargeWidths) {
  if (relustab_bin().empty() || source_dir().empty()) GTEST_SKIP() << "RELUSTAB_BIN/SOURCE_DIR not set";
  const QuickTarget run("qiao2024-width");
  const StoredExperiment results = check_target(run, "qiao2024-width");
  ASSERT_FALSE(results.runs.empty());
  const double n = config_double(results.runs.front(), "data.n");
  const double noise = config_double(results.runs.front(), "data.noise");
  const double variance = noise * noise;
  // Per width: the error against f0 on the data range (mse_full) of every seed, in units of sigma^2.
  std::map<std::int64_t, std::vector<double>> error_by_width;
  for (const StoredRun& r : results.runs) {
    const std::int64_t width = r.config.at("model.width").get<std::int64_t>();
    SCOPED_TRACE("width " + std::to_string(width) + ", run " + std::to_string(r.id));
    ASSERT_EQ(r.status, "done") << r.reason;
    ASSERT_EQ(config_double(r, "data.n"), n);
    ASSERT_EQ(config_double(r, "data.noise"), noise);
    const double train_mse = 2.0 * r.metric("loss");  // loss = (1/2n) sum r_j^2
    if (static_cast<double>(width) + 1.0 >= n) {
      // Interpolation: the features have rank n and the training MSE is rounding, far below sigma^2.
      EXPECT_EQ(r.metric("output_rank"), n);
      EXPECT_LT(train_mse, 1e-10 * variance);
    } else {
      // Fewer unknowns (k + 1) than labels: a least-squares fit, which cannot interpolate noise.
      EXPECT_EQ(r.metric("output_rank"), static_cast<double>(width) + 1.0);
      EXPECT_GT(train_mse, 1e-3 * variance);
    }
    error_by_width[width].push_back(r.metric("mse_full") / variance);
  }
  // The quick setting has widths at the threshold (k = n - 1, n), and k >= 10 n.
  ASSERT_TRUE(error_by_width.count(static_cast<std::int64_t>(n) - 1) == 1 &&
              error_by_width.count(static_cast<std::int64_t>(n)) == 1);
  const double at_threshold = std::max(median(error_by_width.at(static_cast<std::int64_t>(n) - 1)),
                                       median(error_by_width.at(static_cast<std::int64_t>(n))));
  std::vector<std::pair<std::int64_t, double>> large;  // (k, median error / sigma^2) for k >= 10 n
  for (const auto& [width, errors] : error_by_width) {
    if (static_cast<double>(width) >= 10.0 * n) large.emplace_back(width, median(errors));
  }
  ASSERT_GE(large.size(), 2u);
  // Catastrophic near k = n: the median error over seeds is many times the noise variance and many
  // times the error of the widest nets. Tempered for k >> n: of the order of sigma^2, not growing.
  constexpr double kCatastrophic = 10.0;       // in units of sigma^2 ...
  constexpr double kCatastrophicFactor = 10.0;  // ... and relative to the largest width
  constexpr double kTemperedLow = 0.1, kTemperedHigh = 3.0;
  constexpr double kGrowthAllowed = 1.25;
  EXPECT_GE(at_threshold, kCatastrophic);
  EXPECT_GE(at_threshold, kCatastrophicFactor * large.back().second);
  for (const auto& [width, error] : large) {
    EXPECT_GE(error, kTemperedLow) << "k = " << width;
    EXPECT_LE(error, kTemperedHigh) << "k = " << width;
  }
  EXPECT_LE(large.back().second, kGrowthAllowed * large.front().second);
  if (run.plotted()) {
    const nlohmann::json verdict =
        nlohmann::json::parse(slurp(run.out() + "/figures/verdict.json"));
    EXPECT_EQ(verdict.at("outcome"), "reproduced") << verdict.dump(1);
  }
}


TEST(ReproduceTarget, QiaoKnotsSparsityFromTheStartIsNeuronDeath) {
  if (relustab_bin().empty() || source_dir().empty()) GTEST_SKIP() << "RELUSTAB_BIN/SOURCE_DIR not set";
  const QuickTarget run("qiao2024-knots");
  const StoredExperiment results = check_target(run, "qiao2024-knots");
  const ArmRuns arms = runs_by_arm_and_eta(results);
  ASSERT_EQ(arms.size(), 2u);
  const auto& cold = arms.at(false);
  EXPECT_LE(median_metric(cold.rbegin()->second, "effective_knots_weighted"),
            0.5 * median_metric(cold.begin()->second, "effective_knots_weighted"));
  EXPECT_GE(median_metric(cold.rbegin()->second, "dead_neurons"), 80.0);
  for (const auto& [eta, runs] : arms.at(true)) {
    EXPECT_LE(median_metric(runs, "dead_neurons"),
              median_metric(arms.at(true).begin()->second, "dead_neurons") + 5)
        << "eta " << eta;
  }
  // What we find instead of "knots leave the data points": at the largest step size the active
  // knots sit closer to the inputs than uniformly placed knots would.
  for (const auto& [warm, by_eta] : arms) {
    for (const StoredRun* r : by_eta.rbegin()->second) {
      if (!r->has("knot_distance_q50")) continue;  // no active knot
      EXPECT_LT(r->metric("knot_distance_q50"), r->metric("uniform_knot_distance_q50"))
          << "run " << r->id;
    }
  }
  if (run.plotted()) {
    EXPECT_EQ(verdict_outcome(run.out()), "partly reproduced");
  }
}

TEST(ReproduceTarget, QiaoRateInteriorErrorFallsAtLeastLikeNToTheMinusFourFifths) {
  if (relustab_bin().empty() || source_dir().empty()) GTEST_SKIP() << "RELUSTAB_BIN/SOURCE_DIR not set";
  const QuickTarget run("qiao2024-rate");
  const StoredExperiment results = check_target(run, "qiao2024-rate");
  // Least squares of log mse_interior on log n over every run, with the slope's standard error.
  std::vector<double> lx, ly;
  for (const StoredRun& r : results.runs) {
    ASSERT_EQ(r.status, "done") << r.reason;
    EXPECT_LE(r.metric("edge_ratio"), 1.01) << "run " << r.id << " is not stable for its step size";
    lx.push_back(std::log(config_double(r, "data.n")));
    ly.push_back(std::log(r.metric("mse_interior")));
  }
  ASSERT_GE(lx.size(), 4u);
  const double m = static_cast<double>(lx.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) mx += lx[i] / m, my += ly[i] / m;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) sxx += (lx[i] - mx) * (lx[i] - mx), sxy += (lx[i] - mx) * (ly[i] - my);
  const double slope = sxy / sxx;
  double rss = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) {
    const double e = ly[i] - my - slope * (lx[i] - mx);
    rss += e * e;
  }
  const double stderr_slope = std::sqrt(rss / (m - 2) / sxx);
  EXPECT_LE(slope - 2 * stderr_slope, -0.8) << "slope " << slope << " +- " << stderr_slope;
  if (run.plotted()) {
    EXPECT_EQ(verdict_outcome(run.out()), "reproduced");
  }
}

}  // namespace
}  // namespace relustab::test
