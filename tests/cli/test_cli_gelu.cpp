// SPDX-License-Identifier: MIT
// `relustab analyze` of a GeLU net file (its activation in the file, no back-end flag): the GeLU net's
// loss, sharpness and Gauss-Newton sharpness, checked against finite differences of a brute-force GeLU
// loss written here, and no ReLU theory; back ends of another activation refused; `train` writes the
// activation it trained with.
#include "cli_runner.h"

#include "dense_oracles.h"
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

namespace relustab::test {
namespace {

// A width-10 univariate net (31 parameters, below the dense threshold) on 12 samples.
constexpr int kWidth = 10;
constexpr int kSamples = 12;
constexpr int kParams = 3 * kWidth + 1;  // theta = [W1 (k), b1 (k), w2 (k), b2]

double gelu(double z) { return 0.5 * z * (1.0 + std::erf(z / std::numbers::sqrt2)); }

struct Problem {
  Eigen::VectorXd theta = Eigen::VectorXd(kParams);
  std::vector<double> x, y, y_clean;
};

/// Fixed, irregular parameters and data (no structure a bug could hide behind).
Problem make_problem() {
  Problem p;
  for (int i = 0; i < kWidth; ++i) {
    p.theta[i] = 1.5 * std::cos(1.3 * i + 0.2);
    p.theta[kWidth + i] = 0.8 * std::sin(0.7 * i + 0.4);
    p.theta[2 * kWidth + i] = std::cos(2.1 * i + 1.0);
  }
  p.theta[3 * kWidth] = 0.1;
  for (int j = 0; j < kSamples; ++j) {
    const double x = -1.8 + 3.3 * j / (kSamples - 1) + 0.05 * std::sin(5.0 * j);
    p.x.push_back(x);
    p.y_clean.push_back(std::sin(2.0 * x));
    p.y.push_back(p.y_clean.back() + 0.3 * std::cos(7.0 * j));
  }
  return p;
}

double output(const Eigen::VectorXd& t, double x) {
  double f = t[3 * kWidth];
  for (int i = 0; i < kWidth; ++i) f += t[2 * kWidth + i] * gelu(t[i] * x + t[kWidth + i]);
  return f;
}

double loss(const Eigen::VectorXd& t, const std::vector<double>& x, const std::vector<double>& y) {
  double sum = 0.0;
  for (size_t j = 0; j < x.size(); ++j) sum += (output(t, x[j]) - y[j]) * (output(t, x[j]) - y[j]);
  return sum / (2.0 * static_cast<double>(x.size()));
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

std::string net_json(const Eigen::VectorXd& t, const std::string& activation) {
  std::string w1, b1, w2;
  for (int i = 0; i < kWidth; ++i) {
    const std::string sep = i == 0 ? "" : ",";
    w1 += sep + "[" + number(t[i]) + "]";
    b1 += sep + number(t[kWidth + i]);
    w2 += sep + number(t[2 * kWidth + i]);
  }
  return R"({"format":"relustab-net","version":1,"input_dim":1,"activation":")" + activation +
         R"(","width":)" + std::to_string(kWidth) + R"(,"W1":[)" + w1 + R"(],"b1":[)" + b1 + R"(],"w2":[)" + w2 +
         R"(],"b2":)" + number(t[3 * kWidth]) + "}";
}

std::string data_csv(const Problem& p) {
  std::string csv = "x,y,y_clean\n";
  for (int j = 0; j < kSamples; ++j) {
    csv += number(p.x[j]) + "," + number(p.y[j]) + "," + number(p.y_clean[j]) + "\n";
  }
  return csv;
}

double top_eigenvalue(const Eigen::MatrixXd& A) {
  return relustab::test::largest_eigenvalue(A);
}

class CliGelu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set (run through ctest)";
    net_ = dir_.write("net.json", net_json(problem_.theta, "gelu"));
    relu_net_ = dir_.write("relu_net.json", net_json(problem_.theta, "relu"));
    data_ = dir_.write("data.csv", data_csv(problem_));
  }
  std::string analyze(const std::string& extra) const {
    return "analyze --net " + net_ + " --data " + data_ + " " + extra;
  }
  std::string analyze_relu(const std::string& extra) const {
    return "analyze --net " + relu_net_ + " --data " + data_ + " " + extra;
  }
  Problem problem_ = make_problem();
  TempDir dir_;
  std::string net_, relu_net_, data_;
};

TEST_F(CliGelu, AnalyzeJsonReportsTheGeluCurvatureAndNoReluTheory) {
  const CommandResult r = run_relustab(analyze("--json --eta 0.5"));  // the file says gelu
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const Problem& p = problem_;
  EXPECT_EQ(j["activation"], "gelu");
  EXPECT_NEAR(j["loss"].get<double>(), loss(p.theta, p.x, p.y), 1e-14);
  EXPECT_NEAR(j["mse_clean"].get<double>(), 2.0 * loss(p.theta, p.x, p.y_clean), 1e-14);

  // The Hessian by central second differences of the loss above (GeLU is smooth; step 1e-4:
  // truncation and rounding ~1e-8 per entry), the Gauss-Newton matrix J^T J / n with J by central
  // differences of the outputs (step 1e-5, error ~1e-10). Weyl turns an entry error e into an
  // eigenvalue error <= P e, so the tolerance is P x 1e-6.
  const double h = 1e-4;
  Eigen::MatrixXd H(kParams, kParams);
  for (int a = 0; a < kParams; ++a) {
    for (int b = 0; b < kParams; ++b) {
      Eigen::VectorXd pp = p.theta, pm = p.theta, mp = p.theta, mm = p.theta;
      pp[a] += h, pp[b] += h;
      pm[a] += h, pm[b] -= h;
      mp[a] -= h, mp[b] += h;
      mm[a] -= h, mm[b] -= h;
      H(a, b) = (loss(pp, p.x, p.y) - loss(pm, p.x, p.y) - loss(mp, p.x, p.y) + loss(mm, p.x, p.y)) /
                (4.0 * h * h);
    }
  }
  Eigen::MatrixXd J(kSamples, kParams);
  const double step = 1e-5;
  for (int a = 0; a < kParams; ++a) {
    Eigen::VectorXd plus = p.theta, minus = p.theta;
    plus[a] += step;
    minus[a] -= step;
    for (int s = 0; s < kSamples; ++s) {
      J(s, a) = (output(plus, p.x[s]) - output(minus, p.x[s])) / (2.0 * step);
    }
  }
  const Eigen::MatrixXd G = J.transpose() * J / static_cast<double>(kSamples);
  const double tol = kParams * 1e-6;
  const double sharpness = j["sharpness"].get<double>();
  EXPECT_NEAR(sharpness, top_eigenvalue(0.5 * (H + H.transpose())), tol);
  EXPECT_NEAR(j["gn_sharpness"].get<double>(), top_eigenvalue(G), tol);
  EXPECT_LT(j["sharpness_residual"].get<double>(), 1e-10 * std::max(1.0, sharpness));
  EXPECT_LT(j["gn_sharpness_residual"].get<double>(),
            1e-10 * std::max(1.0, j["gn_sharpness"].get<double>()));
  EXPECT_TRUE(j["sharpness_converged"].get<bool>());
  EXPECT_DOUBLE_EQ(j["two_over_eta"].get<double>(), 4.0);
  EXPECT_EQ(j["stable"].get<bool>(), sharpness <= 4.0);

  for (const char* key : {"weighted_tv", "weighted_norm", "lemma4_bound", "per_implementation_bound",
                          "knots", "neurons_on_data", "thm1_rhs", "noninterpolating_bound",
                          "thm2_delta"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j[key].is_null()) << key << " = " << j[key];
  }

  // Naming the GeLU back end gives the same numbers, bit for bit.
  const CommandResult named = run_relustab(analyze("--json --eta 0.5 --backend cpu-gelu"));
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(named.out, r.out);

  // The same parameters as a ReLU net: another sharpness, and the ReLU theory is present.
  const CommandResult relu = run_relustab(analyze_relu("--json --eta 0.5"));
  ASSERT_EQ(relu.exit_code, 0) << relu.err;
  const auto k = nlohmann::json::parse(relu.out);
  EXPECT_EQ(k["activation"], "relu");
  EXPECT_GT(std::abs(k["sharpness"].get<double>() - sharpness), 1e-2 * std::abs(sharpness));
  EXPECT_GT(std::abs(k["gn_sharpness"].get<double>() - j["gn_sharpness"].get<double>()), 1e-3);
  for (const char* key : {"weighted_tv", "lemma4_bound", "knots", "thm1_rhs", "thm2_delta"}) {
    EXPECT_FALSE(k[key].is_null()) << key;
  }
}

TEST_F(CliGelu, AnalyzeTextSaysWhichQuantitiesAreReluTheory) {
  const CommandResult r = run_relustab(analyze("--eta 0.5"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gelu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("n/a (ReLU theory)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sharpness (Hessian lambda_max)"), std::string::npos) << r.out;
  const CommandResult relu = run_relustab(analyze_relu("--eta 0.5"));
  ASSERT_EQ(relu.exit_code, 0) << relu.err;
  EXPECT_EQ(relu.out.find("n/a"), std::string::npos) << relu.out;
}

TEST_F(CliGelu, FlattestIsRefusedForGelu) {
  const CommandResult r = run_relustab(analyze("--flattest"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--flattest"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gelu net"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(CliGelu, ABackEndOfAnotherActivationIsRefused) {
  for (const auto& [command, net_activation] :
       {std::pair{analyze("--backend cpu"), "gelu"}, std::pair{analyze("--backend univariate"), "gelu"},
        std::pair{analyze_relu("--backend cpu-gelu"), "relu"}}) {
    const CommandResult r = run_relustab(command);
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.err;
    EXPECT_NE(r.err.find(std::string("the net is a ") + net_activation + " net"), std::string::npos)
        << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST_F(CliGelu, TrainWritesTheActivationItTrainedWith) {
  // --backend cpu-gelu alone, --activation gelu alone, and --init-net of a GeLU net all train a
  // GeLU net; its net.json says so, and analyze (no back-end flag) reads it as one.
  const std::vector<std::string> ways = {"--width 4 --backend cpu-gelu", "--width 4 --activation gelu",
                                         "--init-net " + net_};
  for (size_t w = 0; w < ways.size(); ++w) {
    const std::string out = dir_.file("train" + std::to_string(w));
    const CommandResult r = run_relustab("train --data " + data_ + " --out " + out +
                                         " --lr 0.01 --steps 5 --no-log-sharpness --quiet " + ways[w]);
    ASSERT_EQ(r.exit_code, 0) << ways[w] << "\n" << r.err;
    const CommandResult a =
        run_relustab("analyze --json --net " + out + "/net.json --data " + data_);
    ASSERT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(nlohmann::json::parse(a.out)["activation"], "gelu") << ways[w];
  }
  const CommandResult clash = run_relustab("train --data " + data_ + " --out " + dir_.file("clash") +
                                           " --width 4 --lr 0.01 --steps 5 --activation gelu --backend cpu");
  EXPECT_EQ(clash.exit_code, 2) << clash.err;
  EXPECT_NE(clash.err.find("the net is a gelu net"), std::string::npos) << clash.err;
}

TEST_F(CliGelu, HelpListsTheGeluBackEnd) {
  for (const char* command : {"analyze --help", "train --help"}) {
    const CommandResult r = run_relustab(command);
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("cpu-gelu"), std::string::npos) << command << ":\n" << r.out;
  }
}

}  // namespace
}  // namespace relustab::test
