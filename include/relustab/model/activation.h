// SPDX-License-Identifier: MIT
// The hidden units' nonlinearity: part of a network, like its parameters.
#pragma once

#include <cmath>
#include <numbers>
#include <string_view>

namespace relustab {

/// The activation of a net's hidden units. A net carries its own (ShallowReluNet::activation), its
/// file says which ("activation" in the network JSON), and a back end computes with one activation
/// only: the library refuses to pair a net with a back end of another activation.
enum class Activation {
  Relu,  ///< relu(z) = max(z, 0), relu'(0) = 0
  Gelu,  ///< gelu(z) = z Phi(z), the exact erf form
};

/// gelu(z) = z Phi(z), written as the GeLU back end writes it (erfc keeps Phi accurate in the far
/// left tail), so both give the same bits.
inline double gelu(double z) { return z * (0.5 * std::erfc(-z * (1.0 / std::numbers::sqrt2))); }

/// "relu", "gelu".
std::string_view activation_name(Activation activation);

/// The activation called `name` ("relu" or "gelu"). Throws InputError naming both otherwise; `what`
/// (a field or option name) starts the message.
Activation parse_activation(std::string_view name, std::string_view what = "activation");

}  // namespace relustab
