// SPDX-License-Identifier: MIT
#include <relustab/data/dataset.h>

#include <relustab/core/error.h>

namespace relustab {

void validate_dataset(const Dataset& data, const std::string& what) {
  require(data.n() > 0, what + ": expected at least one sample, got none");
  require(data.dim() > 0, what + ": expected at least one input column");
  require(data.y.size() == data.n(), what + ": expected one target per sample");
  require(data.y_clean.size() == 0 || data.y_clean.size() == data.n(),
          what + ": expected one clean target per sample");
  require(data.X.allFinite(), what + ": inputs must be finite (found NaN or infinity)");
  require(data.y.allFinite(), what + ": targets must be finite (found NaN or infinity)");
}

}  // namespace relustab
