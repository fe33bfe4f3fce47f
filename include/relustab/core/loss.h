// SPDX-License-Identifier: MIT
// The loss convention: which of the two common squared losses a step size, a loss value and a
// Hessian refer to.
#pragma once

#include <relustab/core/error.h>

#include <string>
#include <string_view>

namespace relustab {

/// The papers (and relustab) use L = 1/(2n) sum r^2 (HalfMse); PyTorch's nn.MSELoss is mean r^2
/// (Mse) = 2 L, whose gradient and Hessian are twice as large. GD on Mse at step eta is GD on
/// HalfMse at step 2 eta, so a step size given for Mse is judged as the half-MSE step 2 eta.
enum class Loss {
  HalfMse,  ///< "half_mse": 1/(2n) sum r^2
  Mse,      ///< "mse": 1/n sum r^2 (torch.nn.MSELoss)
};

/// The factor from the half-MSE loss (gradient, Hessian) to `loss`'s: 1 or 2.
constexpr double loss_scale(Loss loss) { return loss == Loss::Mse ? 2.0 : 1.0; }

/// "half_mse" or "mse".
constexpr std::string_view loss_name(Loss loss) { return loss == Loss::Mse ? "mse" : "half_mse"; }

/// The Loss named `name`; throws InputError otherwise.
inline Loss parse_loss(std::string_view name) {
  if (name == "half_mse") return Loss::HalfMse;
  if (name == "mse") return Loss::Mse;
  throw InputError("loss: unknown loss '" + std::string(name) +
                   "'; expected half_mse (1/(2n) sum r^2, the papers') or mse (1/n sum r^2, "
                   "torch.nn.MSELoss)");
}

}  // namespace relustab
