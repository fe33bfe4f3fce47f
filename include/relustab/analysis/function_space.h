// SPDX-License-Identifier: MIT
// The learned function seen from function space: knots, slope jumps, weight functions, weighted norms.
#pragma once

#include <relustab/core/types.h>
#include <relustab/model/shallow_relu.h>

#include <span>
#include <vector>

namespace relustab {

/// A knot of a univariate net and the jump of f' there (Mulayoff et al. 2021, Sec. 4).
struct Knot {
  double location = 0.0;    ///< t = -b1_i / w1_i
  double slope_jump = 0.0;  ///< sum over neurons at t of w2_i |w1_i| (signed)
};

/// Knots of a univariate net (input_dim 1), sorted, with neurons whose knots coincide exactly merged
/// (their slope jumps summed). Neurons with w1_i = 0 are constants and have no knot. Throws
/// InputError if the net is not univariate.
std::vector<Knot> knots(const ShallowReluNet& net);

/// Number of distinct knots t with x_min <= t <= x_max and non-zero merged slope jump.
Index count_knots_in_range(const std::vector<Knot>& knots, double x_min, double x_max);

/// The empirical weight function g of Mulayoff et al. 2021 eqs (21)-(23) for the training inputs x
/// (Mulayoff et al. 2021, eqs. 21-23): X uniform on the inputs, strict inequalities, g = min(g-, g+) on [x_min, x_max] and
/// 0 outside. Construction sorts the inputs and builds prefix sums, O(n log n); each evaluation is
/// O(log n), and evaluate() of many points is O((n + m) log n). Throws InputError if the inputs are
/// empty or not finite. A NaN argument gives NaN.
class EmpiricalWeight {
 public:
  explicit EmpiricalWeight(std::span<const double> inputs);
  double operator()(double t) const;
  Vec evaluate(std::span<const double> points) const;
  /// g_-(t) and g_+(t) separately (no range cut): the one-sided weights of Mulayoff et al. 2021, Lemma 4.
  double g_minus(double t) const;
  double g_plus(double t) const;
  double x_min() const;
  double x_max() const;

 private:
  std::vector<double> sorted_;
  std::vector<double> prefix_;  ///< prefix_[m] = sum of the m smallest inputs
  /// suffix_[m] = sum of the m largest inputs. Kept separately (rather than total - prefix) so the
  /// right-hand mean carries no cancellation error from the points on the left.
  std::vector<double> suffix_;
};

/// Population laws with zero mean and unit variance (Mulayoff et al. 2021, eqs. 21-23).
enum class Distribution { Uniform, Gaussian, Laplace };

/// Population weight function g(x) = min(g_-(x), g_+(x)) of a unit-variance law, closed form
/// (Mulayoff et al. 2021, eqs. 21-23). No range cut: the support is the range (uniform: g = 0 outside [-sqrt 3, sqrt 3]).
double population_weight(Distribution law, double x);

/// Weighted total variation of f' : integral |f''| g = sum over distinct knots in [x_min, x_max] of
/// |merged slope jump| * g(t) (d = 1; Mulayoff et al. 2021, Sec. 4).
double weighted_tv(const ShallowReluNet& net, const EmpiricalWeight& g);

/// Smoothed |f''| for plotting: sum over the merged knots of knots(net) of |s| K_h(x - t), with the
/// Gaussian kernel K_h of standard deviation h = `bandwidth` (our choice; the papers' smoothing is not
/// published). Merged, so cancelling neurons leave nothing; it integrates to the sum of |s|.
/// Throws InputError unless bandwidth > 0 is finite or if the net is not univariate. O(m k).
Vec smoothed_abs_second_derivative(const ShallowReluNet& net, std::span<const double> grid,
                                   double bandwidth);

/// Multivariate weight g(u, t) = min(g~(u, t), g~(-u, -t)) for unit u over the rows of X (Nacson et al. 2023, Thm 1):
/// g~(u, t) = p * s * sqrt(1 + ||E[X | u.X > t]||^2), p = P(u.X > t), s = E[(u.X - t)_+]; 0 if a side is
/// empty. Points on the hyperplane u.x = t belong to neither side. Throws InputError if X has no rows,
/// u.size() != X.cols(), ||u|| is not 1 (to 1e-9) or t is not finite. O(n d).
double multivariate_weight(const RowMatrix& X, const Eigen::Ref<const Vec>& u, double t);

/// One-sided multivariate weight g~(u, t) (the neuron's own active side).
double multivariate_weight_one_sided(const RowMatrix& X, const Eigen::Ref<const Vec>& u, double t);

/// Weighted norm sum_k |v_k| ||w_k|| g(u_k, t_k), per neuron, no merging (Nacson et al. 2023, Thm 1). For
/// d = 1 and nets without shared knots it equals weighted_tv. A neuron's sides are read off the signs
/// of its pre-activations W1_k . x_j + b1_k (0 belongs to neither side), the same test the curvature
/// code uses for relu' (relu'(0) = 0). Throws InputError if X.cols() != input_dim or X has no rows.
/// O(K n d).
double weighted_norm(const ShallowReluNet& net, const RowMatrix& X);

}  // namespace relustab
