// SPDX-License-Identifier: MIT
// Our Lanczos against Spectra's implicitly restarted Lanczos on a Hessian operator with P ~ 2000.
#include <relustab/backend/backend.h>
#include <relustab/curvature/eigen.h>

#include <gtest/gtest.h>

#include <Spectra/SymEigsSolver.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "test_util.h"

namespace relustab {
namespace {

/// Our stopping tolerance (relative residual) and Spectra's (relative Ritz estimate).
constexpr double kOurLanczosTol = 1e-10;
constexpr double kSpectraTol = 1e-12;
/// Both eigenvalues are within their residual tolerance of the truth (Bauer-Fike), plus rounding.
constexpr double kSpectraAgreementTol = 1e-9;

/// Adapts a LinearOperator to Spectra's matrix-operation concept.
class SpectraAdapter {
 public:
  using Scalar = double;
  explicit SpectraAdapter(const LinearOperator& op) : op_(op), in_(op.size()) {}
  Eigen::Index rows() const { return op_.size(); }
  Eigen::Index cols() const { return op_.size(); }
  void perform_op(const double* x_in, double* y_out) const {
    in_ = Eigen::Map<const Vec>(x_in, op_.size());
    op_.apply(in_, out_);
    Eigen::Map<Vec>(y_out, op_.size()) = out_;
  }

 private:
  const LinearOperator& op_;
  mutable Vec in_, out_;
};

double spectra_extreme(const LinearOperator& op, Spectra::SortRule rule) {
  SpectraAdapter adapter(op);
  Spectra::SymEigsSolver<SpectraAdapter> solver(adapter, 1, 40);
  solver.init();
  solver.compute(rule, 1000, kSpectraTol, rule);
  EXPECT_EQ(solver.info(), Spectra::CompInfo::Successful);
  return solver.eigenvalues()[0];
}

TEST(LanczosVsSpectra, ExtremeEigenvaluesOfLargeHessianOperator) {
  Rng rng(2718);
  const ShallowReluNet net = test::random_net(5, 285, rng, 0.5);  // P = 285 * 7 + 1 = 1996
  const Dataset data = test::random_dataset(net, 300, rng);
  ASSERT_EQ(net.n_params(), 1996);
  const auto backend = make_backend("cpu");
  const auto hessian = backend->curvature(net, data, CurvatureKind::Hessian);
  LanczosOptions options;
  options.tol = kOurLanczosTol;
  for (const auto& [which, rule] :
       {std::pair{Which::LargestAlgebraic, Spectra::SortRule::LargestAlge},
        std::pair{Which::SmallestAlgebraic, Spectra::SortRule::SmallestAlge}}) {
    const EigenResult ours = lanczos(*hessian, which, options);
    const double theirs = spectra_extreme(*hessian, rule);
    EXPECT_TRUE(ours.converged);
    EXPECT_LE(ours.residual, kOurLanczosTol * std::max(1.0, std::abs(ours.value)));
    EXPECT_LE(std::abs(ours.value - theirs) / std::max(1.0, std::abs(theirs)), kSpectraAgreementTol)
        << "ours " << ours.value << " Spectra " << theirs;
  }
}

}  // namespace
}  // namespace relustab
