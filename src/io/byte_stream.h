// SPDX-License-Identifier: MIT
// Sequential reading of a file's contents that may be gzip-compressed (detected by the magic bytes 1f 8b).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace relustab::io::detail {

/// Yields the bytes of `file` (kept by reference: it must outlive the stream), inflating them first when
/// they start with the gzip magic. Concatenated gzip members are read as one stream, as gzip does. Output
/// is produced on demand, so a header can be checked before a large or corrupt body is inflated.
class ByteStream {
 public:
  /// `name` is the file name used in messages.
  ByteStream(std::string_view file, std::string name);
  ~ByteStream();
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  /// Appends up to `count` bytes to `out` and returns how many it appended: fewer than `count` only at the
  /// end of the data. Throws InputError naming the file for a corrupt or truncated gzip stream, or for
  /// bytes after the end of the last gzip member that are not another member.
  std::size_t read(std::size_t count, std::string& out);

  /// Writes up to `count` bytes to `dest` (which has room for them) and returns how many it wrote; the same
  /// contract as read(), for callers that read straight into their final buffer.
  std::size_t read_into(char* dest, std::size_t count);

  /// Reads and discards the rest; returns how many bytes there were (with the same checks as read).
  std::size_t skip_rest();

  bool gzipped() const { return inflater_ != nullptr; }

 private:
  struct Inflater;
  std::string_view file_;
  std::string name_;
  std::size_t position_ = 0;               ///< next unread byte of file_ (plain files)
  std::unique_ptr<Inflater> inflater_;     ///< null for plain files
};

/// True when `bytes` start with the gzip magic 1f 8b.
bool is_gzip(std::string_view bytes);

}  // namespace relustab::io::detail
