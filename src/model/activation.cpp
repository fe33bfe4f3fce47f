// SPDX-License-Identifier: MIT
#include <relustab/model/activation.h>

#include <relustab/core/error.h>

#include <string>

namespace relustab {

std::string_view activation_name(Activation activation) {
  switch (activation) {
    case Activation::Relu: return "relu";
    case Activation::Gelu: return "gelu";
  }
  throw InputError("activation: unknown activation value " +
                   std::to_string(static_cast<int>(activation)));
}

Activation parse_activation(std::string_view name, std::string_view what) {
  if (name == "relu") return Activation::Relu;
  if (name == "gelu") return Activation::Gelu;
  throw InputError(std::string(what) + ": expected \"relu\" or \"gelu\", got \"" + std::string(name) +
                   "\"");
}

}  // namespace relustab
