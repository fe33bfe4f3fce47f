// SPDX-License-Identifier: MIT
// fit_output_min_norm: the minimum-norm output layer for a fixed first layer.
#include <relustab/train/output_fit.h>

#include <relustab/core/error.h>

#include <Eigen/QR>

#include <string>

namespace relustab {

OutputFit fit_output_min_norm(ShallowReluNet& net, const Dataset& data) {
  require_relu(net, "fit_output");  // the features are ReLU features
  require(data.n() >= 1, "fit_output: the data set is empty");
  require(data.dim() == net.input_dim(),
          "fit_output: the data have input dimension " + std::to_string(data.dim()) +
              " but the net expects " + std::to_string(net.input_dim()));
  require(data.y.size() == data.n(), "fit_output: expected one label per sample");
  require(data.X.allFinite() && data.y.allFinite(), "fit_output: the inputs and labels must be finite");
  require(net.theta().allFinite(), "fit_output: the net's parameters must be finite");
  const Index n = data.n();
  const Index k = net.width();
  Matrix design(n, k + 1);
  // Column i: neuron i's activations on the data; the last column multiplies b2.
  design.leftCols(k) = ((data.X * net.W1().transpose()).rowwise() + net.b1().transpose()).cwiseMax(0.0);
  design.col(k).setOnes();
  const Eigen::CompleteOrthogonalDecomposition<Matrix> decomposition(design);
  const Vec solution = decomposition.solve(data.y);
  net.w2() = solution.head(k);
  net.b2() = solution[k];
  OutputFit fit;
  fit.rank = decomposition.rank();
  fit.residual_norm = (design * solution - data.y).norm();
  fit.norm = solution.norm();
  return fit;
}

}  // namespace relustab
