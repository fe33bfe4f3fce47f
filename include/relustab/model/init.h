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

/// A freshly initialised net. `scale` is used by Scaled and SmallBalanced (must be > 0 there).
ShallowReluNet initialize(Index input_dim, Index width, InitKind kind, double scale, Rng& rng);

}  // namespace relustab
