// SPDX-License-Identifier: MIT
// `relustab analyze --backend cpu-gelu`: the GeLU net's loss, sharpness and Gauss-Newton sharpness,
// checked against finite differences of a brute-force GeLU loss written here, and no ReLU theory.
#include "cli_runner.h"

#include <Eigen/Dense>
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

std::string net_json(const Eigen::VectorXd& t) {
  std::string w1, b1, w2;
  for (int i = 0; i < kWidth; ++i) {
    const std::string sep = i == 0 ? "" : ",";
    w1 += sep + "[" + number(t[i]) + "]";
    b1 += sep + number(t[kWidth + i]);
    w2 += sep + number(t[2 * kWidth + i]);
  }
  return R"({"format":"relustab-net","version":1,"input_dim":1,"width":)" +
         std::to_string(kWidth) + R"(,"W1":[)" + w1 + R"(],"b1":[)" + b1 + R"(],"w2":[)" + w2 +
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
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(A).eigenvalues().maxCoeff();
}

class CliGelu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set (run through ctest)";
    net_ = dir_.write("net.json", net_json(problem_.theta));
    data_ = dir_.write("data.csv", data_csv(problem_));
  }
  std::string analyze(const std::string& extra) const {
    return "analyze --net " + net_ + " --data " + data_ + " " + extra;
  }
  Problem problem_ = make_problem();
  TempDir dir_;
  std::string net_, data_;
};

TEST_F(CliGelu, AnalyzeJsonReportsTheGeluCurvatureAndNoReluTheory) {
  const CommandResult r = run_relustab(analyze("--json --eta 0.5 --backend cpu-gelu"));
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

  // The same parameters read as a ReLU net: another sharpness, and the ReLU theory is present.
  const CommandResult relu = run_relustab(analyze("--json --eta 0.5 --backend cpu"));
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
  const CommandResult r = run_relustab(analyze("--eta 0.5 --backend cpu-gelu"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gelu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("n/a (ReLU theory)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sharpness (Hessian lambda_max)"), std::string::npos) << r.out;
  const CommandResult relu = run_relustab(analyze("--eta 0.5 --backend cpu"));
  ASSERT_EQ(relu.exit_code, 0) << relu.err;
  EXPECT_EQ(relu.out.find("n/a"), std::string::npos) << relu.out;
}

TEST_F(CliGelu, FlattestIsRefusedForGelu) {
  const CommandResult r = run_relustab(analyze("--flattest --backend cpu-gelu"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--flattest"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cpu-gelu"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
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
