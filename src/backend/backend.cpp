// SPDX-License-Identifier: MIT
// What every back end shares: the activation check and the dense curvature matrix built from the back
// end's own operator.
#include <relustab/backend/backend.h>

#include <relustab/core/error.h>

#include <string>

namespace relustab {

void require_activation_match(const Backend& backend, const ShallowReluNet& net) {
  if (backend.activation() == net.activation()) return;
  throw InputError("backend: back end '" + std::string(backend.name()) + "' computes " +
                   std::string(activation_name(backend.activation())) + " nets, but the net is a " +
                   std::string(activation_name(net.activation())) +
                   " net (its activation is part of the net; pick the back end 'auto')");
}

void require_activation_match(const Backend& backend, const DeepReluNet& /*net*/) {
  if (backend.activation() == Activation::Relu) return;
  throw InputError("backend: back end '" + std::string(backend.name()) + "' computes " +
                   std::string(activation_name(backend.activation())) +
                   " nets, but the net is a two-hidden-layer relu net (pick the back end 'cpu')");
}

namespace {

[[noreturn]] void refuse_deep(const Backend& backend) {
  throw InputError("backend: back end '" + std::string(backend.name()) +
                   "' does not compute two-hidden-layer nets (the back end 'cpu' does)");
}

}  // namespace

double Backend::loss_and_grad(const DeepReluNet& /*net*/, const Dataset& /*data*/,
                              std::span<const Index> /*rows*/, Vec* /*grad*/) const {
  refuse_deep(*this);
}

std::unique_ptr<LinearOperator> Backend::curvature(const DeepReluNet& /*net*/,
                                                   const Dataset& /*data*/,
                                                   CurvatureKind /*kind*/) const {
  refuse_deep(*this);
}

Matrix Backend::dense_curvature(const DeepReluNet& net, const Dataset& data,
                                CurvatureKind kind) const {
  return dense_matrix(*curvature(net, data, kind));
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
