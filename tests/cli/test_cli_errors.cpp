// SPDX-License-Identifier: MIT
// Bad input at the command line: exit code 2, one message naming the file/line/field, nothing written.
#include "cli_runner.h"

namespace relustab::test {
namespace {

class CliErrors : public SmallProblemCli {};

TEST_F(CliErrors, GoodInputSucceeds) {
  const CommandResult r = run_relustab("analyze --net " + net_ + " --data " + data_ + " --eta 0.1");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliErrors, MalformedCsvNamesFileAndLine) {
  const auto bad = dir_.write("bad.csv", "x,y\n0.1,0.2\n0.3,abc\n");
  expect_bad_input("analyze --net " + net_ + " --data " + bad, {"bad.csv", ":3"});
}

TEST_F(CliErrors, WrongColumnCount) {
  const auto bad = dir_.write("cols.csv", "x,y\n0.1,0.2\n0.3,0.4,0.5\n");
  expect_bad_input("analyze --net " + net_ + " --data " + bad, {"cols.csv", ":3"});
}

TEST_F(CliErrors, TruncatedCsvRow) {
  const auto bad = dir_.write("trunc.csv", "x,y\n0.1,0.2\n0.3");
  expect_bad_input("analyze --net " + net_ + " --data " + bad, {"trunc.csv", ":3"});
}

TEST_F(CliErrors, NonFiniteValues) {
  const auto nan = dir_.write("nan.csv", "x,y\n0.1,nan\n");
  expect_bad_input("analyze --net " + net_ + " --data " + nan, {"nan.csv", ":2"});
  const auto inf = dir_.write("inf.csv", "x,y\ninf,0.1\n");
  expect_bad_input("analyze --net " + net_ + " --data " + inf, {"inf.csv", ":2"});
}

TEST_F(CliErrors, EmptyData) {
  const auto header_only = dir_.write("empty.csv", "x,y\n");
  expect_bad_input("analyze --net " + net_ + " --data " + header_only, {"empty.csv"});
  const auto nothing = dir_.write("nothing.csv", "");
  expect_bad_input("analyze --net " + net_ + " --data " + nothing, {"nothing.csv"});
}

TEST_F(CliErrors, MissingFile) {
  expect_bad_input("analyze --net " + net_ + " --data " + dir_.file("absent.csv"), {"absent.csv"});
}

TEST_F(CliErrors, TruncatedJson) {
  const auto bad = dir_.write("trunc.json", std::string(kSmallNetJson).substr(0, 60));
  expect_bad_input("analyze --net " + bad + " --data " + data_, {"trunc.json"});
}

TEST_F(CliErrors, JsonWidthZero) {
  const auto bad = dir_.write(
      "w0.json",
      R"({"format":"relustab-net","version":1,"input_dim":1,"width":0,"W1":[],"b1":[],"w2":[],"b2":0})");
  expect_bad_input("analyze --net " + bad + " --data " + data_, {"w0.json", "width"});
}

TEST_F(CliErrors, JsonWrongRowLength) {
  const auto bad = dir_.write(
      "row.json",
      R"({"format":"relustab-net","version":1,"input_dim":1,"width":2,"W1":[[1.0],[1.0,2.0]],)"
      R"("b1":[0.1,0.2],"w2":[0.3,-0.7],"b2":0.05})");
  expect_bad_input("analyze --net " + bad + " --data " + data_, {"row.json", "W1"});
}

TEST_F(CliErrors, MismatchedInputDimension) {
  const auto data2 = dir_.write("d2.csv", "x1,x2,y\n0.1,0.2,0.3\n0.4,0.5,0.6\n");
  expect_bad_input("analyze --net " + net_ + " --data " + data2, {"d2.csv", "dimension"});
}

TEST_F(CliErrors, NonPositiveOrNonFiniteEta) {
  expect_bad_input("analyze --net " + net_ + " --data " + data_ + " --eta 0", {"--eta"});
  expect_bad_input("analyze --net " + net_ + " --data " + data_ + " --eta -1", {"--eta"});
  expect_bad_input("analyze --net " + net_ + " --data " + data_ + " --eta nan", {"--eta"});
  expect_bad_input("train --data " + data_ + " --width 3 --lr 0 --out " + dir_.file("o"), {"--eta"});
}

TEST_F(CliErrors, WidthZeroForTraining) {
  expect_bad_input("train --data " + data_ + " --width 0 --lr 0.1 --out " + dir_.file("o"),
                   {"--width"});
}

TEST_F(CliErrors, UnknownOption) {
  expect_bad_input("analyze --net " + net_ + " --data " + data_ + " --frobnicate 3", {"frobnicate"});
  expect_bad_input("frobnicate", {"frobnicate"});
}

TEST_F(CliErrors, UnknownInitAndDistribution) {
  expect_bad_input("train --data " + data_ + " --width 3 --lr 0.1 --init nope --out " + dir_.file("o"),
                   {"nope"});
  expect_bad_input("weight --dist cauchy --at 0", {"--dist", "cauchy"});
  expect_bad_input("weight --dist uniform --at 0,abc", {"--at"});
}

TEST_F(CliErrors, DataKnotsNeedOneDimensionalInputsAndFitOutputANameItKnows) {
  const auto planar = dir_.write("planar.csv", "x1,x2,y\n0,1,0.5\n1,0,0.2\n0.5,0.5,0.1\n");
  expect_bad_input("train --data " + planar + " --width 3 --lr 0.1 --init data_knots --out " +
                       dir_.file("o"),
                   {"--init data_knots", "planar.csv"});
  expect_bad_input("train --data " + data_ + " --width 3 --lr 0.1 --fit-output qr --out " +
                       dir_.file("o"),
                   {"--fit-output", "qr"});
}

TEST_F(CliErrors, UnwritableOutputLeavesNothingBehind) {
  // --out names a path below a regular file: the directory cannot be created.
  const auto blocker = dir_.write("blocker", "x");
  expect_bad_input("train --data " + data_ + " --width 3 --lr 0.1 --steps 10 --out " + blocker + "/run",
                   {"blocker"});
  EXPECT_EQ(slurp(blocker), "x");
}

TEST_F(CliErrors, OutputFilesAreWholeAndNoTemporariesRemain) {
  const std::string out = dir_.file("run");
  const CommandResult r =
      run_relustab("train --data " + data_ + " --width 3 --lr 0.1 --steps 50 --quiet --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"log.csv", "net.json", "summary.json"}));
}

}  // namespace
}  // namespace relustab::test

namespace relustab::test {
namespace {

// Sizes above the stated limits are bad input, named with the limit, before anything is allocated:
// before, the first crashed (signed overflow of the parameter count) and the second ended in
// std::bad_alloc with exit code 1.
TEST_F(CliErrors, SizesAboveTheLimitsAreBadInputNotCrashes) {
  expect_bad_input("train --data " + data_ + " --width 3074457345618258603 --lr 0.1 --out " +
                       dir_.file("o"),
                   {"model.width", "10000000"});
  expect_bad_input("data --n 1000000000000 --out " + dir_.file("d.csv"),
                   {"number of samples", "100000000"});
  // A 100-byte net file that promises 2e9 inputs per neuron is refused before it is allocated.
  const auto huge = dir_.write(
      "huge.json", R"({"format":"relustab-net","version":1,"input_dim":2000000000,"width":1,)"
                   R"("W1":[[0.5]],"b1":[0],"w2":[1],"b2":0})");
  expect_bad_input("analyze --net " + huge + " --data " + data_, {"huge.json", "W1' row 1"});
}

}  // namespace
}  // namespace relustab::test
