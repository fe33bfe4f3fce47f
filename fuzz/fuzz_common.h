// SPDX-License-Identifier: MIT
// Shared by the libFuzzer harnesses: a failed property check is a finding, reported as an abort so
// that libFuzzer keeps the input (an InputError is the expected answer to bad input and is caught by
// each harness; any other exception escapes and is a finding too).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace relustab::fuzz {

/// Aborts with `what` unless `condition` holds: a reader accepted input it should have rejected, or
/// returned something inconsistent.
inline void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "relustab fuzz check failed: %s\n", what);
    std::abort();
  }
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace relustab::fuzz
