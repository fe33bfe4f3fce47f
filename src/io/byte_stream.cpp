// SPDX-License-Identifier: MIT
// Plain or gzip-compressed file contents, read sequentially (zlib's inflate with gzip decoding).
#include "byte_stream.h"

#include <relustab/core/error.h>

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <new>
#include <utility>

namespace relustab::io::detail {

bool is_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

struct ByteStream::Inflater {
  z_stream zs{};
  std::size_t input_position = 0;  ///< first byte of the file not yet consumed by inflate
  bool finished = false;           ///< the last gzip member ended exactly at the end of the file

  Inflater() {
    // 15 + 16: a 32 KiB window and gzip (not zlib) framing, so the CRC-32 and length trailer are checked.
    if (inflateInit2(&zs, 15 + 16) != Z_OK) throw std::bad_alloc();
  }
  ~Inflater() { inflateEnd(&zs); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

ByteStream::ByteStream(std::string_view file, std::string name) : file_(file), name_(std::move(name)) {
  if (is_gzip(file_)) inflater_ = std::make_unique<Inflater>();
}

ByteStream::~ByteStream() = default;

std::size_t ByteStream::read(std::size_t count, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + count);
  std::size_t produced = 0;
  try {
    produced = read_into(out.data() + start, count);
  } catch (...) {
    out.resize(start);
    throw;
  }
  out.resize(start + produced);
  return produced;
}

std::size_t ByteStream::read_into(char* dest, std::size_t count) {
  if (!inflater_) {
    const std::size_t n = std::min(count, file_.size() - position_);
    std::copy_n(file_.data() + position_, n, dest);
    position_ += n;
    return n;
  }
  Inflater& in = *inflater_;
  std::size_t produced = 0;
  while (produced < count && !in.finished) {
    z_stream& zs = in.zs;
    // zlib counts in uInt, so very large buffers are handed over in pieces.
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file_.data() + in.input_position));
    zs.avail_in = static_cast<uInt>(std::min<std::size_t>(file_.size() - in.input_position, UINT_MAX));
    zs.next_out = reinterpret_cast<Bytef*>(dest + produced);
    const auto room = static_cast<uInt>(std::min<std::size_t>(count - produced, UINT_MAX));
    zs.avail_out = room;
    const int status = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    in.input_position = static_cast<std::size_t>(reinterpret_cast<const char*>(zs.next_in) - file_.data());
    if (status == Z_STREAM_END) {
      const std::string_view rest = file_.substr(in.input_position);
      if (rest.empty()) {
        in.finished = true;
      } else if (is_gzip(rest)) {
        inflateReset(&zs);  // another member follows (as `cat a.gz b.gz` makes)
      } else {
        throw InputError(name_ + ": " + std::to_string(rest.size()) +
                         " bytes follow the end of the gzip stream: expected the end of the file or another "
                         "gzip member (corrupt .gz file)");
      }
    } else if (status == Z_BUF_ERROR && in.input_position == file_.size()) {
      throw InputError(name_ + ": the gzip stream is truncated: the compressed file ends before the end of "
                       "its data (incomplete download or copy?)");
    } else if (status == Z_MEM_ERROR) {
      throw std::bad_alloc();
    } else if (status != Z_OK) {
      throw InputError(name_ + ": corrupt gzip data (zlib: " + (zs.msg != nullptr ? std::string(zs.msg) : "error " +
                       std::to_string(status)) + "): expected a valid gzip stream");
    }
  }
  return produced;
}

std::size_t ByteStream::skip_rest() {
  if (!inflater_) {
    const std::size_t n = file_.size() - position_;
    position_ = file_.size();
    return n;
  }
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  std::size_t total = 0;
  std::string scratch(kChunk, '\0');
  while (true) {
    const std::size_t n = read_into(scratch.data(), kChunk);
    total += n;
    if (n < kChunk) return total;
  }
}

}  // namespace relustab::io::detail
