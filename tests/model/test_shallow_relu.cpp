// SPDX-License-Identifier: MIT
// ShallowReluNet: the parameter layout of Mulayoff et al. 2021, eqs. 18-20, its views, and predict() against a plain loop.
#include <relustab/core/error.h>
#include <relustab/model/shallow_relu.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "test_util.h"

namespace relustab {
namespace {

/// predict() and the loop sum the same k + 1 terms in different orders; O(10) values.
constexpr double kShallowRoundingTol = 1e-12;

TEST(ShallowReluNet, ParameterCountAndOffsets) {
  const ShallowReluNet net(3, 4);
  EXPECT_EQ(net.n_params(), 4 * 3 + 2 * 4 + 1);
  EXPECT_EQ(ShallowReluNet::n_params(3, 4), 21);
  EXPECT_EQ(ShallowReluNet::n_params(1, 5), 3 * 5 + 1);  // the paper's 3k + 1 for d = 1
  EXPECT_EQ(net.offset_b1(), 12);
  EXPECT_EQ(net.offset_w2(), 16);
  EXPECT_EQ(net.offset_b2(), 20);
  EXPECT_TRUE(net.theta().isZero(0.0));
}

TEST(ShallowReluNet, ViewsFollowDocumentedLayout) {
  // theta[p] = p makes every position identifiable.
  const Index d = 3, k = 4;
  Vec theta(ShallowReluNet::n_params(d, k));
  for (Index p = 0; p < theta.size(); ++p) theta[p] = static_cast<double>(p);
  const ShallowReluNet net(d, k, theta);
  for (Index i = 0; i < k; ++i) {
    for (Index c = 0; c < d; ++c) EXPECT_EQ(net.W1()(i, c), static_cast<double>(i * d + c));  // row-major
    EXPECT_EQ(net.b1()[i], static_cast<double>(k * d + i));
    EXPECT_EQ(net.w2()[i], static_cast<double>(k * d + k + i));
  }
  EXPECT_EQ(net.b2(), static_cast<double>(k * d + 2 * k));
}

TEST(ShallowReluNet, ViewsWriteThroughToTheta) {
  ShallowReluNet net(2, 3);
  net.W1()(2, 1) = 1.5;
  net.b1()[1] = -2.0;
  net.w2()[0] = 3.0;
  net.b2() = 4.0;
  EXPECT_EQ(net.theta()[2 * 2 + 1], 1.5);
  EXPECT_EQ(net.theta()[6 + 1], -2.0);
  EXPECT_EQ(net.theta()[9 + 0], 3.0);
  EXPECT_EQ(net.theta()[12], 4.0);
  EXPECT_EQ(net.theta().cwiseAbs().sum(), 1.5 + 2.0 + 3.0 + 4.0);  // nothing else touched
  // And an update of theta (what an optimiser does) is seen through the views.
  net.theta()[0] = 7.0;
  EXPECT_EQ(net.W1()(0, 0), 7.0);
}

TEST(ShallowReluNet, CopyIsIndependent) {
  ShallowReluNet a(1, 2);
  ShallowReluNet b = a;
  b.w2()[1] = 5.0;
  EXPECT_EQ(a.w2()[1], 0.0);
  EXPECT_EQ(b.w2()[1], 5.0);
}

TEST(ShallowReluNet, PredictMatchesBruteForceLoop) {
  for (Index d : {1, 5}) {
    SCOPED_TRACE("d = " + std::to_string(d));
    Rng rng(10 + static_cast<std::uint64_t>(d));
    const ShallowReluNet net = test::random_net(d, 9, rng);
    RowMatrix X(50, d);
    for (Index j = 0; j < X.rows(); ++j)
      for (Index c = 0; c < d; ++c) X(j, c) = rng.normal(0.0, 2.0);
    const Vec f = net.predict(X);
    ASSERT_EQ(f.size(), X.rows());
    for (Index j = 0; j < X.rows(); ++j) {
      const Vec x = X.row(j).transpose();
      const double expected = test::brute_force_output(net, x);
      EXPECT_NEAR(f[j], expected, kShallowRoundingTol * (1.0 + std::abs(expected)));
      EXPECT_NEAR(net(x), expected, kShallowRoundingTol * (1.0 + std::abs(expected)));
    }
  }
}

TEST(ShallowReluNet, AGeluNetPredictsWithGelu) {
  // Oracle: gelu(z) = z Phi(z) with Phi from std::erf (the library writes it with erfc), summed here.
  const auto gelu_by_erf = [](double z) { return 0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0))); };
  Rng rng(21);
  ShallowReluNet net = test::random_net(3, 7, rng);
  EXPECT_EQ(net.activation(), Activation::Relu);
  net.set_activation(Activation::Gelu);
  RowMatrix X(40, 3);
  for (Index j = 0; j < X.rows(); ++j)
    for (Index c = 0; c < 3; ++c) X(j, c) = rng.normal(0.0, 2.0);
  const Vec f = net.predict(X);
  for (Index j = 0; j < X.rows(); ++j) {
    double expected = net.b2();
    for (Index i = 0; i < net.width(); ++i) {
      expected += net.w2()[i] * gelu_by_erf(net.W1().row(i).dot(X.row(j)) + net.b1()[i]);
    }
    EXPECT_NEAR(f[j], expected, 1e-13 * (1.0 + std::abs(expected)));
    EXPECT_NEAR(net(X.row(j).transpose()), expected, 1e-13 * (1.0 + std::abs(expected)));
  }
  // ReLU theory refuses it; the activation names round-trip and unknown ones are refused.
  EXPECT_THROW(require_relu(net, "knots"), InputError);
  EXPECT_EQ(parse_activation(activation_name(Activation::Gelu)), Activation::Gelu);
  EXPECT_EQ(parse_activation(activation_name(Activation::Relu)), Activation::Relu);
  EXPECT_THROW((void)parse_activation("tanh"), InputError);
}

TEST(ShallowReluNet, HandComputedUnivariateExample) {
  // f(x) = 2 relu(x - 1) - 3 relu(-x) + 0.5: knots at 1 and 0.
  Vec theta(7);
  theta << 1.0, -1.0, /*b1*/ -1.0, 0.0, /*w2*/ 2.0, -3.0, /*b2*/ 0.5;
  const ShallowReluNet net(1, 2, theta);
  RowMatrix X(4, 1);
  X << -2.0, 0.0, 0.5, 3.0;
  const Vec f = net.predict(X);
  EXPECT_DOUBLE_EQ(f[0], -3.0 * 2.0 + 0.5);
  EXPECT_DOUBLE_EQ(f[1], 0.5);  // both neurons exactly at or below their kink
  EXPECT_DOUBLE_EQ(f[2], 0.5);
  EXPECT_DOUBLE_EQ(f[3], 2.0 * 2.0 + 0.5);
}

TEST(ShallowReluNet, RejectsBadShapes) {
  EXPECT_THROW(ShallowReluNet(0, 3), InputError);
  EXPECT_THROW(ShallowReluNet(2, 0), InputError);
  try {
    ShallowReluNet(2, 3, Vec::Zero(12));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("13"), std::string::npos) << message;  // the expected length
    EXPECT_NE(message.find("12"), std::string::npos) << message;  // the length given
  }
}

}  // namespace
}  // namespace relustab

namespace relustab {
namespace {

// The parameter count k d + 2 k + 1 overflowed int64 for k = 3074457345618258603 (a crash in
// `train --width`); sizes are now checked against the stated limits before anything is allocated.
TEST(ShallowReluNetLimits, SizesAboveTheLimitsAreRefusedBeforeAllocating) {
  EXPECT_THROW(ShallowReluNet(1, 3074457345618258603), InputError);
  EXPECT_THROW(ShallowReluNet(Index{1} << 62, 1), InputError);
  EXPECT_THROW(ShallowReluNet(100'000, 10'000), InputError);  // 1e9 parameters: above 5e8
  EXPECT_THROW(ShallowReluNet(1, 3, Vec::Zero(7)), InputError);  // 3 + 6 + 1 = 10 expected
  const ShallowReluNet largest_shape(1, 1000);
  EXPECT_EQ(largest_shape.n_params(), 3001);
}

}  // namespace
}  // namespace relustab
