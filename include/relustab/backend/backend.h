// SPDX-License-Identifier: MIT
// The engine interface every back end implements: the CPU reference (one template over the
// activation: "cpu" for ReLU, "cpu-gelu" for GeLU) and the sorted-knot univariate one. Two-layer
// nets (ShallowReluNet) and two-hidden-layer nets (DeepReluNet) go through the same interface.
#pragma once

#include <relustab/core/run_context.h>
#include <relustab/core/types.h>
#include <relustab/data/dataset.h>
#include <relustab/model/activation.h>
#include <relustab/model/deep_relu.h>
#include <relustab/model/shallow_relu.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace relustab {

// RunContext (the device and the thread pool a computation runs on) is defined in the core layer,
// <relustab/core/run_context.h>, so that core's block-parallel loop can take it.

/// A symmetric linear map R^n -> R^n given only by its action (Hessian, Gauss-Newton matrix).
class LinearOperator {
 public:
  virtual ~LinearOperator() = default;
  virtual Index size() const = 0;
  /// out = A * in. `out` is resized by the operator.
  virtual void apply(const Vec& in, Vec& out) const = 0;
};

/// The matrix of a symmetric operator, column by column (one apply() per column), symmetrised as
/// (A + A^T) / 2: the columns agree with the rows only to rounding. O(size) applications.
Matrix dense_matrix(const LinearOperator& op);

/// Which curvature matrix of the loss L = 1/(2n) sum_j (f(x_j) - y_j)^2.
enum class CurvatureKind {
  Hessian,      ///< exact Hessian, (1/n) sum_j [grad f_j grad f_j^T + r_j Hess f_j] (Mulayoff et al. 2021, eqs. 26-28)
  GaussNewton,  ///< (1/n) sum_j grad f_j grad f_j^T = Phi Phi^T / n
};

/// One engine: loss, gradient and curvature-vector products for a two-layer net (and, where the
/// back end computes them, a two-hidden-layer net) on a data set.
/// Every ReLU back end follows the convention relu'(0) = 0: a neuron whose pre-activation is exactly 0
/// at a sample is inactive there, so "the Hessian" at a kink is that of the mode in which such neurons
/// are off (the switching-system analysis of Mulayoff et al. 2021, Theorem 2, looks at all modes).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;

  /// The activation of the hidden units in everything this back end computes. No default: a new back
  /// end must say, so that no ReLU-only formula is applied to it by mistake. A back end computes nets
  /// of its own activation only (require_activation_match).
  virtual Activation activation() const = 0;

  /// Loss (1/(2|S|)) sum_{j in S} r_j^2 over the sample indices `rows` (all samples when `rows` is
  /// empty); when `grad` is not null it receives the gradient with respect to theta (resized).
  virtual double loss_and_grad(const ShallowReluNet& net, const Dataset& data,
                               std::span<const Index> rows, Vec* grad) const = 0;

  /// The full-batch curvature operator at the current parameters. Activations and residuals are
  /// computed once here, so each apply() costs one pass over the data (O(n k d)). The operator
  /// refers to `net` and `data`, which must outlive it.
  virtual std::unique_ptr<LinearOperator> curvature(const ShallowReluNet& net, const Dataset& data,
                                                    CurvatureKind kind) const = 0;

  /// The dense P x P matrix of `kind` at the current parameters: the matrix whose products
  /// curvature() computes, so eigenpairs of one are eigenpairs of the other. The default applies this
  /// back end's own operator to the P unit vectors (P products) and symmetrises the result; back ends
  /// with an explicit formula for their activation override it.
  virtual Matrix dense_curvature(const ShallowReluNet& net, const Dataset& data,
                                 CurvatureKind kind) const;

  /// True when a curvature-vector product costs far less than forming the dense matrix (O(n + k) for
  /// the sorted-knot back end), so eigensolvers should use the operator even for small nets.
  virtual bool cheap_curvature_products() const { return false; }

  // Two-hidden-layer nets (DeepReluNet), with the same contracts as the overloads above. A back end
  // that does not compute them keeps the defaults, which throw InputError "back end X does not
  // compute two-hidden-layer nets". A derived class that overrides one overload of a name brings
  // the others in with `using Backend::loss_and_grad;` (etc.), so none is hidden.

  virtual double loss_and_grad(const DeepReluNet& net, const Dataset& data,
                               std::span<const Index> rows, Vec* grad) const;
  virtual std::unique_ptr<LinearOperator> curvature(const DeepReluNet& net, const Dataset& data,
                                                    CurvatureKind kind) const;
  /// The default applies this back end's own operator to the P unit vectors and symmetrises.
  virtual Matrix dense_curvature(const DeepReluNet& net, const Dataset& data,
                                 CurvatureKind kind) const;
};

/// Throws InputError unless `backend` computes with `net`'s activation: every library entry point that
/// takes both (train, sharpness, analyze_net, ...) calls this, so no net is ever evaluated with another
/// activation than its own.
void require_activation_match(const Backend& backend, const ShallowReluNet& net);
/// The same for a two-hidden-layer net, whose activation is ReLU.
void require_activation_match(const Backend& backend, const DeepReluNet& net);

/// The back ends compiled into this build, by name ("cpu", "univariate", ...).
std::vector<std::string> backend_names();

/// The back end a run uses when it asks for `requested`: "auto" picks, for ReLU nets, the sorted-knot
/// back end ("univariate") for input dimension 1 and the reference ("cpu") otherwise, and "cpu-gelu"
/// for GeLU nets; any other name is returned as given (make_backend checks it, and
/// require_activation_match that it computes the net's activation).
std::string resolve_backend_name(std::string_view requested, Index input_dim,
                                 Activation activation = Activation::Relu);

/// Constructs a back end by name. Throws InputError naming the back ends compiled in when `name` is
/// unknown (there is no silent fallback), and when the back end computes on another device than
/// context.device.
std::unique_ptr<Backend> make_backend(std::string_view name, const RunContext& context = {});

}  // namespace relustab
