// SPDX-License-Identifier: MIT
// hessian_spectrum and analyze()'s spectrum request, for both depths and both loss conventions,
// against Eigen's dense eigensolver on the dense Hessian (curvature.h's closed form for one hidden
// layer, deep_curvature_matrix for two) and its exact trace.
#include <relustab/api.h>
#include <relustab/core/error.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/deep_curvature.h>
#include <relustab/model/init.h>

#include "dense_oracles.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace relustab {
namespace {

/// Eigenvalue accuracy: the Lanczos tolerance 1e-10 of the spectrum's eigensolver plus rounding.
constexpr double kSpectrumValueTol = 1e-9;

SpectrumRequest full_request() {
  SpectrumRequest r;
  r.top_k = 3;
  r.lambda_min = true;
  r.trace_samples = 200;
  r.density_probes = 3;
  r.density_steps = 5;
  r.seed = 77;
  return r;
}

/// The spectrum against the eigenvalues and trace of the dense Hessian H.
void expect_spectrum_of(const SpectrumOutput& s, const Matrix& H) {
  const Vec exact = test::symmetric_eigenvalues(H);
  const Index P = exact.size();
  const double scale = std::max(1.0, exact.cwiseAbs().maxCoeff());
  ASSERT_EQ(s.top.size(), 3u);
  for (Index i = 0; i < 3; ++i) {
    const EigenResult& r = s.top[static_cast<std::size_t>(i)];
    EXPECT_NEAR(r.value, exact[P - 1 - i], kSpectrumValueTol * scale) << "eigenvalue " << i + 1;
    EXPECT_TRUE(r.converged);
    EXPECT_NEAR(r.residual, (H * r.vector - r.value * r.vector).norm(), 1e-10 * scale);
  }
  ASSERT_TRUE(s.lambda_min.has_value());
  EXPECT_NEAR(s.lambda_min->value, exact[0], kSpectrumValueTol * scale);
  ASSERT_TRUE(s.trace.has_value());
  EXPECT_EQ(s.trace->samples, 200);
  EXPECT_LE(std::abs(s.trace->value - H.trace()), 4.0 * s.trace->standard_error);
  ASSERT_TRUE(s.density.has_value());
  double total = 0.0;
  for (std::size_t i = 0; i < s.density->nodes.size(); ++i) {
    total += s.density->weights[i];
    EXPECT_GE(s.density->nodes[i], exact[0] - 1e-10 * scale);
    EXPECT_LE(s.density->nodes[i], exact[P - 1] + 1e-10 * scale);
  }
  EXPECT_NEAR(total, 1.0, 1e-13);
}

TEST(HessianSpectrum, OneHiddenLayerInBothConventions) {
  Rng rng(61);
  const ShallowReluNet net = test::random_net(2, 6, rng);
  const Dataset data = test::random_dataset(net, 20, rng);
  for (const Loss loss : {Loss::HalfMse, Loss::Mse}) {
    SCOPED_TRACE(std::string(loss_name(loss)));
    const Matrix H = loss_scale(loss) * dense_hessian(net, data);
    const SpectrumOutput s =
        hessian_spectrum(AnyNet(net), data, full_request(), LossRequest{loss, "auto"});
    expect_spectrum_of(s, H);
    // analyze() computes the same, and leaves the report as it is without the request.
    AnalyzeRequest plain;
    plain.loss = loss;
    AnalyzeRequest with = plain;
    with.spectrum = full_request();
    const AnalysisOutput a = analyze(net, data, with);
    const AnalysisOutput b = analyze(net, data, plain);
    ASSERT_TRUE(a.spectrum.has_value());
    EXPECT_FALSE(b.spectrum.has_value());
    EXPECT_EQ(a.spectrum->top[0].value, s.top[0].value);
    EXPECT_EQ(a.spectrum->trace->value, s.trace->value);
    EXPECT_EQ(a.spectrum->density->weights, s.density->weights);
    EXPECT_EQ(a.report.sharpness.value, b.report.sharpness.value);
    // The metrics: the spectrum's after the report's, only when asked for.
    const Metrics with_metrics = analysis_metrics(a);
    const Metrics plain_metrics = analysis_metrics(b);
    EXPECT_EQ(with_metrics.size(), plain_metrics.size() + 3 * 3 + 3 + 3);
    for (const char* name : {"hessian_eigenvalue_1", "hessian_eigenvalue_3_residual",
                             "hessian_eigenvalue_2_converged", "lambda_min", "lambda_min_residual",
                             "hessian_trace", "hessian_trace_stderr", "hessian_trace_samples"}) {
      EXPECT_NE(find_metric(with_metrics, name), nullptr) << name;
      EXPECT_EQ(find_metric(plain_metrics, name), nullptr) << name;
    }
    EXPECT_EQ(std::get<double>(*find_metric(with_metrics, "hessian_eigenvalue_2")), s.top[1].value);
    EXPECT_EQ(std::get<double>(*find_metric(with_metrics, "hessian_trace_stderr")),
              s.trace->standard_error);
  }
}

TEST(HessianSpectrum, TwoHiddenLayers) {
  Rng rng(62);
  const DeepReluNet net = initialize_deep(2, 5, 3, InitKind::TorchUniform, 1.0, rng);
  Dataset data;
  data.X.resize(14, 2);
  data.y.resize(14);
  for (Index j = 0; j < 14; ++j) {
    data.X(j, 0) = rng.normal();
    data.X(j, 1) = rng.normal();
    data.y[j] = rng.normal();
  }
  const Matrix H = deep_curvature_matrix(net, data, CurvatureKind::Hessian);
  AnalyzeRequest request;
  request.spectrum = full_request();
  const AnalysisOutput out = analyze(AnyNet(net), data, request);
  ASSERT_TRUE(out.spectrum.has_value());
  expect_spectrum_of(*out.spectrum, H);
}

TEST(HessianSpectrum, BadRequestsNameTheField) {
  Rng rng(63);
  const ShallowReluNet net = test::random_net(1, 3, rng);  // P = 10
  const Dataset data = test::random_dataset(net, 8, rng);
  const auto message = [&](const SpectrumRequest& r) {
    AnalyzeRequest request;
    request.spectrum = r;
    return test::message_of([&] { (void)analyze(net, data, request); });
  };
  SpectrumRequest r;
  r.top_k = 11;
  EXPECT_NE(message(r).find("top_k: expected an integer in [0, 10]"), std::string::npos) << message(r);
  r = {};
  r.trace_samples = -1;
  EXPECT_NE(message(r).find("trace_samples: expected an integer >= 0"), std::string::npos);
  r = {};
  r.density_probes = 2;
  EXPECT_NE(message(r).find("density_probes and density_steps"), std::string::npos);
  r.density_steps = 11;
  EXPECT_NE(message(r).find("density_steps: expected an integer in [0, 10]"), std::string::npos);
  r = {};
  r.top_k = 0;  // nothing asked: no error, no spectrum
  AnalyzeRequest nothing;
  nothing.spectrum = r;
  EXPECT_FALSE(analyze(net, data, nothing).spectrum.has_value());
}

}  // namespace
}  // namespace relustab
