// SPDX-License-Identifier: MIT
// Internal: the field trimming the line-based readers (CSV data, the digits CSV) share.
#pragma once

#include <string_view>

namespace relustab::io::detail {

/// `s` without leading and trailing spaces, tabs and carriage returns (CRLF files).
inline std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace relustab::io::detail
