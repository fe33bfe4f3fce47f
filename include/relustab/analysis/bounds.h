// SPDX-License-Identifier: MIT
// The papers' bounds, as plain functions of measured quantities.
#pragma once

#include <relustab/core/types.h>
#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

namespace relustab {

/// Stability edge of GD (Lemma 1 of Mulayoff et al. 2021): 2 / eta. Throws InputError if eta <= 0.
double two_over_eta(double eta);

/// Theorem 1 right-hand side: 1/eta - 1/2.
double thm1_rhs(double eta);

/// Theorem 2's Delta (Mulayoff et al. 2021, Theorem 2, final version eqs (24)-(25)):
/// Delta = (3/2) C^2 q + C sqrt((3/4) q (3 C^2 q + 2/eta)), q = (1 + k - L)/n, C = max(1, rho (1 + M)),
/// rho = ||theta||_inf, M = max_j |x_j|, k = width, L = number of knots of f. Throws InputError unless
/// eta > 0, 0 <= L <= k, n >= 1 and rho, M are finite and >= 0.
double thm2_delta(double eta, Index width, Index n_knots, Index n_samples, double rho, double max_abs_x);

/// Non-interpolating bound (Liang, Qiao, Wang, Parhi 2025, Thm 3.2): 1/eta - 1/2 + (R + 1) sqrt(2 L), R = max_j |x_j|.
double noninterpolating_bound(double eta, double max_abs_x, double loss);

/// Lemma 4: 1 + 2 x weighted TV (or weighted norm for d > 1), a lower bound on the GN sharpness.
double lemma4_bound(double weighted_value);

/// Per-implementation bound (Mulayoff et al. 2021, Lemma 4): 1 + 2 sum_i |w1_i w2_i| g_side(i)(t_i), for d = 1; for d > 1
/// 1 + 2 sum_k |v_k| ||w_k|| g~(own side). Always <= the Gauss-Newton sharpness. Each neuron's side
/// is read off the signs of its pre-activations (relu'(0) = 0, as the curvature code does), so a knot
/// that sits on a data point up to rounding is handled as the Gauss-Newton matrix handles it.
double per_implementation_bound(const ShallowReluNet& net, const Dataset& data);

}  // namespace relustab
