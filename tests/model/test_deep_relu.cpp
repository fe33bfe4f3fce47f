// SPDX-License-Identifier: MIT
// DeepReluNet: parameter layout and views, predict() against a plain loop, the exact pyramid
// representation, and the seeded initialisation's draw order.
#include <relustab/core/error.h>
#include <relustab/model/deep_relu.h>

#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "model/deep_test_util.h"

namespace relustab {
namespace {

/// predict() and the loops sum the same terms in different orders; values are O(10).
constexpr double kDeepRoundingTol = 1e-12;

using test::message_of;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(DeepReluNet, ParameterCountAndOffsets) {
  const DeepReluNet net(3, 4, 5);
  // W1 4x3, b1 4, W2 5x4, b2 5, w3 5, b3.
  EXPECT_EQ(net.n_params(), 12 + 4 + 20 + 5 + 5 + 1);
  EXPECT_EQ(DeepReluNet::n_params(3, 4, 5), 47);
  EXPECT_EQ(net.offset_b1(), 12);
  EXPECT_EQ(net.offset_W2(), 16);
  EXPECT_EQ(net.offset_b2(), 36);
  EXPECT_EQ(net.offset_w3(), 41);
  EXPECT_EQ(net.offset_b3(), 46);
  EXPECT_TRUE(net.theta().isZero(0.0));
}

TEST(DeepReluNet, ViewsFollowDocumentedLayout) {
  const Index d = 3, k1 = 4, k2 = 2;
  Vec theta(DeepReluNet::n_params(d, k1, k2));
  for (Index p = 0; p < theta.size(); ++p) theta[p] = static_cast<double>(p);
  const DeepReluNet net(d, k1, k2, theta);
  for (Index i = 0; i < k1; ++i) {
    for (Index c = 0; c < d; ++c) EXPECT_EQ(net.W1()(i, c), static_cast<double>(i * d + c));
    EXPECT_EQ(net.b1()[i], static_cast<double>(k1 * d + i));
  }
  const Index w2_at = k1 * d + k1;
  for (Index l = 0; l < k2; ++l) {
    for (Index i = 0; i < k1; ++i) {
      EXPECT_EQ(net.W2()(l, i), static_cast<double>(w2_at + l * k1 + i));  // row-major
    }
    EXPECT_EQ(net.b2()[l], static_cast<double>(w2_at + k2 * k1 + l));
    EXPECT_EQ(net.w3()[l], static_cast<double>(w2_at + k2 * k1 + k2 + l));
  }
  EXPECT_EQ(net.b3(), static_cast<double>(theta.size() - 1));
}

TEST(DeepReluNet, ViewsWriteThroughToTheta) {
  DeepReluNet net(2, 3, 2);
  net.W1()(2, 1) = 1.5;
  net.b1()[1] = -2.0;
  net.W2()(1, 2) = 3.0;
  net.b2()[0] = 4.0;
  net.w3()[1] = 5.0;
  net.b3() = 6.0;
  EXPECT_EQ(net.theta()[2 * 2 + 1], 1.5);
  EXPECT_EQ(net.theta()[6 + 1], -2.0);
  EXPECT_EQ(net.theta()[9 + 1 * 3 + 2], 3.0);
  EXPECT_EQ(net.theta()[15 + 0], 4.0);
  EXPECT_EQ(net.theta()[17 + 1], 5.0);
  EXPECT_EQ(net.theta()[19], 6.0);
  EXPECT_EQ(net.theta().size(), 20);
  EXPECT_EQ(net.theta().cwiseAbs().sum(), 1.5 + 2.0 + 3.0 + 4.0 + 5.0 + 6.0);
  net.theta()[0] = 7.0;
  EXPECT_EQ(net.W1()(0, 0), 7.0);
}

TEST(DeepReluNet, PredictMatchesBruteForceLoop) {
  for (Index d : {1, 4}) {
    SCOPED_TRACE("d = " + std::to_string(d));
    Rng rng(20 + static_cast<std::uint64_t>(d));
    const DeepReluNet net = test::random_deep_net(d, 7, 5, rng);
    RowMatrix X(60, d);
    for (Index j = 0; j < X.rows(); ++j)
      for (Index c = 0; c < d; ++c) X(j, c) = rng.normal(0.0, 2.0);
    const Vec f = net.predict(X);
    ASSERT_EQ(f.size(), X.rows());
    int nonzero_second_layer = 0;
    for (Index j = 0; j < X.rows(); ++j) {
      const Vec x = X.row(j).transpose();
      const test::BruteForcePass pass = test::brute_force_pass(net, x);
      for (double z : pass.z2) nonzero_second_layer += z > 0.0;
      EXPECT_NEAR(f[j], pass.f, kDeepRoundingTol * (1.0 + std::abs(pass.f)));
      EXPECT_NEAR(net(x), pass.f, kDeepRoundingTol * (1.0 + std::abs(pass.f)));
    }
    EXPECT_GT(nonzero_second_layer, 0);  // the second layer really contributes
  }
}

TEST(DeepReluNet, HandComputedExample) {
  // d = 1, k1 = 2, k2 = 1: z1 = (x, 1 - x), f = 2 relu(relu(x) - relu(1 - x) + 0.5) - 1.
  Vec theta(DeepReluNet::n_params(1, 2, 1));
  theta << /*W1*/ 1.0, -1.0, /*b1*/ 0.0, 1.0, /*W2*/ 1.0, -1.0, /*b2*/ 0.5, /*w3*/ 2.0, /*b3*/ -1.0;
  const DeepReluNet net(1, 2, 1, theta);
  RowMatrix X(4, 1);
  X << -1.0, 0.25, 0.75, 2.0;
  const Vec f = net.predict(X);
  EXPECT_DOUBLE_EQ(f[0], 2.0 * std::max(0.0, 0.0 - 2.0 + 0.5) - 1.0);    // second layer off: -1
  EXPECT_DOUBLE_EQ(f[1], 2.0 * std::max(0.0, 0.25 - 0.75 + 0.5) - 1.0);  // exactly at its kink: -1
  EXPECT_DOUBLE_EQ(f[2], 2.0 * (0.75 - 0.25 + 0.5) - 1.0);
  EXPECT_DOUBLE_EQ(f[3], 2.0 * (2.0 + 0.5) - 1.0);
}

TEST(DeepReluNet, RejectsBadShapes) {
  EXPECT_THROW(DeepReluNet(0, 3, 2), InputError);
  EXPECT_THROW(DeepReluNet(2, 0, 2), InputError);
  EXPECT_THROW(DeepReluNet(2, 3, 0), InputError);
  ASSERT_EQ(DeepReluNet::n_params(2, 3, 2), 20);
  const std::string message = message_of([] { DeepReluNet(2, 3, 2, Vec::Zero(19)); });
  EXPECT_TRUE(contains(message, "parameter vector")) << message;
  EXPECT_TRUE(contains(message, "expected length 20")) << message;
  EXPECT_TRUE(contains(message, "got 19")) << message;
  const DeepReluNet net(2, 3, 2);
  EXPECT_TRUE(contains(message_of([&] { net.predict(RowMatrix::Zero(4, 3)); }), "columns"));
  EXPECT_TRUE(contains(message_of([&] { net(Vec::Zero(1)); }), "length 2"));
}

TEST(DeepReluNet, PyramidRepresentsReluOfOneMinusL1Norm) {
  for (Index d : {1, 2, 3, 5}) {
    SCOPED_TRACE("d = " + std::to_string(d));
    Rng rng(40 + static_cast<std::uint64_t>(d));
    const DeepReluNet minimal = DeepReluNet::pyramid(d);
    EXPECT_EQ(minimal.width1(), 2 * d);
    EXPECT_EQ(minimal.width2(), 1);
    const DeepReluNet padded = DeepReluNet::pyramid(d, {.width1 = 2 * d + 3, .width2 = 4});
    const DeepReluNet padded_at_kink =
        DeepReluNet::pyramid(d, {.width1 = 2 * d + 1, .width2 = 2, .padding_bias = 0.0});
    const DeepReluNet rescaled = DeepReluNet::pyramid(d, {.scale1 = 2.5, .scale2 = 0.3});
    RowMatrix X(400, d);
    // Half the points with E||x||_1 = 1 (about half of them inside the support), half with
    // E||x||_1 = 3 (mostly outside); include 0.
    const double near_scale = 2.0 / static_cast<double>(d);
    for (Index j = 0; j < X.rows(); ++j)
      for (Index c = 0; c < d; ++c)
        X(j, c) = rng.uniform(-1.0, 1.0) * (j % 2 == 0 ? near_scale : 3.0 * near_scale);
    X.row(0).setZero();
    int inside = 0;  // over the three nets
    for (const DeepReluNet* net : {&minimal, &padded, &padded_at_kink, &rescaled}) {
      const Vec f = net->predict(X);
      for (Index j = 0; j < X.rows(); ++j) {
        const Vec x = X.row(j).transpose();
        const double expected = test::brute_force_pyramid(x);
        inside += expected > 0.0;
        EXPECT_NEAR(f[j], expected, kDeepRoundingTol);
        EXPECT_NEAR(test::brute_force_deep_output(*net, x), expected, kDeepRoundingTol);
        EXPECT_NEAR(pyramid_function(x), expected, kDeepRoundingTol);
      }
    }
    EXPECT_GT(inside, 4 * 60);  // the support is sampled, not only the zero region
    EXPECT_DOUBLE_EQ(minimal.predict(X)[0], 1.0);  // the apex
  }
}

TEST(DeepReluNet, PyramidPaddingIsInactive) {
  const Index d = 2;
  const DeepReluNet net = DeepReluNet::pyramid(d, {.width1 = 7, .width2 = 3, .padding_bias = -0.5});
  // Padding neurons: zero input weights, bias -0.5, zero output weights.
  for (Index i = 2 * d; i < 7; ++i) {
    EXPECT_TRUE(net.W1().row(i).isZero(0.0));
    EXPECT_EQ(net.b1()[i], -0.5);
    EXPECT_TRUE(net.W2().col(i).isZero(0.0));
  }
  for (Index l = 1; l < 3; ++l) {
    EXPECT_TRUE(net.W2().row(l).isZero(0.0));
    EXPECT_EQ(net.b2()[l], -0.5);
    EXPECT_EQ(net.w3()[l], 0.0);
  }
  EXPECT_EQ(net.b3(), 0.0);
}

TEST(DeepReluNet, PyramidRescalingMovesWeightsBetweenLayers) {
  const DeepReluNet net = DeepReluNet::pyramid(1, {.scale1 = 2.0, .scale2 = 0.5});
  Vec expected(DeepReluNet::n_params(1, 2, 1));
  expected << /*W1*/ 2.0, -2.0, /*b1*/ 0.0, 0.0, /*W2*/ -0.25, -0.25, /*b2*/ 0.5, /*w3*/ 2.0,
      /*b3*/ 0.0;
  EXPECT_EQ(net.theta(), expected);
}

TEST(DeepReluNet, PyramidRejectsBadArguments) {
  EXPECT_TRUE(contains(message_of([] { DeepReluNet::pyramid(0); }), "input_dim"));
  EXPECT_TRUE(contains(message_of([] { DeepReluNet::pyramid(2, {.width1 = 3}); }), "width1"));
  EXPECT_TRUE(contains(message_of([] { DeepReluNet::pyramid(2, {.width2 = -1}); }), "width2"));
  EXPECT_TRUE(
      contains(message_of([] { DeepReluNet::pyramid(2, {.padding_bias = 0.1}); }), "padding_bias"));
  EXPECT_TRUE(
      contains(message_of([] { DeepReluNet::pyramid(2, {.padding_bias = NAN}); }), "padding_bias"));
  EXPECT_TRUE(contains(message_of([] { DeepReluNet::pyramid(2, {.scale1 = 0.0}); }), "scale1"));
  EXPECT_TRUE(contains(message_of([] { DeepReluNet::pyramid(2, {.scale2 = -1.0}); }), "scale2"));
}

TEST(InitializeDeep, TorchUniformFollowsDrawOrderAndBounds) {
  const Index d = 3, k1 = 5, k2 = 4;
  Rng rng(7);
  const DeepReluNet net = initialize_deep(d, k1, k2, InitKind::TorchUniform, 0.0, rng);
  // The contract: one uniform(-b, b) per parameter in storage order, b = 1/sqrt(fan_in) per layer.
  Rng replay(7);
  for (Index p = 0; p < net.n_params(); ++p) {
    const double bound = p < net.offset_W2()   ? 1.0 / std::sqrt(3.0)
                         : p < net.offset_w3() ? 1.0 / std::sqrt(5.0)
                                               : 1.0 / std::sqrt(4.0);
    EXPECT_EQ(net.theta()[p], replay.uniform(-bound, bound)) << "parameter " << p;
    EXPECT_LE(std::abs(net.theta()[p]), bound);
  }
  EXPECT_EQ(replay.next_u64(), rng.next_u64());  // nothing else was drawn
}

TEST(InitializeDeep, KaimingDrawsWeightsOnlyAndScaledEveryParameter) {
  const Index d = 2, k1 = 3, k2 = 4;
  Rng rng(8);
  const DeepReluNet kaiming = initialize_deep(d, k1, k2, InitKind::KaimingNormal, 0.0, rng);
  Rng replay(8);
  for (Index p = 0; p < kaiming.offset_b1(); ++p)
    EXPECT_EQ(kaiming.theta()[p], std::sqrt(2.0 / 2.0) * replay.normal());
  for (Index p = kaiming.offset_W2(); p < kaiming.offset_b2(); ++p)
    EXPECT_EQ(kaiming.theta()[p], std::sqrt(2.0 / 3.0) * replay.normal());
  for (Index p = kaiming.offset_w3(); p < kaiming.offset_b3(); ++p)
    EXPECT_EQ(kaiming.theta()[p], std::sqrt(2.0 / 4.0) * replay.normal());
  EXPECT_TRUE(kaiming.b1().isZero(0.0));
  EXPECT_TRUE(kaiming.b2().isZero(0.0));
  EXPECT_EQ(kaiming.b3(), 0.0);

  Rng scaled_rng(9), scaled_replay(9);
  const DeepReluNet scaled = initialize_deep(d, k1, k2, InitKind::Scaled, 0.25, scaled_rng);
  for (Index p = 0; p < scaled.n_params(); ++p)
    EXPECT_EQ(scaled.theta()[p], 0.25 * scaled_replay.normal());
}

TEST(InitializeDeep, RejectsBadArguments) {
  Rng rng(1);
  EXPECT_TRUE(
      contains(message_of([&] { initialize_deep(2, 3, 3, InitKind::SmallBalanced, 1.0, rng); }),
               "balanced"));
  EXPECT_TRUE(contains(message_of([&] { initialize_deep(2, 3, 3, InitKind::Scaled, 0.0, rng); }),
                       "init_scale"));
  EXPECT_TRUE(contains(
      message_of([&] { initialize_deep(2, 0, 3, InitKind::TorchUniform, 0.0, rng); }), "width1"));
}

}  // namespace
}  // namespace relustab
