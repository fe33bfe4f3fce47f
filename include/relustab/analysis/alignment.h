// SPDX-License-Identifier: MIT
// Early-alignment diagnostics of paper 4 (Boursier & Flammarion 2025): how the neurons'
// directions line up with a teacher direction, and the extremal vectors of D_n that small-init GD
// aligns them with.
#pragma once

#include <relustab/core/types.h>
#include <relustab/data/dataset.h>
#include <relustab/model/shallow_relu.h>

#include <cstdint>
#include <vector>

namespace relustab {

struct AlignmentOptions {
  /// A neuron counts as aligned when its |cosine| (or, for sign consistency, its signed cosine) is at
  /// least this; in (0, 1].
  double threshold = 0.9;
};

/// Per-neuron cosines with a teacher direction and the fractions aligned.
///
/// Neuron i's direction is its input-weight row W1_i when beta has length d (the hidden bias b1_i is
/// left out: it is an intercept, not a direction of the input space), and (W1_i, b1_i) when beta has
/// length d + 1 (beta's last entry then plays the teacher's intercept: the view of Boursier and Flammarion 2025 with
/// the bias as an appended constant input coordinate).
///   cosine_i = <dir_i, beta> / (||dir_i|| ||beta||), and 0 when dir_i = 0 (a neuron with no direction
///              is aligned with nothing);
///   signed_cosine_i = sign(w2_i) cosine_i, with sign(0) = 0. Early-alignment theory predicts
///              positive-output neurons at +beta (maximisers of G) and negative ones at -beta
///              (minimisers), i.e. signed_cosine_i close to 1 for every neuron that grew.
struct NeuronAlignment {
  Vec cosine;         ///< k cosines in [-1, 1]
  Vec signed_cosine;  ///< k values sign(w2_i) cosine_i
  double fraction_aligned = 0.0;         ///< #{i : |cosine_i| >= threshold} / k
  double fraction_sign_consistent = 0.0; ///< #{i : signed_cosine_i >= threshold} / k
  /// The same two fractions with neuron i weighted by |w2_i| / sum_j |w2_j| (its output-weight norm:
  /// small-init neurons that stayed small count little); NaN when every w2_i is 0.
  double weighted_fraction_aligned = 0.0;
  double weighted_fraction_sign_consistent = 0.0;
};

/// Throws InputError unless beta has length d or d + 1, is finite and non-zero, and the threshold is
/// in (0, 1].
NeuronAlignment neuron_alignment(const ShallowReluNet& net, const Eigen::Ref<const Vec>& beta,
                                 const AlignmentOptions& options = {});

/// D_n(w) = (1/n) sum_k 1{<w, x_k> > 0} y_k x_k (Boursier and Flammarion 2025, square loss at zero output; the
/// indicator is strict, matching relu'(0) = 0). w has length d, or d + 1 for a neuron with a bias:
/// then every x_k is read as (x_k, 1), i.e. <w, x_k> = w_1..d . x_k + w_{d+1}, and D_n has length d + 1.
/// Throws InputError if the data set is empty or inconsistent, or w has another length or is not
/// finite.
Vec alignment_field(const Dataset& data, const Eigen::Ref<const Vec>& w);

/// G(w) = <w, D_n(w)> = (1/n) sum_k y_k relu(<w, x_k>), with the same reading of w as above. G is
/// continuous, piecewise linear and positively homogeneous; its gradient is D_n(w) wherever no
/// <w, x_k> is 0.
double alignment_objective(const Dataset& data, const Eigen::Ref<const Vec>& w);

struct ExtremalOptions {
  Index starts = 64;                ///< random starting points on the sphere (used for both searches)
  std::uint64_t seed = 0;           ///< the starts' stream
  bool with_bias = false;           ///< search w in R^{d+1} against (x, 1) instead of R^d
  std::int64_t max_iterations = 1000;  ///< steps per start (a step, a kink reached or one left)
  /// A point is stationary when its `stationarity` (ExtremalVector) is <= gradient_tol * s, with the
  /// data scale s = (1/n) sum_k |y_k| ||x_k|| (x_k with its 1 when with_bias).
  double gradient_tol = 1e-10;
  /// End points closer than this (Euclidean, on the unit sphere) are one extremiser.
  double merge_tol = 1e-6;
};

/// One local extremiser of G on the unit sphere.
struct ExtremalVector {
  Vec direction;             ///< unit vector, length d (or d + 1 with_bias)
  double value = 0.0;        ///< G(direction)
  /// 0 at a stationary point. Off every kink: ||(I - w w^T) D_n(w)||, the tangential gradient. On
  /// kinks (samples with <w, x_k> = 0, the set K): the larger of the tangential gradient within the
  /// kinks' face, ||P D_K(w)|| (P projects onto the tangent space of the sphere intersected with the
  /// hyperplanes <., x_k> = 0, k in K; D_K sums only samples with <w, x_k> > 0), and the largest
  /// violation, times ||x_k||, of the one-sided conditions that make w a local extremum across each
  /// kink (see extremal_vectors).
  double stationarity = 0.0;
  bool stationary = false;   ///< stationarity <= gradient_tol * s
  Index starts = 0;          ///< how many starts ended here (its basin's share)
};

struct ExtremalVectors {
  std::vector<ExtremalVector> maximizers;  ///< local maximisers, largest G first
  std::vector<ExtremalVector> minimizers;  ///< local minimisers, smallest G first
  /// Searches that ended with no sample strictly active (<w, x_k> > 0 for no k): G is 0 there and
  /// flat, and a neuron pointing there never moves. They are not listed above.
  Index inactive_ascents = 0;
  Index inactive_descents = 0;
};

/// The extremal vectors of Boursier and Flammarion 2025: local maximisers and minimisers of G on the unit sphere, the
/// directions positive- and negative-output neurons align with in the early phase.
///
/// G is piecewise linear: between the kinks (the great circles <w, x_k> = 0) it is <w, D> with D
/// fixed, and its maximum over a region's great circles sits at D / ||D||. For n >> d the extremisers
/// are such interior points; for small n many sit on kinks, where plain Riemannian gradient ascent
/// zig-zags. The search is therefore Riemannian (projected) gradient ascent with an active set of
/// kinks (for the minimisers, the same on -G), from the same `starts` seeded random points. Start s is
/// the normalised vector of dim normals drawn from Rng(seed), starts in order, dim = d (+ 1 with_bias).
/// Each step, with K the kinks w is held on and t the tangential gradient within their face:
///  - t != 0: move along the great circle towards t, trying first the angle atan2(||t||, <w, D_K>)
///    (the face's own optimum) and halving it (at most 50 times) while G does not strictly improve
///    (Armijo) and the angle is beyond the first kink on the way; when no such angle improves, step
///    exactly to the first kink (or to the face optimum if it comes first) and add that kink to K;
///  - t = 0: w is a KKT point of the face. Write the normal part of D_K as sum_{k in K} mu_k x_k; w is a
///    local maximum across kink k iff 0 <= mu_k <= -y_k / n (for -G: 0 <= mu_k <= y_k / n). If every
///    kink satisfies this (within gradient_tol * s), w is stationary and the search ends; otherwise the
///    most violated kink is released to the side that improves G.
/// It also ends after max_iterations steps (then usually non-stationary). End points within merge_tol
/// are merged into the one with the best value; `starts` counts them. Assumes data in general
/// position (no sample a multiple of another); runs on one thread; deterministic.
/// Throws InputError for an inconsistent data set or options (starts >= 1, max_iterations >= 1,
/// tolerances finite and >= 0).
ExtremalVectors extremal_vectors(const Dataset& data, const ExtremalOptions& options = {});

}  // namespace relustab
