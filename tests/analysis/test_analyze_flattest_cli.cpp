// SPDX-License-Identifier: MIT
// `relustab analyze --flattest`: the JSON keys and text lines against flattest_implementation and
// flattest_over_implementations called directly.
#include "cli/cli_runner.h"
#include "test_util.h"

#include <relustab/analysis/flattest.h>
#include <relustab/io/formats.h>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <string>

namespace relustab {
namespace {

struct Files {
  test::TempDir dir;
  ShallowReluNet net;
  Dataset data;
  std::string args;
};

void make_files(Files& f) {
  Rng rng(21);
  f.net = test::random_net(1, 12, rng);
  f.data = test::random_dataset(f.net, 9, rng);
  io::write_net_json(f.dir.file("net.json"), f.net);
  io::write_csv(f.dir.file("data.csv"), f.data);
  f.args = "analyze --net '" + f.dir.file("net.json") + "' --data '" + f.dir.file("data.csv") + "'";
}

TEST(AnalyzeFlattestCli, JsonHasTheFlattestKeysOnlyWhenAsked) {
  if (test::relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  Files f;
  make_files(f);
  // The CSV stores shortest round-trip decimals, so the command sees the same data.
  const Dataset read_back = io::read_csv(f.dir.file("data.csv"));
  const FlattestResult expected = flattest_implementation(f.net, read_back);

  const test::CommandResult with = test::run_relustab(f.args + " --flattest --json");
  ASSERT_EQ(with.exit_code, 0) << with.err;
  const auto json = nlohmann::json::parse(with.out);
  EXPECT_EQ(json.at("flattest_sharpness").get<double>(), expected.sharpness);
  EXPECT_EQ(json.at("flattest_lower_bound").get<double>(), expected.lower_bound);
  EXPECT_EQ(json.at("flattest_iterations").get<int>(), expected.iterations);
  EXPECT_EQ(json.at("flattest_converged").get<bool>(), expected.converged);
  EXPECT_LE(json.at("flattest_sharpness").get<double>(),
            json.at("gn_sharpness").get<double>() * (1.0 + 1e-12));
  // d = 1: the search over all implementations too, the same numbers as the library's.
  const FlattestAllResult all = flattest_over_implementations(f.net, read_back);
  EXPECT_EQ(json.at("flattest_all_sharpness").get<double>(), all.sharpness);
  EXPECT_EQ(json.at("flattest_all_lower_bound").get<double>(), all.lower_bound);
  EXPECT_EQ(json.at("flattest_all_certified").get<bool>(), all.certified);
  EXPECT_EQ(json.at("flattest_all_neurons").get<Index>(), all.neurons);
  EXPECT_EQ(json.at("flattest_all_extra_neurons").get<Index>(), all.extra_neurons);
  EXPECT_EQ(json.at("flattest_all_split_knots").get<Index>(), all.split_knots);
  EXPECT_LE(all.sharpness, expected.sharpness * (1.0 + 1e-12));

  const test::CommandResult without = test::run_relustab(f.args + " --json");
  ASSERT_EQ(without.exit_code, 0) << without.err;
  EXPECT_FALSE(nlohmann::json::parse(without.out).contains("flattest_sharpness"));

  const test::CommandResult text = test::run_relustab(f.args + " --flattest");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("flattest implementation"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("flattest over all implementations"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace relustab
