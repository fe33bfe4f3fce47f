// SPDX-License-Identifier: MIT
// One name for the step size: --eta everywhere, --lr accepted as the same option, and a misspelt
// step-size flag answered with the right one (exit 2).
#include "cli_runner.h"

#include <nlohmann/json.hpp>

namespace relustab::test {
namespace {

class CliStepSize : public SmallProblemCli {};

TEST_F(CliStepSize, TrainTakesEtaAndLrAsTheSameOption) {
  const std::string common = "train --data " + data_ + " --width 5 --steps 40 --seed 3 --quiet --out ";
  const CommandResult by_eta = run_relustab(common + dir_.file("eta") + " --eta 0.05");
  const CommandResult by_lr = run_relustab(common + dir_.file("lr") + " --lr 0.05");
  ASSERT_EQ(by_eta.exit_code, 0) << by_eta.err;
  ASSERT_EQ(by_lr.exit_code, 0) << by_lr.err;
  EXPECT_EQ(slurp(dir_.file("eta/net.json")), slurp(dir_.file("lr/net.json")));
  const auto summary = nlohmann::json::parse(slurp(dir_.file("eta/summary.json")));
  EXPECT_NE(summary.dump().find("0.05"), std::string::npos) << summary.dump();
  // A different step size gives a different net: the alias is not ignored.
  ASSERT_EQ(run_relustab(common + dir_.file("other") + " --lr 0.06").exit_code, 0);
  EXPECT_NE(slurp(dir_.file("eta/net.json")), slurp(dir_.file("other/net.json")));
}

TEST_F(CliStepSize, AnalyzeTakesEtaAndLr) {
  const CommandResult by_eta = run_relustab("analyze --json --net " + net_ + " --data " + data_ + " --eta 0.25");
  const CommandResult by_lr = run_relustab("analyze --json --net " + net_ + " --data " + data_ + " --lr 0.25");
  ASSERT_EQ(by_eta.exit_code, 0) << by_eta.err;
  ASSERT_EQ(by_lr.exit_code, 0) << by_lr.err;
  EXPECT_EQ(by_eta.out, by_lr.out);
  EXPECT_EQ(nlohmann::json::parse(by_lr.out)["two_over_eta"].get<double>(), 8.0);
}

TEST_F(CliStepSize, DemoTakesLrSpellings) {
  const CommandResult r = run_relustab("demo --json --width 4 --steps 3 --lr-small 0.01 --lr-large 0.3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CommandResult e = run_relustab("demo --json --width 4 --steps 3 --eta-small 0.01 --eta-large 0.3");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(r.out, e.out);
}

// GD on mse = 1/n sum r^2 at eta is GD on half_mse at 2 eta step for step (the gradient is exactly
// twice as large), so demo --loss mse reports the same nets: twice the loss and sharpness, the same
// verdict and Theorem 1 bound, and its table says the convention.
TEST_F(CliStepSize, DemoLossMseIsHalfMseAtTwiceTheStep) {
  const std::string common = "demo --width 6 --steps 400 --seed 2 ";
  const CommandResult mse = run_relustab(common + "--json --loss mse --eta-small 0.02 --eta-large 0.15");
  const CommandResult half = run_relustab(common + "--json --eta-small 0.04 --eta-large 0.3");
  ASSERT_EQ(mse.exit_code, 0) << mse.err;
  ASSERT_EQ(half.exit_code, 0) << half.err;
  const auto m = nlohmann::json::parse(mse.out);
  const auto h = nlohmann::json::parse(half.out);
  for (const char* run : {"small", "large"}) {
    EXPECT_EQ(m[run]["loss_function"], "mse");
    EXPECT_EQ(h[run]["loss_function"], "half_mse");
    EXPECT_EQ(m[run]["loss"].get<double>(), 2 * h[run]["loss"].get<double>()) << run;
    EXPECT_EQ(m[run]["sharpness"].get<double>(), 2 * h[run]["sharpness"].get<double>()) << run;
    for (const char* same : {"weighted_tv", "thm1_rhs", "edge_ratio", "stability", "knots"}) {
      EXPECT_EQ(m[run][same], h[run][same]) << run << " " << same;
    }
  }
  const CommandResult table = run_relustab(common + "--loss mse --eta-small 0.02 --eta-large 0.15");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("training loss 1/n sum r^2"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("eta' = 2 eta"), std::string::npos) << table.out;
  expect_bad_input(common + "--loss l1", {"--loss", "l1"});
}

TEST_F(CliStepSize, MisspeltStepSizeSuggestsEta) {
  const std::string train = "train --data " + data_ + " --width 3 --out " + dir_.file("o") + " ";
  for (const std::string flag : {"--step", "--learning-rate", "--eta0", "--etta", "--step-size"}) {
    expect_bad_input(train + flag + " 0.1", {"unknown option '" + flag + "'", "did you mean '--eta'"});
    expect_bad_input("analyze --net " + net_ + " --data " + data_ + " " + flag + " 0.1",
                     {"analyze: unknown option '" + flag + "'", "did you mean '--eta'"});
  }
  // --step is also one letter from train's --steps: both are offered.
  expect_bad_input(train + "--step 0.1", {"'--eta' or '--steps'"});
  // Nothing close: named, without a guess.
  const CommandResult r = run_relustab("analyze --net " + net_ + " --data " + data_ + " --zzzzzz 1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option '--zzzzzz'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("did you mean"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("o")));
}

TEST_F(CliStepSize, RunFilesNameTheStepSizeEta) {
  // The parameter table has one key for the step size: optim.lr is refused with the right key.
  const auto exp = dir_.write("exp.toml", "name = \"x\"\n[optim]\nlr = 0.1\n");
  expect_bad_input("sweep " + exp + " --quiet --out " + dir_.file("runs"),
                   {"exp.toml:3", "unknown key 'optim.lr'", "did you mean 'optim.eta'"});
}

}  // namespace
}  // namespace relustab::test
