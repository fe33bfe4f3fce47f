// SPDX-License-Identifier: MIT
// Writing IDX files and gzip streams in tests, byte by byte, independently of the reader under test.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace relustab::testing {

inline void append_be(std::string& out, std::uint64_t value, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

/// The 4-byte magic number and the big-endian dims of an IDX file.
inline std::string idx_header(unsigned char type, const std::vector<std::uint32_t>& dims) {
  std::string out{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (const std::uint32_t dim : dims) append_be(out, dim, 4);
  return out;
}

/// An unsigned-byte IDX file.
inline std::string idx_ubyte(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& values) {
  std::string out = idx_header(0x08, dims);
  out.append(values.begin(), values.end());
  return out;
}

/// A gzip member of `data` (zlib's deflate with gzip framing: header, deflate data, CRC-32 and length).
inline std::string gzip(const std::string& data, int level = 6) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (status != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  return out;
}

}  // namespace relustab::testing
