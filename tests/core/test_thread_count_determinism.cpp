// SPDX-License-Identifier: MIT
// Every parallel computation gives the same bits with 1, 2, 3 and 7 threads (the thread pool of a
// RunContext): gradients, Hessian- and Gauss-Newton-vector products, Lanczos sharpness and whole GD
// runs of the CPU back ends, and the depth-2 net's gradient and product. The oracle is the run with
// one thread, which involves no pool at all (everything inline, blocks added in block order).
#include <relustab/backend/backend.h>
#include <relustab/core/rng.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/deep_curvature.h>
#include <relustab/model/deep_relu.h>
#include <relustab/train/trainer.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "core/block_reduce.h"
#include "test_util.h"

namespace relustab {
namespace {

constexpr int kThreadCounts[] = {1, 2, 3, 7};

/// Bit-for-bit equality of two vectors (== on doubles; NaN never appears here).
void expect_same_bits(const Vec& a, const Vec& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (Index i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i], b[i]) << what << " entry " << i;
  }
}

Vec unit_direction(Index size, std::uint64_t seed) {
  Rng rng(seed);
  Vec v(size);
  for (Index i = 0; i < size; ++i) v[i] = rng.normal();
  return v / v.norm();
}

TEST(ThreadCountDeterminism, BlockReduceSplitsFinalSumsAcrossTasks) {
  // size >= 2 * 65536 entries: the final additions are split into several tasks, and 1100 samples
  // make 5 blocks. Each block adds sin(j * i) terms, so every entry's partials differ.
  const Index n = 1100;
  const Index size = 140000;
  Vec reference;
  for (int threads : kThreadCounts) {
    Vec total;
    detail::block_reduce(n, size, RunContext{threads}, total,
                         [&](Index begin, Index end, Vec& partial, Index /*slot*/) {
                           partial.resize(size);
                           for (Index i = 0; i < size; ++i) {
                             double s = 0.0;
                             for (Index j = begin; j < end; j += 97) s += std::sin(1e-3 * double(i * j));
                             partial[i] = s;
                           }
                         });
    if (threads == 1) {
      reference = total;
      continue;
    }
    expect_same_bits(total, reference, "block_reduce, threads " + std::to_string(threads));
  }
}

/// One block's partial sum in BlockReduceInWavesAddsInBlockOrder: terms of very different sizes, so
/// that any other order of the additions changes the last bits.
Vec wave_test_partial(Index begin, Index end, Index size) {
  Vec partial(size);
  for (Index i = 0; i < size; ++i) {
    double s = 0.0;
    for (Index j = begin; j < end; j += 13) s += std::exp(std::sin(0.37 * double(j + 3 * i)) * 20.0);
    partial[i] = s;
  }
  return partial;
}

TEST(ThreadCountDeterminism, BlockReduceInWavesAddsInBlockOrder) {
  // 9,739 samples make 39 blocks: several waves for every thread count (at most max(8, 2 threads)
  // partials are held at once). Oracle: a brute-force loop adding the blocks' partials in block order.
  const Index n = 38 * detail::kSamplesPerBlock + 11;
  const Index size = 50;
  const Index n_blocks = detail::block_count(n);
  ASSERT_EQ(n_blocks, 39);
  Vec expected = wave_test_partial(0, detail::kSamplesPerBlock, size);
  for (Index b = 1; b < n_blocks; ++b) {
    const Index begin = b * detail::kSamplesPerBlock;
    expected += wave_test_partial(begin, std::min(n, begin + detail::kSamplesPerBlock), size);
  }
  for (int threads : kThreadCounts) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    const RunContext context{threads};
    const Index slots = detail::reduction_slots(n, context);
    EXPECT_EQ(slots, std::max<Index>(8, 2 * threads));
    // A slot is used by one block at a time: each block marks its slot busy while it runs.
    std::vector<std::atomic<int>> busy(static_cast<size_t>(slots));
    std::atomic<int> clashes = 0, blocks = 0;
    detail::BlockBuffers buffers;
    Vec total;
    detail::block_reduce(
        n, size, context, total,
        [&](Index begin, Index end, Vec& partial, Index slot) {
          ASSERT_LT(slot, slots);
          if (busy[static_cast<size_t>(slot)].fetch_add(1) != 0) ++clashes;
          partial = wave_test_partial(begin, end, size);
          busy[static_cast<size_t>(slot)].fetch_sub(1);
          ++blocks;
        },
        &buffers);
    EXPECT_EQ(blocks.load(), n_blocks);
    EXPECT_EQ(clashes.load(), 0);
    EXPECT_EQ(static_cast<Index>(buffers.partials.size()), slots) << "memory: one partial per slot";
    EXPECT_LT(slots, n_blocks);
    expect_same_bits(total, expected, "block_reduce in waves");
  }
}

TEST(ThreadCountDeterminism, ProductsGradientsAndSharpnessOfCpuBackends) {
  // n = 700: three blocks of samples. Each back end's own activation.
  for (const std::string name : {"cpu", "cpu-gelu"}) {
    Rng rng(42);
    ShallowReluNet net = test::random_net(6, 40, rng);
    if (name == "cpu-gelu") net = ShallowReluNet(net.input_dim(), net.width(), net.theta(), Activation::Gelu);
    const Dataset data = test::random_dataset(net, 700, rng);
    const Vec v = unit_direction(net.n_params(), 9);
    Vec grad1, hv1, gnv1;
    double loss1 = 0.0;
    EigenResult top1;
    for (int threads : kThreadCounts) {
      const auto backend = make_backend(name, RunContext{threads});
      Vec grad, hv, gnv;
      const double loss = backend->loss_and_grad(net, data, {}, &grad);
      backend->curvature(net, data, CurvatureKind::Hessian)->apply(v, hv);
      backend->curvature(net, data, CurvatureKind::GaussNewton)->apply(v, gnv);
      SharpnessOptions options;
      options.dense_max = 0;  // Lanczos on the parallel product
      const EigenResult top = sharpness(*backend, net, data, options);
      if (threads == 1) {
        loss1 = loss, grad1 = grad, hv1 = hv, gnv1 = gnv, top1 = top;
        continue;
      }
      const std::string where = name + ", threads " + std::to_string(threads);
      EXPECT_EQ(loss, loss1) << where;
      expect_same_bits(grad, grad1, "gradient, " + where);
      expect_same_bits(hv, hv1, "Hessian product, " + where);
      expect_same_bits(gnv, gnv1, "Gauss-Newton product, " + where);
      EXPECT_EQ(top.value, top1.value) << where;
      EXPECT_EQ(top.residual, top1.residual) << where;
      EXPECT_EQ(top.iterations, top1.iterations) << where;
      expect_same_bits(top.vector, top1.vector, "sharpness vector, " + where);
    }
  }
}

TEST(ThreadCountDeterminism, GradientDescentRuns) {
  Rng rng(7);
  const ShallowReluNet start = test::random_net(3, 30, rng, 0.5);
  const Dataset data = test::random_dataset(start, 600, rng);
  TrainOptions options;
  options.schedule.eta = 0.05;
  options.stop.max_steps = 40;
  options.stop.loss_tol = 0.0;
  options.log_every = 10;
  options.sharpness.dense_max = 0;
  TrainResult reference;
  for (int threads : kThreadCounts) {
    const auto backend = make_backend("cpu", RunContext{threads});
    const TrainResult result = train(*backend, start, data, options);
    if (threads == 1) {
      reference = result;
      continue;
    }
    const std::string where = "threads " + std::to_string(threads);
    expect_same_bits(result.net.theta(), reference.net.theta(), "trained parameters, " + where);
    EXPECT_EQ(result.steps, reference.steps) << where;
    EXPECT_EQ(result.final_loss, reference.final_loss) << where;
    ASSERT_EQ(result.log.size(), reference.log.size()) << where;
    for (size_t r = 0; r < result.log.size(); ++r) {
      EXPECT_EQ(result.log[r].loss, reference.log[r].loss) << where << " row " << r;
      EXPECT_EQ(result.log[r].sharpness, reference.log[r].sharpness) << where << " row " << r;
    }
  }
}

TEST(ThreadCountDeterminism, DeepNetGradientAndProduct) {
  Rng rng(3);
  DeepReluNet net(4, 12, 10);
  for (Index p = 0; p < net.n_params(); ++p) net.theta()[p] = rng.normal(0.0, 0.5);
  Dataset data;
  data.X.resize(800, 4);
  data.y.resize(800);
  for (Index j = 0; j < 800; ++j) {
    for (Index c = 0; c < 4; ++c) data.X(j, c) = rng.normal();
    data.y[j] = rng.normal();
  }
  const Vec v = unit_direction(net.n_params(), 5);
  Vec grad1, hv1;
  for (int threads : kThreadCounts) {
    Vec grad, hv;
    (void)deep_loss_and_grad(net, data, {}, &grad, RunContext{threads});
    deep_curvature(net, data, CurvatureKind::Hessian, RunContext{threads})->apply(v, hv);
    if (threads == 1) {
      grad1 = grad, hv1 = hv;
      continue;
    }
    expect_same_bits(grad, grad1, "deep gradient, threads " + std::to_string(threads));
    expect_same_bits(hv, hv1, "deep Hessian product, threads " + std::to_string(threads));
  }
}

}  // namespace
}  // namespace relustab
