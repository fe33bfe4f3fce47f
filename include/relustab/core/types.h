// SPDX-License-Identifier: MIT
// Basic numeric types shared by every layer of relustab (float64 throughout).
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace relustab {

using Index = Eigen::Index;
using Vec = Eigen::VectorXd;
/// Row-major dense matrix: one sample (or one neuron) per contiguous row.
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Matrix = Eigen::MatrixXd;

}  // namespace relustab
