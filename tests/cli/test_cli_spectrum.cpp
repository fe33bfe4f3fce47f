// SPDX-License-Identifier: MIT
// `relustab analyze` with the spectrum flags: the JSON holds what the library's analyze() computes
// for the same request (and the top eigenvalues of the dense Hessian), and bad flags exit 2.
#include "cli_runner.h"

#include <relustab/api.h>
#include <relustab/curvature/curvature.h>
#include <relustab/io/formats.h>

#include "dense_oracles.h"
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace relustab::test {
namespace {

class AnalyzeSpectrumCli : public SmallProblemCli {};

TEST_F(AnalyzeSpectrumCli, JsonEqualsTheLibrary) {
  for (const std::string loss : {"half_mse", "mse"}) {
    SCOPED_TRACE(loss);
    const std::string out = must_run(
        "analyze --json --top-k 3 --lambda-min --trace-samples 40 --density-probes 2 "
        "--density-steps 4 --spectrum-seed 9 --loss " + loss + " --net " + quote(net_) +
        " --data " + quote(data_));
    const auto j = nlohmann::json::parse(out);
    AnalyzeRequest request;
    request.loss = parse_loss(loss);
    request.spectrum.top_k = 3;
    request.spectrum.lambda_min = true;
    request.spectrum.trace_samples = 40;
    request.spectrum.density_probes = 2;
    request.spectrum.density_steps = 4;
    request.spectrum.seed = 9;
    const ShallowReluNet net = io::read_net(net_);
    const Dataset data = io::read_csv(data_);
    const AnalysisOutput direct = analyze(net, data, request);
    ASSERT_TRUE(direct.spectrum.has_value());
    const SpectrumOutput& s = *direct.spectrum;
    for (std::size_t i = 0; i < 3; ++i) {
      const std::string name = "hessian_eigenvalue_" + std::to_string(i + 1);
      EXPECT_EQ(j.at(name).get<double>(), s.top[i].value) << name;
      EXPECT_EQ(j.at(name + "_residual").get<double>(), s.top[i].residual) << name;
      EXPECT_EQ(j.at(name + "_converged").get<bool>(), s.top[i].converged) << name;
    }
    EXPECT_EQ(j.at("lambda_min").get<double>(), s.lambda_min->value);
    EXPECT_EQ(j.at("hessian_trace").get<double>(), s.trace->value);
    EXPECT_EQ(j.at("hessian_trace_stderr").get<double>(), s.trace->standard_error);
    EXPECT_EQ(j.at("hessian_trace_samples").get<int>(), 40);
    const auto& density = j.at("spectral_density");
    EXPECT_EQ(density.at("nodes").get<std::vector<double>>(), s.density->nodes);
    EXPECT_EQ(density.at("weights").get<std::vector<double>>(), s.density->weights);
    EXPECT_EQ(density.at("probe_steps").get<std::vector<int>>(), s.density->probe_steps);
    // And against the dense Hessian's eigenvalues (the closed form, Eigen's solver).
    const Vec exact = symmetric_eigenvalues(loss_scale(request.loss) * dense_hessian(net, data));
    for (Index i = 0; i < 3; ++i) {
      EXPECT_NEAR(s.top[static_cast<std::size_t>(i)].value, exact[exact.size() - 1 - i], 1e-9);
    }
    EXPECT_NEAR(s.lambda_min->value, exact[0], 1e-9);
  }
}

TEST_F(AnalyzeSpectrumCli, NoSpectrumKeysUnlessAsked) {
  const auto j = nlohmann::json::parse(
      must_run("analyze --json --net " + quote(net_) + " --data " + quote(data_)));
  for (const char* key : {"hessian_eigenvalue_1", "lambda_min", "hessian_trace", "spectral_density"}) {
    EXPECT_FALSE(j.contains(key)) << key;
  }
}

TEST_F(AnalyzeSpectrumCli, BadFlagsExitTwo) {
  const std::string files = " --net " + quote(net_) + " --data " + quote(data_);
  expect_bad_input("analyze --top-k 0" + files, {"--top-k"});
  expect_bad_input("analyze --top-k x" + files, {"--top-k"});
  expect_bad_input("analyze --top-k 8" + files, {"top_k: expected an integer in [0, 7]"});
  expect_bad_input("analyze --trace-samples -3" + files, {"--trace-samples"});
  expect_bad_input("analyze --density-probes 2" + files, {"--density-steps"});
  expect_bad_input("analyze --density-steps 2" + files, {"--density-probes"});
  expect_bad_input("analyze --density-probes 2 --density-steps 8" + files,
                   {"density_steps: expected an integer in [0, 7]"});
  expect_bad_input("analyze --spectrum-seed -1" + files, {"--spectrum-seed"});
}

}  // namespace
}  // namespace relustab::test
