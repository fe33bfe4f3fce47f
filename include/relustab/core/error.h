// SPDX-License-Identifier: MIT
// Error types: bad input (exit code 2 at the command line) versus internal failure.
#pragma once

#include <stdexcept>
#include <string>

namespace relustab {

/// A caller supplied something the library cannot accept (width 0, eta <= 0, mismatched dimensions,
/// a malformed file). The message names the offending field, file or line and what was expected.
/// The command line maps it to exit code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws InputError(message) unless `condition` holds. Used for validating user-facing arguments;
/// internal invariants use assert.
inline void require(bool condition, const std::string& message) {
  if (!condition) throw InputError(message);
}

}  // namespace relustab
