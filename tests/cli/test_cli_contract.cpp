// SPDX-License-Identifier: MIT
// The `analyze --json` contract (README.md), checked against values computed here by brute force.
#include "cli_runner.h"

#include "dense_oracles.h"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace relustab::test {
namespace {

// kSmallNetJson (cli_runner.h) on these samples.
const std::vector<double> kX = {-1.0, -0.3, 0.4, 0.9};
const std::vector<double> kY = {0.2, 0.1, -0.2, 0.5};

// theta = [w1_1, w1_2, b1_1, b1_2, w2_1, w2_2, b2] (Mulayoff et al. 2021, eqs. 18-20).
double brute_loss(const Eigen::VectorXd& t) {
  double sum = 0.0;
  for (size_t j = 0; j < kX.size(); ++j) {
    double f = t[6];
    for (int i = 0; i < 2; ++i) f += t[4 + i] * std::max(0.0, t[i] * kX[j] + t[2 + i]);
    sum += (f - kY[j]) * (f - kY[j]);
  }
  return sum / (2.0 * static_cast<double>(kX.size()));
}

// Empirical g of Mulayoff et al. eqs (21)-(23) by direct loops.
double brute_g(double t) {
  const double n = static_cast<double>(kX.size());
  double left_count = 0, left_sum = 0, right_count = 0, right_sum = 0;
  for (double x : kX) {
    if (x < t) left_count += 1, left_sum += x;
    if (x > t) right_count += 1, right_sum += x;
  }
  if (left_count == 0 || right_count == 0) return 0.0;
  const double ml = left_sum / left_count, mr = right_sum / right_count;
  const double gm = (left_count / n) * (left_count / n) * (t - ml) * std::sqrt(1 + ml * ml);
  const double gp = (right_count / n) * (right_count / n) * (mr - t) * std::sqrt(1 + mr * mr);
  return std::min(gm, gp);
}

TEST(CliContract, AnalyzeJsonKeysAndValues) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  TempDir dir;
  std::string csv = "x,y\n";
  for (size_t j = 0; j < kX.size(); ++j) csv += std::to_string(kX[j]) + "," + std::to_string(kY[j]) + "\n";
  const auto data = dir.write("data.csv", csv);
  const auto net = dir.write("net.json", kSmallNetJson);
  const double eta = 0.25;
  const CommandResult r = run_relustab("analyze --json --eta 0.25 --net " + net + " --data " + data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"loss", "sharpness", "gn_sharpness", "weighted_tv", "weighted_norm",
                          "lemma4_bound", "knots", "two_over_eta", "thm1_rhs", "stable"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  Eigen::VectorXd theta(7);
  theta << 1.0, -0.5, 0.1, 0.25, 0.3, -0.7, 0.05;
  EXPECT_NEAR(j["loss"].get<double>(), brute_loss(theta), 1e-15);

  // Oracle for the sharpness: central second differences of the brute-force loss (no kink within
  // the step, so the error is O(h^2) ~ 1e-8 relative to entries of order 1).
  const double h = 1e-4;
  Eigen::MatrixXd H(7, 7);
  for (int a = 0; a < 7; ++a) {
    for (int b = 0; b < 7; ++b) {
      Eigen::VectorXd pp = theta, pm = theta, mp = theta, mm = theta;
      pp[a] += h, pp[b] += h;
      pm[a] += h, pm[b] -= h;
      mp[a] -= h, mp[b] += h;
      mm[a] -= h, mm[b] -= h;
      H(a, b) = (brute_loss(pp) - brute_loss(pm) - brute_loss(mp) + brute_loss(mm)) / (4 * h * h);
    }
  }
  const double top = relustab::test::largest_eigenvalue(H);
  constexpr double kFiniteDifferenceTolerance = 1e-6;
  EXPECT_NEAR(j["sharpness"].get<double>(), top, kFiniteDifferenceTolerance);
  EXPECT_LT(j["sharpness_residual"].get<double>(), 1e-10);

  // Knots at -0.1 (jump 0.3 * 1) and 0.5 (jump -0.7 * 0.5), both inside [-1, 0.9].
  const double wtv = 0.3 * brute_g(-0.1) + 0.35 * brute_g(0.5);
  EXPECT_NEAR(j["weighted_tv"].get<double>(), wtv, 1e-14);
  EXPECT_NEAR(j["weighted_norm"].get<double>(), wtv, 1e-14);  // no shared knots: equal
  EXPECT_NEAR(j["lemma4_bound"].get<double>(), 1 + 2 * wtv, 1e-14);
  EXPECT_EQ(j["knots"].get<int>(), 2);
  EXPECT_DOUBLE_EQ(j["two_over_eta"].get<double>(), 2 / eta);
  EXPECT_DOUBLE_EQ(j["thm1_rhs"].get<double>(), 1 / eta - 0.5);
  EXPECT_EQ(j["stable"].get<bool>(), j["sharpness"].get<double>() <= 2 / eta);
  EXPECT_NEAR(j["edge_ratio"].get<double>(), top * eta / 2, kFiniteDifferenceTolerance);
  EXPECT_EQ(j["edge_tolerance"].get<double>(), 0.01);
  const double ratio = j["edge_ratio"].get<double>();
  EXPECT_EQ(j["stability"].get<std::string>(),
            ratio > 1.01 ? "unstable" : (ratio >= 0.99 ? "at the edge" : "stable"));
  // Both knots carry more than 10% of the curvature, so both are effective; no neuron is dead on
  // the data (each is active at x = 0.9).
  EXPECT_EQ(j["effective_knots"].get<int>(), 2);
  EXPECT_EQ(j["dead_neurons"].get<int>(), 0);
  // Lemma 4 per implementation: the Gauss-Newton sharpness is above the bound (a theorem).
  EXPECT_GE(j["gn_sharpness"].get<double>(), j["per_implementation_bound"].get<double>());
  EXPECT_GE(j["per_implementation_bound"].get<double>(), j["lemma4_bound"].get<double>() - 1e-14);
}

TEST(CliContract, PopulationWeightAtZero) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  // Reference values of Mulayoff et al. 2021, eqs. 21-23, unit-variance laws.
  const std::vector<std::pair<std::string, double>> cases = {
      {"uniform", 0.28641}, {"gaussian", 0.25518}, {"laplace", 0.21651}};
  for (const auto& [law, value] : cases) {
    const CommandResult r = run_relustab("weight --json --dist " + law + " --at 0,-1");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_NEAR(j["g"][0].get<double>(), value, 5e-6) << law;
  }
}

TEST(CliContract, TrainingIsBitIdenticalAcrossThreadCounts) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  TempDir dir;
  const auto data = dir.file("data.csv");
  // 700 samples span three blocks of the deterministic reduction.
  ASSERT_EQ(run_relustab("data --n 700 --noise 0.1 --seed 3 --out " + data).exit_code, 0);
  for (const char* batch : {"0", "32"}) {
    std::string nets[2];
    for (int threads = 1; threads <= 2; ++threads) {
      const auto out = dir.file("run" + std::to_string(threads) + batch);
      const CommandResult r = run_relustab("train --quiet --data " + data +
                                           " --width 16 --lr 0.05 --steps 300 --seed 9 --batch " +
                                           batch + " --threads " + std::to_string(threads) + " --out " + out);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      nets[threads - 1] = slurp(out + "/net.json");
    }
    EXPECT_FALSE(nets[0].empty());
    EXPECT_EQ(nets[0], nets[1]) << "batch " << batch;
  }
}

TEST(CliContract, DataKnotsWithTheMinimumNormOutputLayerInterpolate) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  TempDir dir;
  const auto data = dir.file("data.csv");
  ASSERT_EQ(run_relustab("data --n 12 --inputs grid --target tent --noise 0.3 --seed 1 --out " + data)
                .exit_code,
            0);
  // Width n - 1 = 11: one knot in each of the 11 gaps between the grid points, and the unique
  // interpolating output layer; no GD steps.
  const auto out = dir.file("fit");
  const CommandResult r = run_relustab("train --quiet --data " + data +
                                       " --width 11 --lr 0.01 --steps 0 --seed 2 --init data_knots "
                                       "--fit-output min_norm --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(slurp(out + "/summary.json"));
  EXPECT_EQ(summary["fit_output"], "min_norm");
  EXPECT_EQ(summary["steps"], 0);
  EXPECT_LT(summary["final_loss"].get<double>(), 1e-20);
  const auto net = nlohmann::json::parse(slurp(out + "/net.json"));
  std::vector<int> per_gap(11, 0);
  for (std::size_t i = 0; i < 11; ++i) {
    const double knot = -net["b1"][i].get<double>() / net["W1"][i][0].get<double>();
    const double position = (knot + 1.0) / 2.0 * 11.0;  // grid points at -1 + 2 j / 11
    ASSERT_GE(position, -1e-9);
    ASSERT_LT(position, 11.0);
    ++per_gap[static_cast<std::size_t>(std::max(0.0, position))];
  }
  EXPECT_EQ(per_gap, std::vector<int>(11, 1));
}

}  // namespace
}  // namespace relustab::test
