// SPDX-License-Identifier: MIT
// Initialisations of two-layer ReLU nets, all seeded.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/model/shallow_relu.h>

#include <relustab/core/types.h>

#include <string_view>

namespace relustab {

enum class InitKind {
  TorchUniform,   ///< PyTorch nn.Linear default: every weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  KaimingNormal,  ///< weights N(0, 2/fan_in), biases 0
  Scaled,         ///< every parameter N(0, scale^2)
  SmallBalanced,  ///< Boursier and Flammarion 2025: (W1_i, b1_i) ~ N(0, (scale/sqrt(k))^2), w2_i = +-||(W1_i, b1_i)||
};

/// Parses "torch", "kaiming", "scaled", "balanced"; throws InputError naming the choices otherwise.
InitKind parse_init_kind(std::string_view name);
std::string_view init_kind_name(InitKind kind);

/// A freshly initialised net of `width` (k) neurons on R^`input_dim` (d). `scale` is used by Scaled and
/// SmallBalanced (must be finite and > 0 there) and ignored otherwise. Throws InputError if d < 1,
/// k < 1 or the scale is invalid.
///
/// Order of the draws from `rng` (part of the contract: a seed reproduces a net everywhere):
///  - TorchUniform, Scaled: one draw per parameter, in the storage order of theta (W1 row-major, b1,
///    w2, b2). TorchUniform uses Rng::uniform(lo, hi), Scaled Rng::normal().
///  - KaimingNormal: W1 row-major, then w2, one Rng::normal() each; biases are 0 and draw nothing.
///  - SmallBalanced: neuron by neuron, i = 0..k-1: d normals for W1_i, one normal for b1_i, then one
///    Rng::below(2) for the sign of w2_i (0: +, 1: -); b2 = 0 draws nothing.
ShallowReluNet initialize(Index input_dim, Index width, InitKind kind, double scale, Rng& rng);

/// An initialisation that sees the training inputs (d = 1): every knot lies inside the data range,
/// spread over the gaps between consecutive inputs so that each gap gets floor(k/m) or ceil(k/m) knots
/// (m gaps). With k >= m every gap holds a knot, which is what makes the features able to interpolate
/// any labels: a ReLU net is linear between consecutive knots, so three inputs with no knot between
/// them could only be fitted by collinear labels. Neuron i gets w1_i = +-scale (random sign), its knot
/// t_i, b1_i = -w1_i t_i, and w2_i = 0; b2 = 0 (the output layer is left to a fit or to training).
///
/// The gaps are those between consecutive distinct values of `inputs`, sorted. Order of the draws
/// from `rng` (part of the contract): neuron by neuron, i = 0..k-1; at the start of each round of m
/// neurons (i % m == 0) a fresh random order of the m gaps by Fisher-Yates (for j = m-1 down to 1,
/// swap entries j and Rng::below(j + 1)); then the knot Rng::uniform(left, right) of gap
/// order[i % m], then one Rng::below(2) for the sign (0: +, 1: -).
/// Throws InputError if k < 1, scale is not finite and > 0, an input is not finite, or the inputs
/// have fewer than two distinct values.
ShallowReluNet initialize_data_knots(const Vec& inputs, Index width, double scale, Rng& rng);

}  // namespace relustab
