// SPDX-License-Identifier: MIT
// Adam in the trainer: steps against a loop-based re-implementation of torch.optim.Adam, the first
// step's closed form, convergence, thread-count bit identity, option parsing and validation.
#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/train/trainer.h>

#include "train/reference_net.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace relustab {
namespace {

using test::Layout;
using test::reference_loss;
using test::reference_sample_gradient;

std::unique_ptr<Backend> cpu(int threads = 1) { return make_backend("cpu", RunContext{threads}); }

TrainOptions adam_options(double eta, std::int64_t max_steps) {
  TrainOptions options;
  options.schedule.eta = eta;
  options.stop.max_steps = max_steps;
  options.log_every = 0;
  options.log_sharpness = false;
  options.optimizer = Optimizer::Adam;
  return options;
}

/// Full-batch gradient of 1/(2n) sum r^2 as the mean of the loop-based per-sample gradients.
Vec reference_gradient(const Layout& layout, const Vec& theta, const Dataset& data) {
  Vec g = Vec::Zero(layout.size());
  for (Index j = 0; j < data.n(); ++j) g += reference_sample_gradient(layout, theta, data, j);
  return g / static_cast<double>(data.n());
}

/// Adam written from Kingma & Ba (2015), Algorithm 1, coordinate by coordinate, with the step size of
/// the trainer's schedule (geometric warm-up, no switch) and, for batch_size > 0, the trainer's
/// with-replacement batch stream Rng(seed).below(n).
Vec brute_force_adam(const Layout& layout, Vec theta, const Dataset& data, const TrainOptions& options) {
  const AdamOptions& a = options.adam;
  const StepSchedule& s = options.schedule;
  std::vector<double> m(static_cast<size_t>(layout.size()), 0.0);
  std::vector<double> v(static_cast<size_t>(layout.size()), 0.0);
  Rng rng(options.seed);
  for (std::int64_t t = 0; t < options.stop.max_steps; ++t) {
    double eta = s.eta;
    if (s.warmup_from > 0.0 && t < s.warmup_steps) {
      eta = s.warmup_from * std::pow(s.eta / s.warmup_from,
                                     static_cast<double>(t) / static_cast<double>(s.warmup_steps));
    }
    Vec g;
    if (options.batch_size == 0) {
      g = reference_gradient(layout, theta, data);
    } else {
      g = Vec::Zero(layout.size());
      for (Index b = 0; b < options.batch_size; ++b) {
        const auto j = static_cast<Index>(rng.below(static_cast<std::uint64_t>(data.n())));
        g += reference_sample_gradient(layout, theta, data, j);
      }
      g /= static_cast<double>(options.batch_size);
    }
    const double steps_done = static_cast<double>(t + 1);
    for (Index p = 0; p < layout.size(); ++p) {
      const auto q = static_cast<size_t>(p);
      m[q] = a.beta1 * m[q] + (1.0 - a.beta1) * g[p];
      v[q] = a.beta2 * v[q] + (1.0 - a.beta2) * g[p] * g[p];
      const double m_hat = m[q] / (1.0 - std::pow(a.beta1, steps_done));
      const double v_hat = v[q] / (1.0 - std::pow(a.beta2, steps_done));
      theta[p] -= eta * m_hat / (std::sqrt(v_hat) + a.epsilon);
    }
  }
  return theta;
}

TEST(Adam, DefaultsAreTorchsAndTheDefaultOptimizerIsGd) {
  const TrainOptions options;
  EXPECT_EQ(options.optimizer, Optimizer::GD);
  EXPECT_EQ(options.adam.beta1, 0.9);
  EXPECT_EQ(options.adam.beta2, 0.999);
  EXPECT_EQ(options.adam.epsilon, 1e-8);
}

TEST(Adam, FirstStepMovesEachCoordinateByEtaAgainstTheGradientSign) {
  // With bias correction, m_hat = g and v_hat = g^2 after one step, so
  // theta_1 = theta_0 - eta g / (|g| + epsilon): about eta per coordinate, whatever |g| (unlike GD).
  const Dataset data = test::sine_problem(12, 2, 0.1, 201);
  const ShallowReluNet net = test::gaussian_net(2, 5, 0.8, 202);
  const Layout layout{2, 5};
  const Vec g = reference_gradient(layout, net.theta(), data);
  const double eta = 0.03;
  const TrainResult result = train(*cpu(), net, data, adam_options(eta, 1));
  ASSERT_EQ(result.steps, 1);
  const Vec move = net.theta() - result.net.theta();
  Index near_full_steps = 0;
  for (Index p = 0; p < layout.size(); ++p) {
    const double expected = eta * g[p] / (std::abs(g[p]) + 1e-8);
    // The bias corrections 1 - beta^1 cancel to a few ulps; the gradients agree to rounding.
    EXPECT_NEAR(move[p], expected, 1e-12 * eta) << "parameter " << p;
    if (std::abs(std::abs(move[p]) - eta) < 1e-5 * eta) ++near_full_steps;
  }
  // A coordinate with |g| >> epsilon moves by eta exactly: the check cannot pass by moving nothing.
  EXPECT_GT(near_full_steps, layout.size() / 2);
}

TEST(Adam, StepsMatchALoopReimplementationForSeveralSettings) {
  const Dataset data = test::sine_problem(11, 2, 0.1, 203);
  const ShallowReluNet net = test::gaussian_net(2, 6, 0.7, 204);
  const Layout layout{2, 6};
  struct Case {
    const char* what;
    double beta1, beta2, epsilon;
    Index batch_size;
    double warmup_from;
  };
  // beta1 = 0.3 takes torch's other lerp branch (weight 1 - beta1 >= 0.5); epsilon 1e-3 is large
  // enough to matter; the batch run draws the SGD index stream; warm-up changes eta_t.
  const std::vector<Case> cases = {
      {"defaults", 0.9, 0.999, 1e-8, 0, 0.0},
      {"beta1 0.3, beta2 0.9, eps 1e-3", 0.3, 0.9, 1e-3, 0, 0.0},
      {"beta1 0, beta2 0", 0.0, 0.0, 1e-8, 0, 0.0},
      {"mini-batch of 4", 0.9, 0.999, 1e-8, 4, 0.0},
      {"warm-up", 0.8, 0.99, 1e-8, 0, 1e-3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    TrainOptions options = adam_options(0.02, 30);
    options.adam = {c.beta1, c.beta2, c.epsilon};
    options.batch_size = c.batch_size;
    options.seed = 31;
    options.schedule.warmup_from = c.warmup_from;
    options.schedule.warmup_steps = c.warmup_from > 0.0 ? 10 : 0;
    const TrainResult result = train(*cpu(), net, data, options);
    ASSERT_EQ(result.steps, 30);
    const Vec expected = brute_force_adam(layout, net.theta(), data, options);
    const Vec moved = expected - net.theta();
    ASSERT_GT(moved.norm(), 0.05) << "the parameters must move";
    // Same arithmetic in another order (lerp, summation of the gradient): ulps per step, and Adam's
    // normalisation does not amplify relative errors, so 1e-10 of the total move is generous.
    EXPECT_LT((result.net.theta() - expected).norm(), 1e-10 * moved.norm());
    EXPECT_NEAR(result.final_loss, reference_loss(layout, result.net.theta(), data),
                1e-12 * result.final_loss);
    // Adam is not GD: the same schedule without it ends elsewhere.
    TrainOptions gd = options;
    gd.optimizer = Optimizer::GD;
    EXPECT_GT((train(*cpu(), net, data, gd).net.theta() - expected).norm(), 1e-3);
  }
}

TEST(Adam, ConvergesOnANoiseFreeTeacher) {
  // A target the net can represent exactly: y = relu(x1 - 0.2) - 0.5 relu(-x1 + x2), n = 40 in R^2.
  // GD-style convergence to loss < 1e-6 needs Adam's step to shrink with the gradient, which its
  // normalisation does not do; its oscillation at scale eta settles as v keeps the memory of larger
  // gradients. 1e-5 at eta = 1e-3 is reached in a few thousand steps.
  Rng rng(205);
  Dataset data;
  data.X.resize(40, 2);
  data.y.resize(40);
  for (Index j = 0; j < 40; ++j) {
    data.X(j, 0) = rng.uniform(-1.0, 1.0);
    data.X(j, 1) = rng.uniform(-1.0, 1.0);
    data.y[j] = std::max(0.0, data.X(j, 0) - 0.2) - 0.5 * std::max(0.0, -data.X(j, 0) + data.X(j, 1));
  }
  const ShallowReluNet net = test::gaussian_net(2, 20, 0.5, 206);
  TrainOptions options = adam_options(1e-3, 20000);
  options.stop.loss_tol = 1e-5;
  options.stop.patience = 100;
  options.log_every = 100;
  const double initial = cpu()->loss_and_grad(net, data, {}, nullptr);
  ASSERT_GT(initial, 1e-2);
  const TrainResult result = train(*cpu(), net, data, options);
  EXPECT_EQ(result.outcome, Outcome::Converged) << "steps " << result.steps << ", loss "
                                                << result.final_loss;
  EXPECT_LT(result.final_loss, 1e-5);
  EXPECT_NEAR(result.final_loss, reference_loss(Layout{2, 20}, result.net.theta(), data),
              1e-12 + 1e-10 * result.final_loss);
}

TEST(Adam, ThreadCountDoesNotChangeAnyBit) {
  // n = 600 spans three sample blocks of 256.
  const Dataset data = test::sine_problem(600, 2, 0.1, 207);
  const ShallowReluNet net = test::gaussian_net(2, 15, 0.5, 208);
  for (const Index batch_size : {0, 300}) {
    TrainOptions options = adam_options(0.01, 40);
    options.batch_size = batch_size;
    options.seed = 3;
    const TrainResult one = train(*cpu(1), net, data, options);
    const TrainResult three = train(*cpu(3), net, data, options);
    EXPECT_EQ(one.net.theta(), three.net.theta()) << "batch " << batch_size;
    EXPECT_EQ(one.final_loss, three.final_loss);
  }
}

TEST(Adam, ParseAndNameOptimizers) {
  EXPECT_EQ(parse_optimizer("gd"), Optimizer::GD);
  EXPECT_EQ(parse_optimizer("adam"), Optimizer::Adam);
  EXPECT_EQ(optimizer_name(Optimizer::GD), "gd");
  EXPECT_EQ(optimizer_name(Optimizer::Adam), "adam");
  try {
    (void)parse_optimizer("sgd");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("optimizer:", 0), 0u) << message;
    EXPECT_NE(message.find("'sgd'"), std::string::npos) << message;
    EXPECT_NE(message.find("gd, adam"), std::string::npos) << message;
  }
}

/// Expects train() to throw InputError whose message is exactly `message`.
void expect_rejected(const std::function<void(TrainOptions&)>& spoil, const std::string& message) {
  const Dataset data = test::sine_problem(5, 1, 0.1, 209);
  const ShallowReluNet net = test::gaussian_net(1, 3, 0.5, 210);
  TrainOptions options = adam_options(0.1, 10);
  spoil(options);
  try {
    train(*cpu(), net, data, options);
    ADD_FAILURE() << "expected InputError: " << message;
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(Adam, BadOptionsThrowInputErrorNamingTheField) {
  expect_rejected([](TrainOptions& o) { o.adam.beta1 = 1.0; },
                  "adam.beta1: expected a number in [0, 1), got 1");
  expect_rejected([](TrainOptions& o) { o.adam.beta1 = -0.1; },
                  "adam.beta1: expected a number in [0, 1), got -0.1");
  expect_rejected([](TrainOptions& o) { o.adam.beta1 = NAN; },
                  "adam.beta1: expected a number in [0, 1), got nan");
  expect_rejected([](TrainOptions& o) { o.adam.beta2 = 1.5; },
                  "adam.beta2: expected a number in [0, 1), got 1.5");
  expect_rejected([](TrainOptions& o) { o.adam.epsilon = 0.0; },
                  "adam.epsilon: expected a finite number > 0, got 0");
  expect_rejected([](TrainOptions& o) { o.adam.epsilon = INFINITY; },
                  "adam.epsilon: expected a finite number > 0, got inf");
  expect_rejected([](TrainOptions& o) { o.optimizer = static_cast<Optimizer>(7); },
                  "optimizer: expected gd or adam, got value 7");
  // Adam's constants are not used by GD, so GD does not check them.
  const Dataset data = test::sine_problem(5, 1, 0.1, 211);
  const ShallowReluNet net = test::gaussian_net(1, 3, 0.5, 212);
  TrainOptions gd = adam_options(0.1, 3);
  gd.optimizer = Optimizer::GD;
  gd.adam.beta1 = 2.0;
  EXPECT_NO_THROW((void)train(*cpu(), net, data, gd));
}

}  // namespace
}  // namespace relustab
