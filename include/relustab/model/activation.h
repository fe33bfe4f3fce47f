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

// The scalar maths of each activation, as policies the back ends are templated over. Plain inline
// functions of doubles (no Eigen, no allocation), so a device back end can include this header and
// mark them for its compiler.
#if defined(__CUDACC__)
#define RELUSTAB_HOST_DEVICE __host__ __device__
#else
#define RELUSTAB_HOST_DEVICE
#endif

/// An activation's value and first two derivatives at one pre-activation z.
struct ActivationDerivatives {
  double value;
  double slope;  ///< first derivative
  double curve;  ///< second derivative
};

/// relu(z) = max(z, 0) with the convention relu'(0) = 0 and relu'' = 0: a neuron exactly at its
/// kink is off, and "the Hessian" at a kink is that of the mode in which such neurons are off.
struct ReluActivation {
  static constexpr Activation kind = Activation::Relu;
  /// relu'' = 0, so the curvature has no second-derivative terms.
  static constexpr bool kHasCurvature = false;
  /// relu'(z) = 1{relu(z) > 0}: back ends need not keep the slopes beside the values.
  static constexpr bool kSlopeFromValue = true;
  /// z < 0 ? 0 : z, which is std::max(z, 0.0) bit for bit (also for -0 and NaN).
  RELUSTAB_HOST_DEVICE static constexpr double value(double z) { return z < 0.0 ? 0.0 : z; }
  RELUSTAB_HOST_DEVICE static constexpr double slope(double z) { return z > 0.0 ? 1.0 : 0.0; }
  RELUSTAB_HOST_DEVICE static constexpr double curve(double /*z*/) { return 0.0; }
  /// relu'(z) from a = relu(z).
  RELUSTAB_HOST_DEVICE static constexpr double slope_from_value(double a) {
    return a > 0.0 ? 1.0 : 0.0;
  }
  RELUSTAB_HOST_DEVICE static constexpr ActivationDerivatives derivatives(double z) {
    return {value(z), slope(z), 0.0};
  }
};

/// GeLU in its exact erf form (PyTorch's nn.GELU(approximate='none')), Phi and phi the standard
/// normal CDF and density:
///   gelu(z) = z Phi(z),  gelu'(z) = Phi(z) + z phi(z),  gelu''(z) = phi(z) (2 - z^2).
/// Phi(z) = erfc(-z / sqrt 2) / 2: erfc keeps it accurate in the far left tail, where
/// 1 + erf(z / sqrt 2) would cancel.
struct GeluActivation {
  static constexpr Activation kind = Activation::Gelu;
  static constexpr bool kHasCurvature = true;
  static constexpr bool kSlopeFromValue = false;
  RELUSTAB_HOST_DEVICE static double cdf(double z) {
    return 0.5 * std::erfc(-z * (1.0 / std::numbers::sqrt2));
  }
  RELUSTAB_HOST_DEVICE static double pdf(double z) {
    return (0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2) * std::exp(-0.5 * z * z);
  }
  RELUSTAB_HOST_DEVICE static double value(double z) { return z * cdf(z); }
  RELUSTAB_HOST_DEVICE static double slope(double z) { return cdf(z) + z * pdf(z); }
  RELUSTAB_HOST_DEVICE static double curve(double z) { return pdf(z) * (2.0 - z * z); }
  /// All three with one erfc and one exp.
  RELUSTAB_HOST_DEVICE static ActivationDerivatives derivatives(double z) {
    const double c = cdf(z);
    const double p = pdf(z);
    return {z * c, c + z * p, p * (2.0 - z * z)};
  }
};

/// gelu(z) = z Phi(z): GeluActivation::value, so the model and the back ends give the same bits.
inline double gelu(double z) { return GeluActivation::value(z); }

/// "relu", "gelu".
std::string_view activation_name(Activation activation);

/// The activation called `name` ("relu" or "gelu"). Throws InputError naming both otherwise; `what`
/// (a field or option name) starts the message.
Activation parse_activation(std::string_view name, std::string_view what = "activation");

}  // namespace relustab
