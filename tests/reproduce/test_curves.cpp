// SPDX-License-Identifier: MIT
// `relustab curves --json`: every array checked against values computed here by brute force from the
// definitions (docs/mathematics.md: the weight function g, knots and the weighted TV), plus its input
// errors.
#include "reproduce/reproduce_util.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace relustab::test {
namespace {

// Four neurons: two share the knot t = 0.5 from opposite sides (slope jumps 0.3 |2| and 0.2 |-1|
// merge into 0.8), one has its knot at -0.25, and one has w1 = 0 (a constant, no knot).
const char* kNet =
    R"({"format":"relustab-net","version":1,"input_dim":1,"width":4,)"
    R"("W1":[[2.0],[-1.0],[4.0],[0.0]],"b1":[-1.0,0.5,1.0,0.7],"w2":[0.3,0.2,-0.5,1.5],"b2":-0.1})";
struct Neuron {
  double w1, b1, w2;
};
const std::vector<Neuron> kNeurons = {{2.0, -1.0, 0.3}, {-1.0, 0.5, 0.2}, {4.0, 1.0, -0.5}, {0.0, 0.7, 1.5}};
constexpr double kB2 = -0.1;
const std::vector<double> kX = {-0.9, -0.4, 0.1, 0.35, 0.8};

/// Rounding of a few flops on O(1) numbers: the command and these loops sum in different orders.
constexpr double kTol = 1e-12;

double brute_f(double x) {
  double f = kB2;
  for (const Neuron& n : kNeurons) f += n.w2 * std::max(0.0, n.w1 * x + n.b1);
  return f;
}

// Empirical g of Mulayoff et al. eqs (21)-(23) by direct loops (strict inequalities; 0 outside the
// data range).
double brute_g(double t) {
  const double n = static_cast<double>(kX.size());
  double left_count = 0, left_sum = 0, right_count = 0, right_sum = 0;
  for (double x : kX) {
    if (x < t) left_count += 1, left_sum += x;
    if (x > t) right_count += 1, right_sum += x;
  }
  const double x_min = *std::min_element(kX.begin(), kX.end());
  const double x_max = *std::max_element(kX.begin(), kX.end());
  if (t < x_min || t > x_max || left_count == 0 || right_count == 0) return 0.0;
  const double ml = left_sum / left_count, mr = right_sum / right_count;
  const double gm = (left_count / n) * (left_count / n) * (t - ml) * std::sqrt(1 + ml * ml);
  const double gp = (right_count / n) * (right_count / n) * (mr - t) * std::sqrt(1 + mr * mr);
  return std::min(gm, gp);
}

// The merged knots of kNet by hand: t = -b1/w1, jump w2 |w1|.
const std::vector<std::pair<double, double>> kKnots = {{-0.25, -0.5 * 4.0}, {0.5, 0.3 * 2.0 + 0.2 * 1.0}};

double gaussian(double z, double h) {
  return std::exp(-0.5 * (z / h) * (z / h)) / (h * std::sqrt(2.0 * std::numbers::pi));
}

struct Files {
  TempDir dir;
  std::string net, data;
  Files() {
    std::string csv = "x,y\n";
    for (double x : kX) csv += std::to_string(x) + "," + std::to_string(std::sin(3 * x)) + "\n";
    data = dir.write("data.csv", csv);
    net = dir.write("net.json", kNet);
  }
};

TEST(Curves, JsonMatchesBruteForce) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  Files files;
  const double h = 0.07;
  const CommandResult r = run_relustab("curves --json --net " + files.net + " --data " + files.data +
                                       " --from -1.5 --to 1.5 --points 301 --bandwidth 0.07");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"x", "f", "abs_f2_smoothed", "g", "knots", "neurons"}) {
    ASSERT_TRUE(j.contains(key)) << key;
  }
  const auto x = j["x"].get<std::vector<double>>();
  ASSERT_EQ(x.size(), 301u);
  EXPECT_EQ(x.front(), -1.5);
  EXPECT_EQ(x.back(), 1.5);
  ASSERT_EQ(j["f"].size(), x.size());
  ASSERT_EQ(j["g"].size(), x.size());
  ASSERT_EQ(j["abs_f2_smoothed"].size(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(x[i], -1.5 + 3.0 * static_cast<double>(i) / 300.0, kTol) << i;
    EXPECT_NEAR(j["f"][i].get<double>(), brute_f(x[i]), kTol) << "x = " << x[i];
    EXPECT_NEAR(j["g"][i].get<double>(), brute_g(x[i]), kTol) << "x = " << x[i];
    double smoothed = 0.0;
    for (const auto& [t, jump] : kKnots) smoothed += std::abs(jump) * gaussian(x[i] - t, h);
    EXPECT_NEAR(j["abs_f2_smoothed"][i].get<double>(), smoothed, kTol) << "x = " << x[i];
  }
  ASSERT_EQ(j["knots"].size(), kKnots.size());
  for (std::size_t i = 0; i < kKnots.size(); ++i) {
    EXPECT_NEAR(j["knots"][i][0].get<double>(), kKnots[i].first, kTol);
    EXPECT_NEAR(j["knots"][i][1].get<double>(), kKnots[i].second, kTol);
  }
  ASSERT_EQ(j["neurons"].size(), kNeurons.size());
  for (std::size_t i = 0; i < kNeurons.size(); ++i) {
    EXPECT_EQ(j["neurons"][i][0].get<double>(), kNeurons[i].w1);
    EXPECT_EQ(j["neurons"][i][1].get<double>(), kNeurons[i].b1);
    EXPECT_EQ(j["neurons"][i][2].get<double>(), kNeurons[i].w2);
  }
}

TEST(Curves, DefaultRangeCoversTheDataWithMargins) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  Files files;
  const CommandResult r = run_relustab("curves --json --net " + files.net + " --data " + files.data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto x = nlohmann::json::parse(r.out)["x"].get<std::vector<double>>();
  ASSERT_GE(x.size(), 2u);
  EXPECT_LT(x.front(), kX.front());  // margins on both sides, so knots just outside the data show
  EXPECT_GT(x.back(), kX.back());
  EXPECT_TRUE(std::is_sorted(x.begin(), x.end()));
}

TEST(Curves, TextOutputHasOneRowPerPoint) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  Files files;
  const CommandResult r = run_relustab("curves --net " + files.net + " --data " + files.data +
                                       " --points 7");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2 + 7);  // comment, header, 7 rows
}

TEST(Curves, BadInputExitsWithCode2) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  Files files;
  const std::string both = " --net " + files.net + " --data " + files.data;
  CommandResult r = run_relustab("curves --json --from 1 --to 0" + both);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--from/--to"), std::string::npos) << r.err;
  EXPECT_EQ(run_relustab("curves --json --points 1" + both).exit_code, 2);
  EXPECT_EQ(run_relustab("curves --json --bandwidth 0" + both).exit_code, 2);
  EXPECT_EQ(run_relustab("curves --json --net " + files.net + " --data " + files.dir.file("none.csv"))
                .exit_code,
            2);
  // A bivariate net or data set: curves are univariate.
  const std::string net2 = files.dir.write(
      "net2.json", R"({"format":"relustab-net","version":1,"input_dim":2,"width":1,)"
                   R"("W1":[[1.0,2.0]],"b1":[0.0],"w2":[1.0],"b2":0.0})");
  r = run_relustab("curves --json --net " + net2 + " --data " + files.data);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("univariate"), std::string::npos) << r.err;
  const std::string data2 = files.dir.write("data2.csv", "x1,x2,y\n0,1,2\n1,0,3\n");
  r = run_relustab("curves --json --net " + files.net + " --data " + data2);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("univariate"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace relustab::test
