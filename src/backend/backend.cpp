// SPDX-License-Identifier: MIT
// What every back end shares: the activation names and the dense curvature matrix built from the back
// end's own operator.
#include <relustab/backend/backend.h>

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

Matrix dense_matrix(const LinearOperator& op) {
  const Index p = op.size();
  Matrix A(p, p);
  Vec unit = Vec::Zero(p);
  Vec column;
  for (Index c = 0; c < p; ++c) {
    unit[c] = 1.0;
    op.apply(unit, column);
    A.col(c) = column;
    unit[c] = 0.0;
  }
  // The operator is symmetric up to rounding; the dense eigensolvers read one triangle only, so make
  // both agree with the average.
  return 0.5 * (A + A.transpose());
}

Matrix Backend::dense_curvature(const ShallowReluNet& net, const Dataset& data,
                                CurvatureKind kind) const {
  return dense_matrix(*curvature(net, data, kind));
}

}  // namespace relustab
