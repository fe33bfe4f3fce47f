// SPDX-License-Identifier: MIT
// A minimal ZIP reader (stored and deflated members, zip64 fields, data descriptors) and a stored-only writer,
// enough for numpy's .npz archives.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relustab::io::detail {

/// One member as the central directory describes it (the central directory is authoritative: local headers
/// written with a data descriptor or by numpy's force_zip64 carry placeholder sizes).
struct ZipEntry {
  std::string name;
  std::uint16_t flags = 0;
  std::uint16_t method = 0;  ///< 0 stored, 8 deflated
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_header_offset = 0;
};

/// Parses the central directory of `archive` (the whole file's bytes, which must outlive the reader).
/// Every error throws InputError starting with "<archive_name>: ".
class ZipReader {
 public:
  ZipReader(std::string_view archive, std::string archive_name);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  /// The member called `name`, or nullptr.
  const ZipEntry* find(std::string_view name) const;
  /// The member's uncompressed bytes, checked against the recorded size and CRC-32.
  std::string extract(const ZipEntry& entry) const;

 private:
  std::string_view archive_;
  std::string archive_name_;
  std::vector<ZipEntry> entries_;
};

/// A ZIP archive holding `members` (name, bytes) uncompressed (method 0) with their CRC-32s, in the given
/// order, with fixed timestamps so that equal inputs give equal bytes. Throws InputError if a member or the
/// archive would need zip64 (4 GiB and more).
std::string write_stored_zip(const std::vector<std::pair<std::string, std::string>>& members);

}  // namespace relustab::io::detail
