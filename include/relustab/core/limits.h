// SPDX-License-Identifier: MIT
// The size limits of what relustab computes, stated once and checked before anything is allocated:
// a size beyond them is bad input (InputError naming the field and the limit), not an out-of-memory
// crash. They are far above the papers' experiments (Fashion-MNIST: d = 784, n = 60000; widths of a
// few thousand) and below what overflows 64-bit index arithmetic.
#pragma once

#include <relustab/core/error.h>
#include <relustab/core/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace relustab::limits {

inline constexpr Index kMaxInputDim = 1'000'000;       ///< input dimension d
inline constexpr Index kMaxWidth = 10'000'000;         ///< hidden neurons k (per layer)
inline constexpr Index kMaxParams = 500'000'000;       ///< parameters P of a net (4 GB of doubles)
inline constexpr Index kMaxSamples = 100'000'000;      ///< samples n of a data set
inline constexpr Index kMaxDataValues = 500'000'000;   ///< n x d inputs of a data set (4 GB of doubles)
inline constexpr std::int64_t kMaxRuns = 10'000'000;   ///< runs of one sweep (and values of one axis)
inline constexpr int kMaxIncludeDepth = 64;            ///< nested includes of an experiment file

/// Throws InputError "<what>: expected an integer in [1, <limit>], got <value>".
inline void require_in_range(Index value, Index limit, std::string_view what) {
  if (value < 1 || value > limit) {
    throw InputError(std::string(what) + ": expected an integer in [1, " + std::to_string(limit) +
                     "], got " + std::to_string(value));
  }
}

/// The parameter count k d + 2 k + 1 of a two-layer net, after checking d and k against their limits
/// (so the product cannot overflow) and the count against kMaxParams. `what` names the fields.
inline Index checked_shallow_params(Index input_dim, Index width, std::string_view what) {
  require_in_range(input_dim, kMaxInputDim, std::string(what) + ": input dimension");
  require_in_range(width, kMaxWidth, std::string(what) + ": width");
  const Index params = width * input_dim + 2 * width + 1;  // <= 1e13: no overflow
  if (params > kMaxParams) {
    throw InputError(std::string(what) + ": width " + std::to_string(width) + " x input dimension " +
                     std::to_string(input_dim) + " gives " + std::to_string(params) +
                     " parameters, above the limit of " + std::to_string(kMaxParams));
  }
  return params;
}

/// Checks n samples of dimension d against kMaxSamples, kMaxInputDim and kMaxDataValues.
inline void require_data_size(Index n, Index d, std::string_view what) {
  require_in_range(n, kMaxSamples, std::string(what) + ": number of samples");
  require_in_range(d, kMaxInputDim, std::string(what) + ": input dimension");
  if (n * d > kMaxDataValues) {  // <= 1e14: no overflow
    throw InputError(std::string(what) + ": " + std::to_string(n) + " samples x dimension " +
                     std::to_string(d) + " = " + std::to_string(n * d) +
                     " input values, above the limit of " + std::to_string(kMaxDataValues));
  }
}

}  // namespace relustab::limits
