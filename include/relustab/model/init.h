// SPDX-License-Identifier: MIT
// Initialisations of two-layer ReLU nets, all seeded.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/model/shallow_relu.h>

#include <string_view>

namespace relustab {

enum class InitKind {
  TorchUniform,   ///< PyTorch nn.Linear default: every weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  KaimingNormal,  ///< weights N(0, 2/fan_in), biases 0
  Scaled,         ///< every parameter N(0, scale^2)
  SmallBalanced,  ///< SPEC.md 5.2: (W1_i, b1_i) ~ N(0, (scale/sqrt(k))^2), w2_i = +-||(W1_i, b1_i)||
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

}  // namespace relustab
