// SPDX-License-Identifier: MIT
// Whole-or-nothing file output.
#pragma once

#include <string>
#include <string_view>

namespace relustab::io {

/// Writes `contents` to `path` whole or not at all: the bytes go to a temporary file in the same
/// directory, which is flushed and then renamed over `path`. Throws InputError naming the path when
/// it cannot be written (missing directory, no permission); the temporary file is removed.
void write_file_atomically(const std::string& path, std::string_view contents);

/// Reads a whole file. Throws InputError naming the path when it cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace relustab::io
