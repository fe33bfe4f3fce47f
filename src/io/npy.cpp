// SPDX-License-Identifier: MIT
// .npy decoding (a strict parser of the header's Python dict literal) and encoding.
#include "npy.h"

#include <relustab/core/error.h>

#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>

namespace relustab::io::detail {
namespace {

// Layout from numpy's format.py (NEP 1): magic, major, minor, header length (2 bytes in 1.0, 4 in 2.0/3.0),
// then an ASCII (3.0: UTF-8) dict literal padded with spaces to a multiple of kHeaderAlignment, ending '\n'.
constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kHeaderAlignment = 64;

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "mixed-endian platforms are not supported");

/// A cursor over the header dict literal; every failure names the header and what was expected.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string context) : text_(text), context_(std::move(context)) {}

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    if (!accept(c)) fail(std::string("expected ") + what);
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail("expected a quoted string");
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    if (value.find('\\') != std::string::npos) fail("unexpected escape sequence in '" + value + "'");
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{std::string_view("True"), true}, {"False", false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail("expected True or False for 'fortran_order'");
  }
  std::vector<std::int64_t> shape_tuple() {
    expect('(', "a tuple such as (3, 2) for 'shape'");
    std::vector<std::int64_t> shape;
    while (!accept(')')) {
      if (!shape.empty()) {
        // (3,) and (3, 2,) are valid Python; (3 2) is not.
        if (!accept(',')) fail("expected ',' or ')' in 'shape'");
        if (accept(')')) break;
      }
      shape.push_back(dimension());
    }
    return shape;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(context_ + ": bad .npy header at character " + std::to_string(pos_ + 1) + ": " + what);
  }

 private:
  std::int64_t dimension() {
    skip_space();
    std::int64_t value = 0;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const int digit = text_[pos_] - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) fail("dimension too large in 'shape'");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer in 'shape'");
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 longs in old files: (3L, 2L)
    return value;
  }

  std::string_view text_;
  std::string context_;
  std::size_t pos_ = 0;
};

void byte_swap(unsigned char* bytes, std::size_t n) {
  for (std::size_t i = 0; i < n / 2; ++i) std::swap(bytes[i], bytes[n - 1 - i]);
}

}  // namespace

std::string shape_to_string(const std::vector<std::int64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ",";
  return out + ")";
}

NpyArray parse_npy(std::string_view bytes, const std::string& context) {
  if (bytes.size() < kMagic.size() + 2 || bytes.substr(0, kMagic.size()) != kMagic) {
    throw InputError(context + ": not a .npy array (missing the \\x93NUMPY magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
    throw InputError(context + ": unsupported .npy format version " + std::to_string(major) + "." +
                     std::to_string(minor) + " (expected 1.0, 2.0 or 3.0)");
  }
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = kMagic.size() + 2 + length_bytes;
  if (bytes.size() < prefix) throw InputError(context + ": truncated .npy header");
  std::size_t header_length = 0;
  for (std::size_t i = 0; i < length_bytes; ++i) {
    header_length |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  }
  if (header_length > bytes.size() - prefix) {
    throw InputError(context + ": truncated .npy header (the header says " + std::to_string(header_length) +
                     " bytes, " + std::to_string(bytes.size() - prefix) + " remain)");
  }

  HeaderParser header(bytes.substr(prefix, header_length), context);
  std::optional<std::string> descr;
  std::optional<bool> fortran_order;
  std::optional<std::vector<std::int64_t>> shape;
  header.expect('{', "'{' at the start of the header dict");
  while (!header.accept('}')) {
    const std::string key = header.string_literal();
    header.expect(':', "':' after a key");
    if (key == "descr" && !descr) {
      descr = header.string_literal();
    } else if (key == "fortran_order" && !fortran_order) {
      fortran_order = header.boolean();
    } else if (key == "shape" && !shape) {
      shape = header.shape_tuple();
    } else {
      header.fail("unexpected or repeated key '" + key + "' (expected 'descr', 'fortran_order', 'shape')");
    }
    if (!header.accept(',')) {
      header.expect('}', "',' or '}' after a value");
      break;
    }
  }
  if (!header.at_end()) header.fail("unexpected text after the header dict");
  if (!descr || !fortran_order || !shape) {
    header.fail(std::string("missing key '") + (!descr ? "descr" : !fortran_order ? "fortran_order" : "shape") +
                "'");
  }

  // dtype: optional byte order ('<' little, '>' big, '=' native, '|' not applicable, which numpy reads as
  // native) followed by f8 or f4.
  std::string_view type = *descr;
  bool big_endian = std::endian::native == std::endian::big;
  if (!type.empty() && (type[0] == '<' || type[0] == '>' || type[0] == '=' || type[0] == '|')) {
    if (type[0] == '<') big_endian = false;
    if (type[0] == '>') big_endian = true;
    type.remove_prefix(1);
  }
  NpyArray array;
  if (type == "f8") {
    array.item_size = 8;
  } else if (type == "f4") {
    array.item_size = 4;
  } else {
    throw InputError(context + ": dtype '" + *descr +
                     "' is not supported: expected float64 ('<f8') or float32 ('<f4')");
  }
  array.shape = *shape;
  array.fortran_order = *fortran_order;

  std::uint64_t count = 1;
  for (const std::int64_t dim : array.shape) {
    const auto d = static_cast<std::uint64_t>(dim);
    if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / 8 / d) {
      throw InputError(context + ": shape " + shape_to_string(array.shape) + " is too large");
    }
    count *= d;
  }
  const std::uint64_t expected_bytes = count * static_cast<std::uint64_t>(array.item_size);
  const std::size_t data_bytes = bytes.size() - prefix - header_length;
  if (expected_bytes != data_bytes) {
    throw InputError(context + ": expected " + std::to_string(expected_bytes) + " bytes of data for shape " +
                     shape_to_string(array.shape) + " and dtype '" + *descr + "', got " +
                     std::to_string(data_bytes) + (expected_bytes > data_bytes ? " (truncated)" : ""));
  }

  const auto n = static_cast<std::size_t>(count);
  const char* data = bytes.data() + prefix + header_length;
  const bool swap = big_endian != (std::endian::native == std::endian::big);
  std::vector<double> file_order(n);
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char raw[8];
    std::memcpy(raw, data + i * static_cast<std::size_t>(array.item_size), static_cast<std::size_t>(array.item_size));
    if (swap) byte_swap(raw, static_cast<std::size_t>(array.item_size));
    if (array.item_size == 8) {
      std::memcpy(&file_order[i], raw, sizeof(double));
    } else {
      float value;
      std::memcpy(&value, raw, sizeof value);
      file_order[i] = value;  // float32 -> float64 is exact
    }
  }

  if (!array.fortran_order || array.shape.size() < 2) {
    array.values = std::move(file_order);
    return array;
  }
  // Fortran order: element (i_0, ..., i_{m-1}) is at sum_k i_k * prod_{j<k} shape_j. Walk the C-order index.
  array.values.resize(n);
  const std::size_t rank = array.shape.size();
  std::vector<std::size_t> index(rank, 0);
  std::vector<std::size_t> stride(rank, 1);
  for (std::size_t k = 1; k < rank; ++k) stride[k] = stride[k - 1] * static_cast<std::size_t>(array.shape[k - 1]);
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t f = 0;
    for (std::size_t k = 0; k < rank; ++k) f += index[k] * stride[k];
    array.values[c] = file_order[f];
    for (std::size_t k = rank; k-- > 0;) {  // increment the C-order index, last axis fastest
      if (++index[k] < static_cast<std::size_t>(array.shape[k])) break;
      index[k] = 0;
    }
  }
  return array;
}

std::string encode_npy(const std::vector<std::int64_t>& shape, const std::vector<double>& values) {
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape_to_string(shape) + ", }";
  const std::size_t prefix = kMagic.size() + 2 + 2;
  const std::size_t unpadded = prefix + dict.size() + 1;  // + '\n'
  const std::size_t padded = (unpadded + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
  dict.append(padded - unpadded, ' ');
  dict.push_back('\n');
  if (dict.size() > 0xFFFF) throw InputError("array shape too long for a version 1.0 .npy header");

  std::string out(kMagic);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(dict.size() & 0xFF));
  out.push_back(static_cast<char>(dict.size() >> 8));
  out += dict;
  out.reserve(out.size() + 8 * values.size());
  for (const double value : values) {
    auto raw = std::bit_cast<std::array<unsigned char, 8>>(value);
    if constexpr (std::endian::native == std::endian::big) byte_swap(raw.data(), raw.size());
    out.append(reinterpret_cast<const char*>(raw.data()), raw.size());
  }
  return out;
}

}  // namespace relustab::io::detail
