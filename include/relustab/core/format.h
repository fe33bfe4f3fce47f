// SPDX-License-Identifier: MIT
// Numbers as text for messages and keys: the shortest decimal that reads back to the same double.
#pragma once

#include <array>
#include <charconv>
#include <string>

namespace relustab {

/// Shortest decimal form that reads back to the same double ("-1", "0.1", "1e-07" style).
inline std::string format_number(double value) {
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return {buffer.data(), result.ptr};
}

}  // namespace relustab
