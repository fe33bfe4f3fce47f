// SPDX-License-Identifier: MIT
// A regression data set: inputs, noisy targets, and (when known) the clean target values.
#pragma once

#include <relustab/core/types.h>

#include <functional>
#include <string>

namespace relustab {

/// n samples in R^d with targets y. `y_clean` holds f0(x_j) when the data were generated from a known
/// target (empty otherwise), so the MSE against the clean target can be reported.
struct Dataset {
  RowMatrix X;   ///< n x d, one sample per row
  Vec y;         ///< n noisy targets
  Vec y_clean;   ///< n clean targets, or empty

  Index n() const { return X.rows(); }
  Index dim() const { return X.cols(); }
  bool has_clean() const { return y_clean.size() == y.size() && y.size() > 0; }
};

/// Throws InputError unless the data set is non-empty, consistent in its sizes, and finite.
/// `what` names the source (a file name) for the message.
void validate_dataset(const Dataset& data, const std::string& what);

}  // namespace relustab
