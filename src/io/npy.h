// SPDX-License-Identifier: MIT
// Decoding and encoding of numpy's .npy array format (versions 1.0, 2.0, 3.0; float64 and float32).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relustab::io::detail {

/// A decoded floating-point array, always in C (row-major) order and widened to double.
struct NpyArray {
  std::vector<std::int64_t> shape;  ///< empty for a 0-d (scalar) array
  std::vector<double> values;       ///< product(shape) values, C order
  bool fortran_order = false;       ///< how the file stored it (values are reordered to C order)
  int item_size = 8;                ///< 8 for float64, 4 for float32
};

/// Decodes a whole .npy file. Accepted dtypes: float64 and float32 in any byte order ('<', '>', '=' and
/// '|'... only where numpy itself would accept it). Throws InputError whose message starts with `context`,
/// e.g. "net.npz: array 'W1'".
NpyArray parse_npy(std::string_view bytes, const std::string& context);

/// Encodes `values` (C order) as a version 1.0 .npy file with dtype '<f8', header padded to 64 bytes as
/// numpy does.
std::string encode_npy(const std::vector<std::int64_t>& shape, const std::vector<double>& values);

/// "(3, 2)", "(3,)", "()": a shape as numpy prints it.
std::string shape_to_string(const std::vector<std::int64_t>& shape);

}  // namespace relustab::io::detail
