// SPDX-License-Identifier: MIT
// What the CPU back end's one- and two-hidden-layer kernels share: input checks and the gathering
// of a mini-batch.
#pragma once

#include <relustab/core/error.h>
#include <relustab/core/types.h>
#include <relustab/data/dataset.h>

#include <span>
#include <string>

namespace relustab::cpu {

/// The checks every entry point needs before indexing: matching dimension, one target per sample,
/// and at least one sample (the loss divides by n). `prefix` starts each message.
inline void require_data_for(Index input_dim, const Dataset& data, const std::string& prefix = {}) {
  require(data.dim() == input_dim, prefix + "data: expected input dimension " +
                                       std::to_string(input_dim) + " (the net's), got " +
                                       std::to_string(data.dim()));
  require(data.n() >= 1, prefix + "data: expected at least one sample");
  require(data.y.size() == data.n(), prefix + "data: expected " + std::to_string(data.n()) +
                                         " targets (one per sample), got " +
                                         std::to_string(data.y.size()));
}

/// The rows a loss is taken over: the full batch in place when `rows` is empty, else the rows
/// gathered into `gathered` (the samples) and `gathered_y` (their targets).
struct BatchRows {
  const RowMatrix* X;
  const Vec* y;
};

inline BatchRows gather_rows(const Dataset& data, std::span<const Index> rows, RowMatrix& gathered,
                             Vec& gathered_y) {
  if (rows.empty()) return {&data.X, &data.y};
  gathered.resize(static_cast<Index>(rows.size()), data.dim());
  gathered_y.resize(static_cast<Index>(rows.size()));
  for (size_t b = 0; b < rows.size(); ++b) {
    require(rows[b] >= 0 && rows[b] < data.n(),
            "rows: sample index " + std::to_string(rows[b]) + " out of range [0, " +
                std::to_string(data.n()) + ")");
    gathered.row(static_cast<Index>(b)) = data.X.row(rows[b]);
    gathered_y[static_cast<Index>(b)] = data.y[rows[b]];
  }
  return {&gathered, &gathered_y};
}

}  // namespace relustab::cpu
