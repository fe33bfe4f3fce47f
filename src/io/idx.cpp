// SPDX-License-Identifier: MIT
// IDX files (the MNIST format of LeCun et al.): a strict reader of the header and the big-endian values,
// plain or gzip-compressed.
#include <relustab/io/idx.h>

#include <relustab/core/error.h>
#include <relustab/core/limits.h>
#include <relustab/io/atomic_file.h>

#include "byte_stream.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace relustab::io {
namespace {

constexpr std::size_t kMagicSize = 4;
constexpr std::size_t kDimSize = 4;
// Data converted as they are read (to doubles) go through a buffer of this size.
constexpr std::size_t kPieceSize = std::size_t{1} << 20;
constexpr const char* kTypesHelp =
    "0x08 (unsigned byte), 0x09 (signed byte), 0x0B (int16), 0x0C (int32), 0x0D (float32) or 0x0E (float64)";

/// The header of an IDX file and the length of the data it announces.
struct IdxHeader {
  IdxType type = IdxType::UnsignedByte;
  std::vector<std::int64_t> dims;
  std::size_t header_size = 0;  ///< bytes of magic number and dimensions
  std::size_t data_size = 0;    ///< bytes of (big-endian) data the dimensions call for
};

bool known_type(unsigned char code) {
  switch (code) {
    case 0x08: case 0x09: case 0x0B: case 0x0C: case 0x0D: case 0x0E: return true;
    default: return false;
  }
}

std::size_t item_size(IdxType type) {
  switch (type) {
    case IdxType::UnsignedByte: case IdxType::SignedByte: return 1;
    case IdxType::Int16: return 2;
    case IdxType::Int32: case IdxType::Float32: return 4;
    case IdxType::Float64: return 8;
  }
  return 1;
}

std::string hex_byte(unsigned char byte) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", static_cast<unsigned>(byte));
  return text;
}

std::string dims_to_string(const std::vector<std::int64_t>& dims) {
  std::string out = "(";
  for (std::size_t k = 0; k < dims.size(); ++k) out += (k > 0 ? ", " : "") + std::to_string(dims[k]);
  return out + ")";
}

std::uint32_t load_be32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
}

/// "the file" or "the decompressed data" (gzip), for messages about lengths.
std::string what_is_read(const detail::ByteStream& stream) {
  return stream.gzipped() ? "the decompressed data" : "the file";
}

/// Parses the header from `stream` (positioned at the start of the file) and checks the dimensions.
IdxHeader parse_header(detail::ByteStream& stream, std::string_view bytes, const std::string& name) {
  if (bytes.empty()) {
    throw InputError(name + ": the file is empty: expected an IDX file (magic number 0x00 0x00 <type> <ndim>, "
                     "then the dimensions and the data)");
  }
  std::string header;
  const std::size_t magic_read = stream.read(kMagicSize, header);
  if (magic_read == 0) {
    throw InputError(name + ": the gzip stream decompresses to nothing: expected an IDX file inside");
  }
  if (magic_read < kMagicSize) {
    throw InputError(name + ": truncated header: expected a 4-byte magic number, but " + what_is_read(stream) +
                     " has only " + std::to_string(magic_read) + " byte(s)");
  }
  const auto* magic = reinterpret_cast<const unsigned char*>(header.data());
  if (magic[0] != 0 || magic[1] != 0) {
    throw InputError(name + ": wrong magic number " + hex_byte(magic[0]) + " " + hex_byte(magic[1]) + " " +
                     hex_byte(magic[2]) + " " + hex_byte(magic[3]) +
                     ": expected an IDX file, whose magic number starts with 0x00 0x00 then the type byte and the "
                     "number of dimensions (e.g. 0x00 0x00 0x08 0x03 for MNIST images)");
  }
  if (!known_type(magic[2])) {
    throw InputError(name + ": unsupported IDX data type " + hex_byte(magic[2]) + " (third byte of the magic "
                     "number): expected " + kTypesHelp);
  }
  IdxHeader raw;
  raw.type = static_cast<IdxType>(magic[2]);
  const std::size_t ndim = magic[3];
  if (ndim == 0) {
    throw InputError(name + ": the header declares 0 dimensions (fourth byte of the magic number): expected "
                     "at least 1");
  }
  const std::size_t dims_read = stream.read(ndim * kDimSize, header);
  if (dims_read < ndim * kDimSize) {
    throw InputError(name + ": truncated header: expected " + std::to_string(ndim) + " dimension(s) of 4 bytes "
                     "after the magic number (" + std::to_string(kMagicSize + ndim * kDimSize) +
                     " header bytes), but " + what_is_read(stream) + " has only " +
                     std::to_string(kMagicSize + dims_read) + " bytes");
  }
  const std::size_t item = item_size(raw.type);
  std::uint64_t expected = item;  // data bytes; overflow-checked below
  for (std::size_t k = 0; k < ndim; ++k) {
    const std::uint32_t dim = load_be32(header.data() + kMagicSize + k * kDimSize);
    raw.dims.push_back(dim);
    if (dim == 0) {
      throw InputError(name + ": dimension " + std::to_string(k + 1) + " of " + std::to_string(ndim) +
                       " is 0: expected sizes >= 1");
    }
    if (expected > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / dim) {
      throw InputError(name + ": dimensions " + dims_to_string(raw.dims) +
                       "... describe more than 2^63 bytes: expected a plausible size (corrupt header?)");
    }
    expected *= dim;
  }

  raw.header_size = kMagicSize + ndim * kDimSize;
  const auto values = static_cast<std::int64_t>(expected / item);
  if (values > limits::kMaxDataValues) {
    throw InputError(name + ": dimensions " + dims_to_string(raw.dims) + " hold " + std::to_string(values) +
                     " values, above the limit of " + std::to_string(limits::kMaxDataValues));
  }
  raw.data_size = static_cast<std::size_t>(expected);
  return raw;
}

std::string shape_of(const IdxHeader& header) {
  return "dimensions " + dims_to_string(header.dims) + " of " + idx_type_name(header.type);
}

/// An IDX file opened for reading: the header is parsed and the length of the data checked against it
/// before anything of the data's size is allocated, so a short file (or a small .gz whose header promises
/// gigabytes) is refused at the cost of a counting pass; then read_data() writes the data straight into the
/// caller's final buffer. Peak memory is the file's bytes plus the caller's result.
class IdxReader {
 public:
  IdxReader(std::string_view bytes, const std::string& name) : stream_(bytes, name) {
    header_ = parse_header(stream_, bytes, name);
    // The data's length: the file's size for plain files; one inflating pass, counting, for gzip.
    std::size_t available = bytes.size() - std::min(bytes.size(), header_.header_size);
    if (stream_.gzipped()) {
      detail::ByteStream counter(bytes, name);
      std::string skipped;
      counter.read(header_.header_size, skipped);
      available = counter.skip_rest();
    }
    const std::string context = shape_of(header_) + " call for " + std::to_string(header_.data_size) +
                                " bytes after the " + std::to_string(header_.header_size) + "-byte header, but " +
                                what_is_read(stream_);
    if (available < header_.data_size) {
      throw InputError(name + ": truncated data: " + context + " has only " + std::to_string(available) +
                       " (file shorter than its header says)");
    }
    if (available > header_.data_size) {
      throw InputError(name + ": size mismatch: " + context + " has " +
                       std::to_string(available - header_.data_size) + " more (file longer than its header says)");
    }
  }

  const IdxHeader& header() const { return header_; }

  /// Writes the data (header().data_size bytes, big-endian as stored) to `dest`.
  void read_data(char* dest) { stream_.read_into(dest, header_.data_size); }

  /// Hands the data to `consume(bytes, size, offset)` in pieces of whole items, for callers that
  /// convert as they go and so never hold the raw data whole.
  template <class Consume>
  void read_data_in_pieces(Consume consume) {
    const std::size_t item = item_size(header_.type);
    const std::size_t piece = std::max<std::size_t>(kPieceSize / item, 1) * item;
    std::string buffer(std::min(piece, header_.data_size), '\0');
    for (std::size_t offset = 0; offset < header_.data_size; offset += buffer.size()) {
      const std::size_t size = std::min(buffer.size(), header_.data_size - offset);
      stream_.read_into(buffer.data(), size);
      consume(buffer.data(), size, offset);
    }
  }

 private:
  detail::ByteStream stream_;
  IdxHeader header_;
};

template <typename Unsigned>
Unsigned load_be(const char* p) {
  Unsigned value = 0;
  for (std::size_t i = 0; i < sizeof(Unsigned); ++i) {
    value = static_cast<Unsigned>((value << 8) | static_cast<unsigned char>(p[i]));
  }
  return value;
}

double decode(IdxType type, const char* p) {
  switch (type) {
    case IdxType::UnsignedByte: return static_cast<unsigned char>(*p);
    case IdxType::SignedByte: return static_cast<signed char>(*p);
    case IdxType::Int16: return std::bit_cast<std::int16_t>(load_be<std::uint16_t>(p));
    case IdxType::Int32: return std::bit_cast<std::int32_t>(load_be<std::uint32_t>(p));
    case IdxType::Float32: return std::bit_cast<float>(load_be<std::uint32_t>(p));
    case IdxType::Float64: return std::bit_cast<double>(load_be<std::uint64_t>(p));
  }
  return 0.0;
}

bool is_integer_type(IdxType type) {
  return type == IdxType::UnsignedByte || type == IdxType::SignedByte || type == IdxType::Int16 ||
         type == IdxType::Int32;
}

}  // namespace

std::string idx_type_name(IdxType type) {
  switch (type) {
    case IdxType::UnsignedByte: return "unsigned byte (0x08)";
    case IdxType::SignedByte: return "signed byte (0x09)";
    case IdxType::Int16: return "int16 (0x0B)";
    case IdxType::Int32: return "int32 (0x0C)";
    case IdxType::Float32: return "float32 (0x0D)";
    case IdxType::Float64: return "float64 (0x0E)";
  }
  return "unknown";
}

IdxArray parse_idx(std::string_view bytes, const std::string& name) {
  IdxReader reader(bytes, name);
  IdxArray array;
  array.type = reader.header().type;
  array.dims = reader.header().dims;
  const std::size_t item = item_size(array.type);
  array.values.resize(reader.header().data_size / item);
  reader.read_data_in_pieces([&](const char* data, std::size_t size, std::size_t offset) {
    for (std::size_t k = 0; k < size / item; ++k) {
      const std::size_t i = offset / item + k;
      const double value = decode(array.type, data + k * item);
      if (!std::isfinite(value)) {
        throw InputError(name + ": value " + std::to_string(i) + " (counted from 0 in C order) is NaN or "
                         "infinite: expected finite numbers");
      }
      array.values[i] = value;
    }
  });
  return array;
}

IdxArray read_idx(const std::string& path) { return parse_idx(read_file(path), path); }

ImageSet parse_idx_images(std::string_view bytes, const std::string& name) {
  IdxReader reader(bytes, name);
  const IdxHeader& raw = reader.header();
  if (raw.type != IdxType::UnsignedByte) {
    throw InputError(name + ": images of type " + idx_type_name(raw.type) + ": expected unsigned byte (0x08) "
                     "pixels for an image file");
  }
  if (raw.dims.size() != 3) {
    throw InputError(name + ": " + std::to_string(raw.dims.size()) + " dimension(s) " + dims_to_string(raw.dims) +
                     ": expected 3 (images, rows, columns) for an image file" +
                     (raw.dims.size() == 1 ? " (is this a labels file?)" : ""));
  }
  ImageSet set;
  set.image_rows = raw.dims[1];
  set.image_cols = raw.dims[2];
  set.pixels.resize(raw.dims[0], raw.dims[1] * raw.dims[2]);
  reader.read_data(reinterpret_cast<char*>(set.pixels.data()));  // both row-major, one byte per pixel
  set.max_value = 255.0;
  set.source = name;
  return set;
}

ImageSet read_idx_images(const std::string& path) { return parse_idx_images(read_file(path), path); }

std::vector<int> parse_idx_labels(std::string_view bytes, const std::string& name) {
  const IdxArray array = parse_idx(bytes, name);
  if (!is_integer_type(array.type)) {
    throw InputError(name + ": labels of type " + idx_type_name(array.type) + ": expected an integer type "
                     "(0x08, 0x09, 0x0B or 0x0C) for a labels file");
  }
  if (array.dims.size() != 1) {
    throw InputError(name + ": " + std::to_string(array.dims.size()) + " dimensions " + dims_to_string(array.dims) +
                     ": expected 1 (one label per image) for a labels file" +
                     (array.dims.size() == 3 ? " (is this an images file?)" : ""));
  }
  std::vector<int> labels(array.values.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (array.values[i] < 0) {
      throw InputError(name + ": label " + std::to_string(i) + " (counted from 0) is " +
                       std::to_string(static_cast<long long>(array.values[i])) + ": expected labels >= 0");
    }
    labels[i] = static_cast<int>(array.values[i]);
  }
  return labels;
}

std::vector<int> read_idx_labels(const std::string& path) { return parse_idx_labels(read_file(path), path); }

ImageSet read_idx_image_set(const std::string& images_path, const std::string& labels_path) {
  ImageSet set = read_idx_images(images_path);
  set.labels = read_idx_labels(labels_path);
  if (static_cast<Index>(set.labels.size()) != set.n()) {
    throw InputError(images_path + " has " + std::to_string(set.n()) + " images but " + labels_path + " has " +
                     std::to_string(set.labels.size()) + " labels: expected one label per image");
  }
  set.source = images_path + " + " + labels_path;
  return set;
}

}  // namespace relustab::io
