// SPDX-License-Identifier: MIT
// ZIP reading (central directory, stored/deflated, zip64) and stored-only writing for .npz files.
#include "zip_archive.h"

#include <relustab/core/error.h>

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <set>

namespace relustab::io::detail {
namespace {

// Record signatures and fixed sizes from PKWARE's APPNOTE.TXT (sections 4.3.7, 4.3.12, 4.3.14-16).
constexpr std::uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr std::uint32_t kEndOfCentralDirSignature = 0x06054b50;
constexpr std::uint32_t kZip64EndOfCentralDirSignature = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kEndOfCentralDirSize = 22;
constexpr std::size_t kZip64EndOfCentralDirSize = 56;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kMaxCommentSize = 0xFFFF;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint32_t kZip64Marker32 = 0xFFFFFFFF;
constexpr std::uint16_t kZip64Marker16 = 0xFFFF;
constexpr std::uint16_t kMethodStored = 0;
constexpr std::uint16_t kMethodDeflated = 8;
constexpr std::uint16_t kFlagEncrypted = 0x0001;
constexpr std::uint16_t kFlagStrongEncryption = 0x0040;
// Deflate cannot expand data by more than a factor of 1032 (zlib's documented limit), so a recorded size
// beyond that is corrupt and must not be allocated.
constexpr std::uint64_t kMaxDeflateRatio = 1032;
// DOS date 1980-01-01, time 00:00: the writer's fixed timestamp, so archives are reproducible.
constexpr std::uint16_t kFixedDosDate = (0 << 9) | (1 << 5) | 1;
constexpr std::uint16_t kVersion20 = 20;

std::uint16_t load16(std::string_view bytes, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at]) |
                                    (static_cast<unsigned char>(bytes[at + 1]) << 8));
}
std::uint32_t load32(std::string_view bytes, std::size_t at) {
  return static_cast<std::uint32_t>(load16(bytes, at)) |
         (static_cast<std::uint32_t>(load16(bytes, at + 2)) << 16);
}
std::uint64_t load64(std::string_view bytes, std::size_t at) {
  return static_cast<std::uint64_t>(load32(bytes, at)) |
         (static_cast<std::uint64_t>(load32(bytes, at + 4)) << 32);
}

void store16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}
void store32(std::string& out, std::uint32_t v) {
  store16(out, static_cast<std::uint16_t>(v & 0xFFFF));
  store16(out, static_cast<std::uint16_t>(v >> 16));
}

/// True if [offset, offset + length) lies inside a buffer of `size` bytes (overflow-safe).
bool fits(std::uint64_t offset, std::uint64_t length, std::uint64_t size) {
  return offset <= size && length <= size - offset;
}

std::uint32_t crc32_of(std::string_view data) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const auto* bytes = reinterpret_cast<const Bytef*>(data.data());
  std::size_t left = data.size();
  while (left > 0) {  // zlib takes uInt lengths
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(left, UINT_MAX));
    crc = ::crc32(crc, bytes, chunk);
    bytes += chunk;
    left -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

/// Replaces the 0xFFFFFFFF placeholders of a central directory entry by the values of its zip64 extra
/// field, which lists only the placeholder fields, in the order APPNOTE 4.5.3 fixes.
void apply_zip64_extra(std::string_view extra, ZipEntry& entry, bool offset_is_placeholder,
                       const std::string& where) {
  const bool need_uncompressed = entry.uncompressed_size == kZip64Marker32;
  const bool need_compressed = entry.compressed_size == kZip64Marker32;
  if (!need_uncompressed && !need_compressed && !offset_is_placeholder) return;
  std::size_t at = 0;
  while (at + 4 <= extra.size()) {
    const std::uint16_t id = load16(extra, at);
    const std::uint16_t size = load16(extra, at + 2);
    if (!fits(at + 4, size, extra.size())) break;
    if (id == kZip64ExtraId) {
      const std::string_view field = extra.substr(at + 4, size);
      std::size_t pos = 0;
      auto next = [&](std::uint64_t& value) {
        if (pos + 8 > field.size()) {
          throw InputError(where + ": zip64 extra field is too short for the sizes it must hold");
        }
        value = load64(field, pos);
        pos += 8;
      };
      if (need_uncompressed) next(entry.uncompressed_size);
      if (need_compressed) next(entry.compressed_size);
      if (offset_is_placeholder) next(entry.local_header_offset);
      return;
    }
    at += 4 + static_cast<std::size_t>(size);
  }
  throw InputError(where + ": sizes are marked as zip64 but there is no zip64 extra field");
}

}  // namespace

ZipReader::ZipReader(std::string_view archive, std::string archive_name)
    : archive_(archive), archive_name_(std::move(archive_name)) {
  const std::string& name = archive_name_;
  const std::uint64_t size = archive_.size();
  const bool looks_like_zip = size >= 4 && (load32(archive_, 0) == kLocalHeaderSignature ||
                                            load32(archive_, 0) == kEndOfCentralDirSignature);
  if (size == 0) throw InputError(name + ": not a zip archive (the file is empty)");

  // The end-of-central-directory record sits at the end, possibly followed by a comment of at most 64 KiB.
  std::size_t eocd = std::string_view::npos;
  if (size >= kEndOfCentralDirSize) {
    const std::size_t last = archive_.size() - kEndOfCentralDirSize;
    const std::size_t first = last > kMaxCommentSize ? last - kMaxCommentSize : 0;
    for (std::size_t at = last + 1; at-- > first;) {
      if (load32(archive_, at) == kEndOfCentralDirSignature &&
          at + kEndOfCentralDirSize + load16(archive_, at + 20) <= archive_.size()) {
        eocd = at;
        break;
      }
    }
  }
  if (eocd == std::string_view::npos) {
    if (looks_like_zip) {
      throw InputError(name + ": truncated or corrupt zip archive (end of central directory record not found)");
    }
    throw InputError(name + ": not a zip archive (an .npz file is the zip archive numpy.savez writes)");
  }

  const std::uint16_t this_disk = load16(archive_, eocd + 4);
  const std::uint16_t cd_disk = load16(archive_, eocd + 6);
  std::uint64_t entries_here = load16(archive_, eocd + 8);
  std::uint64_t entry_count = load16(archive_, eocd + 10);
  std::uint64_t cd_size = load32(archive_, eocd + 12);
  std::uint64_t cd_offset = load32(archive_, eocd + 16);

  const bool zip64 = entry_count == kZip64Marker16 || entries_here == kZip64Marker16 ||
                     cd_size == kZip64Marker32 || cd_offset == kZip64Marker32;
  if (zip64) {
    if (eocd < kZip64LocatorSize || load32(archive_, eocd - kZip64LocatorSize) != kZip64LocatorSignature) {
      throw InputError(name + ": corrupt zip archive (zip64 end of central directory locator not found)");
    }
    const std::uint64_t record = load64(archive_, eocd - kZip64LocatorSize + 8);
    if (!fits(record, kZip64EndOfCentralDirSize, size) ||
        load32(archive_, static_cast<std::size_t>(record)) != kZip64EndOfCentralDirSignature) {
      throw InputError(name + ": corrupt zip archive (bad zip64 end of central directory record)");
    }
    const auto at = static_cast<std::size_t>(record);
    if (load32(archive_, at + 16) != 0 || load32(archive_, at + 20) != 0) {
      throw InputError(name + ": multi-part zip archives are not supported");
    }
    entries_here = load64(archive_, at + 24);
    entry_count = load64(archive_, at + 32);
    cd_size = load64(archive_, at + 40);
    cd_offset = load64(archive_, at + 48);
  } else if (this_disk != 0 || cd_disk != 0) {
    throw InputError(name + ": multi-part zip archives are not supported");
  }
  if (entries_here != entry_count) throw InputError(name + ": multi-part zip archives are not supported");
  if (!fits(cd_offset, cd_size, size)) {
    throw InputError(name + ": truncated or corrupt zip archive (central directory lies outside the file)");
  }
  // Every central directory entry takes at least 46 bytes: this bounds the count before reserving.
  if (entry_count > cd_size / kCentralHeaderSize) {
    throw InputError(name + ": corrupt zip archive (" + std::to_string(entry_count) +
                     " entries cannot fit in a central directory of " + std::to_string(cd_size) + " bytes)");
  }

  const std::string_view directory = archive_.substr(static_cast<std::size_t>(cd_offset),
                                                     static_cast<std::size_t>(cd_size));
  entries_.reserve(static_cast<std::size_t>(entry_count));
  std::set<std::string, std::less<>> seen;
  std::size_t at = 0;
  for (std::uint64_t i = 0; i < entry_count; ++i) {
    const std::string where = name + ": central directory entry " + std::to_string(i + 1);
    if (!fits(at, kCentralHeaderSize, directory.size()) || load32(directory, at) != kCentralHeaderSignature) {
      throw InputError(where + ": truncated or corrupt (bad signature or past the end of the directory)");
    }
    ZipEntry entry;
    entry.flags = load16(directory, at + 8);
    entry.method = load16(directory, at + 10);
    entry.crc32 = load32(directory, at + 16);
    entry.compressed_size = load32(directory, at + 20);
    entry.uncompressed_size = load32(directory, at + 24);
    const std::size_t name_length = load16(directory, at + 28);
    const std::size_t extra_length = load16(directory, at + 30);
    const std::size_t comment_length = load16(directory, at + 32);
    const std::uint16_t start_disk = load16(directory, at + 34);
    entry.local_header_offset = load32(directory, at + 42);
    const std::size_t variable = name_length + extra_length + comment_length;
    if (!fits(at + kCentralHeaderSize, variable, directory.size())) {
      throw InputError(where + ": truncated (name or extra field runs past the end of the directory)");
    }
    entry.name = std::string(directory.substr(at + kCentralHeaderSize, name_length));
    const bool offset_is_placeholder = entry.local_header_offset == kZip64Marker32;
    apply_zip64_extra(directory.substr(at + kCentralHeaderSize + name_length, extra_length), entry,
                      offset_is_placeholder, name + ": member '" + entry.name + "'");
    if (start_disk != 0 && start_disk != kZip64Marker16) {
      throw InputError(name + ": multi-part zip archives are not supported");
    }
    if (!seen.insert(entry.name).second) {
      throw InputError(name + ": member '" + entry.name + "' appears twice in the archive");
    }
    entries_.push_back(std::move(entry));
    at += kCentralHeaderSize + variable;
  }
}

const ZipEntry* ZipReader::find(std::string_view member) const {
  for (const ZipEntry& entry : entries_) {
    if (entry.name == member) return &entry;
  }
  return nullptr;
}

std::string ZipReader::extract(const ZipEntry& entry) const {
  const std::string where = archive_name_ + ": member '" + entry.name + "'";
  if ((entry.flags & (kFlagEncrypted | kFlagStrongEncryption)) != 0) {
    throw InputError(where + " is encrypted; encrypted archives are not supported");
  }
  if (entry.method != kMethodStored && entry.method != kMethodDeflated) {
    throw InputError(where + " uses compression method " + std::to_string(entry.method) +
                     "; expected 0 (stored) or 8 (deflated)");
  }
  const std::uint64_t size = archive_.size();
  if (!fits(entry.local_header_offset, kLocalHeaderSize, size) ||
      load32(archive_, static_cast<std::size_t>(entry.local_header_offset)) != kLocalHeaderSignature) {
    throw InputError(where + ": truncated or corrupt archive (local file header not found)");
  }
  const auto local = static_cast<std::size_t>(entry.local_header_offset);
  // Sizes and CRC in the local header may be placeholders (data descriptor flag, numpy's force_zip64): only
  // the name and extra lengths are needed to find the data.
  const std::size_t name_length = load16(archive_, local + 26);
  const std::size_t extra_length = load16(archive_, local + 28);
  const std::uint64_t data_offset = entry.local_header_offset + kLocalHeaderSize + name_length + extra_length;
  if (!fits(local + kLocalHeaderSize, name_length, size) ||
      archive_.substr(local + kLocalHeaderSize, name_length) != entry.name) {
    throw InputError(where + ": corrupt archive (local file header names a different member)");
  }
  if (load16(archive_, local + 8) != entry.method) {
    throw InputError(where + ": corrupt archive (local and central headers disagree on the compression method)");
  }
  if (!fits(data_offset, entry.compressed_size, size)) {
    throw InputError(where + ": truncated archive (the member's data runs past the end of the file)");
  }
  const std::string_view packed =
      archive_.substr(static_cast<std::size_t>(data_offset), static_cast<std::size_t>(entry.compressed_size));

  std::string data;
  if (entry.method == kMethodStored) {
    if (entry.compressed_size != entry.uncompressed_size) {
      throw InputError(where + ": corrupt archive (stored member with different compressed and "
                               "uncompressed sizes)");
    }
    data.assign(packed);
  } else {
    if (entry.uncompressed_size > kMaxDeflateRatio * entry.compressed_size + 64 ||
        entry.compressed_size > UINT_MAX || entry.uncompressed_size > UINT_MAX) {
      throw InputError(where + ": corrupt archive (implausible sizes " + std::to_string(entry.compressed_size) +
                       " compressed, " + std::to_string(entry.uncompressed_size) + " uncompressed)");
    }
    data.resize(static_cast<std::size_t>(entry.uncompressed_size));
    char spare = 0;  // zlib needs somewhere to write even when the member is empty
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {  // negative window bits: raw deflate, no zlib header
      throw InputError(where + ": cannot initialise zlib");
    }
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
    stream.avail_in = static_cast<uInt>(packed.size());
    stream.next_out = reinterpret_cast<Bytef*>(data.empty() ? &spare : data.data());
    stream.avail_out = data.empty() ? 1u : static_cast<uInt>(data.size());
    const int status = inflate(&stream, Z_FINISH);
    const std::string message = stream.msg != nullptr ? stream.msg : "";
    const uLong produced = stream.total_out;
    inflateEnd(&stream);
    if (status == Z_DATA_ERROR) {
      throw InputError(where + ": corrupt deflate data (zlib: " + message + ")");
    }
    if (status != Z_STREAM_END) {
      throw InputError(where + ": truncated or corrupt deflate data (the stream does not end where the "
                               "archive's sizes say)");
    }
    if (produced != entry.uncompressed_size) {
      throw InputError(where + ": corrupt archive (decompressed " + std::to_string(produced) +
                       " bytes, the directory records " + std::to_string(entry.uncompressed_size) + ")");
    }
  }
  if (crc32_of(data) != entry.crc32) {
    throw InputError(where + ": CRC-32 mismatch (the archive is corrupt)");
  }
  return data;
}

std::string write_stored_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out;
  std::string directory;
  for (const auto& [name, data] : members) {
    if (data.size() >= kZip64Marker32 || name.size() > kZip64Marker16 || out.size() >= kZip64Marker32 ||
        members.size() >= kZip64Marker16) {
      throw InputError("member '" + name + "': too large for a zip archive without zip64 (4 GiB)");
    }
    const auto offset = static_cast<std::uint32_t>(out.size());
    const auto length = static_cast<std::uint32_t>(data.size());
    const std::uint32_t crc = crc32_of(data);
    const auto name_length = static_cast<std::uint16_t>(name.size());

    store32(out, kLocalHeaderSignature);
    store16(out, kVersion20);  // version needed to extract
    store16(out, 0);           // flags
    store16(out, kMethodStored);
    store16(out, 0);  // time
    store16(out, kFixedDosDate);
    store32(out, crc);
    store32(out, length);
    store32(out, length);
    store16(out, name_length);
    store16(out, 0);  // extra length
    out += name;
    out += data;

    store32(directory, kCentralHeaderSignature);
    store16(directory, kVersion20);  // version made by
    store16(directory, kVersion20);  // version needed to extract
    store16(directory, 0);
    store16(directory, kMethodStored);
    store16(directory, 0);
    store16(directory, kFixedDosDate);
    store32(directory, crc);
    store32(directory, length);
    store32(directory, length);
    store16(directory, name_length);
    store16(directory, 0);  // extra length
    store16(directory, 0);  // comment length
    store16(directory, 0);  // disk number start
    store16(directory, 0);  // internal attributes
    store32(directory, 0);  // external attributes
    store32(directory, offset);
    directory += name;
  }
  if (out.size() + directory.size() >= kZip64Marker32) {
    throw InputError("archive too large for a zip file without zip64 (4 GiB)");
  }
  const auto directory_offset = static_cast<std::uint32_t>(out.size());
  out += directory;
  store32(out, kEndOfCentralDirSignature);
  store16(out, 0);  // this disk
  store16(out, 0);  // disk with the central directory
  store16(out, static_cast<std::uint16_t>(members.size()));
  store16(out, static_cast<std::uint16_t>(members.size()));
  store32(out, static_cast<std::uint32_t>(directory.size()));
  store32(out, directory_offset);
  store16(out, 0);  // comment length
  return out;
}

}  // namespace relustab::io::detail
