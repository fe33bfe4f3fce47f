// SPDX-License-Identifier: MIT
// Network .npz archives: numpy-made fixtures, an independent test-side zip builder for the odd corners of the
// format (zip64, data descriptors), every class of broken archive, round trips, and (when RELUSTAB_PYTHON
// names a Python with numpy) files written and read by numpy itself.
#include <relustab/io/atomic_file.h>
#include <relustab/io/formats.h>

#include "io/io_test_util.h"
#include "io/npy.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#ifndef RELUSTAB_IO_TEST_DATA_DIR
#error "RELUSTAB_IO_TEST_DATA_DIR must name tests/io/data"
#endif

namespace relustab {
namespace {

using namespace std::string_literals;
using testing::ScratchDir;
using testing::same_bits;

// ---------------------------------------------------------------------------------------------------
// Test-side builders, written from the format descriptions (APPNOTE.TXT, numpy's NEP 1) rather than
// from the reader, so that the reader is checked against an independent encoder.

void put16(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}
void put64(std::string& out, std::uint64_t v) {
  put32(out, static_cast<std::uint32_t>(v & 0xFFFFFFFF));
  put32(out, static_cast<std::uint32_t>(v >> 32));
}
std::uint32_t get32(const std::string& bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return v;
}
std::uint16_t get16(const std::string& bytes, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at]) |
                                    (static_cast<unsigned char>(bytes[at + 1]) << 8));
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit: an oracle independent of zlib.
std::uint32_t bitwise_crc32(const std::string& data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char c : data) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string raw_deflate(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

struct ZipMember {
  std::string name;
  std::string data;
};
struct ZipLayout {
  bool deflate = false;
  bool data_descriptor = false;  ///< flag bit 3: zero sizes in the local header, descriptor after the data
  bool zip64_central = false;    ///< sizes and offset as 0xFFFFFFFF plus a zip64 extra field
  bool zip64_end = false;        ///< zip64 end of central directory record and locator
  std::uint16_t flags = 0;       ///< extra flag bits (e.g. 1 = encrypted)
  std::uint16_t method_override = 0xFFFF;
};

std::string build_zip(const std::vector<ZipMember>& members, const ZipLayout& layout) {
  std::string out, directory;
  for (const ZipMember& member : members) {
    const std::string payload = layout.deflate ? raw_deflate(member.data) : member.data;
    const std::uint32_t crc = bitwise_crc32(member.data);
    const std::uint16_t method =
        layout.method_override != 0xFFFF ? layout.method_override : (layout.deflate ? 8 : 0);
    const std::uint16_t flags = static_cast<std::uint16_t>(layout.flags | (layout.data_descriptor ? 0x08 : 0));
    const auto offset = static_cast<std::uint32_t>(out.size());
    put32(out, 0x04034b50);
    put16(out, 45);
    put16(out, flags);
    put16(out, method);
    put16(out, 0);
    put16(out, 0x21);
    put32(out, layout.data_descriptor ? 0 : crc);
    put32(out, layout.data_descriptor ? 0 : static_cast<std::uint32_t>(payload.size()));
    put32(out, layout.data_descriptor ? 0 : static_cast<std::uint32_t>(member.data.size()));
    put16(out, static_cast<std::uint32_t>(member.name.size()));
    put16(out, 0);
    out += member.name + payload;
    if (layout.data_descriptor) {
      put32(out, 0x08074b50);
      put32(out, crc);
      put32(out, static_cast<std::uint32_t>(payload.size()));
      put32(out, static_cast<std::uint32_t>(member.data.size()));
    }
    put32(directory, 0x02014b50);
    put16(directory, 45);
    put16(directory, 45);
    put16(directory, flags);
    put16(directory, method);
    put16(directory, 0);
    put16(directory, 0x21);
    put32(directory, crc);
    put32(directory, layout.zip64_central ? 0xFFFFFFFF : static_cast<std::uint32_t>(payload.size()));
    put32(directory, layout.zip64_central ? 0xFFFFFFFF : static_cast<std::uint32_t>(member.data.size()));
    put16(directory, static_cast<std::uint32_t>(member.name.size()));
    put16(directory, layout.zip64_central ? 28 : 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put32(directory, 0);
    put32(directory, layout.zip64_central ? 0xFFFFFFFF : offset);
    directory += member.name;
    if (layout.zip64_central) {  // order fixed by APPNOTE 4.5.3: uncompressed, compressed, offset
      put16(directory, 1);
      put16(directory, 24);
      put64(directory, member.data.size());
      put64(directory, payload.size());
      put64(directory, offset);
    }
  }
  const auto directory_offset = static_cast<std::uint32_t>(out.size());
  out += directory;
  const auto count = static_cast<std::uint32_t>(members.size());
  if (layout.zip64_end) {
    const auto record = static_cast<std::uint64_t>(out.size());
    put32(out, 0x06064b50);
    put64(out, 44);  // size of the rest of the record
    put16(out, 45);
    put16(out, 45);
    put32(out, 0);
    put32(out, 0);
    put64(out, count);
    put64(out, count);
    put64(out, directory.size());
    put64(out, directory_offset);
    put32(out, 0x07064b50);
    put32(out, 0);
    put64(out, record);
    put32(out, 1);
  }
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, layout.zip64_end ? 0xFFFF : count);
  put16(out, layout.zip64_end ? 0xFFFF : count);
  put32(out, layout.zip64_end ? 0xFFFFFFFF : static_cast<std::uint32_t>(directory.size()));
  put32(out, layout.zip64_end ? 0xFFFFFFFF : directory_offset);
  put16(out, 0);
  return out;
}

/// A .npy file: magic, version, header length, `dict` padded with spaces to a multiple of 64 ending in
/// '\n' (NEP 1), then `data`.
std::string npy_file(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t unpadded = 8 + length_bytes + dict.size() + 1;
  const std::size_t padded = (unpadded + 63) / 64 * 64;
  const std::string header = dict + std::string(padded - unpadded, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  if (major == 1) {
    put16(out, static_cast<std::uint32_t>(header.size()));
  } else {
    put32(out, static_cast<std::uint32_t>(header.size()));
  }
  return out + header + data;
}

std::string f8_bytes(const std::vector<double>& values, bool big_endian = false) {
  std::string out;
  for (const double v : values) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) {
      const int shift = big_endian ? 8 * (7 - i) : 8 * i;
      out.push_back(static_cast<char>((bits >> shift) & 0xFF));
    }
  }
  return out;
}
std::string f4_bytes(const std::vector<float>& values, bool big_endian = false) {
  std::string out;
  for (const float v : values) {
    const auto bits = std::bit_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) {
      const int shift = big_endian ? 8 * (3 - i) : 8 * i;
      out.push_back(static_cast<char>((bits >> shift) & 0xFF));
    }
  }
  return out;
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape +
         ", }";
}

/// A valid (k = 3, d = 2) network's members; tests break one of them.
std::vector<ZipMember> valid_members() {
  return {{"W1.npy", npy_file(dict("<f8", "(3, 2)"), f8_bytes({1, 2, 3, 4, 5, 6}))},
          {"b1.npy", npy_file(dict("<f8", "(3,)"), f8_bytes({-1, -2, -3}))},
          {"w2.npy", npy_file(dict("<f8", "(3,)"), f8_bytes({0.5, 0.25, 0.125}))},
          {"b2.npy", npy_file(dict("<f8", "()"), f8_bytes({9}))}};
}
const Vec kValidTheta{{1, 2, 3, 4, 5, 6, -1, -2, -3, 0.5, 0.25, 0.125, 9}};

std::vector<ZipMember> with_member(std::vector<ZipMember> members, const std::string& name, const std::string& data) {
  for (ZipMember& member : members) {
    if (member.name == name) member.data = data;
  }
  return members;
}

using testing::fixture;

// ---------------------------------------------------------------------------------------------------

TEST(NetNpz, ReadsNumpyCompressedFixture) {
  // Values from tests/io/data/make_fixture.py (np.savez_compressed: deflate, zip64 local extra fields).
  const ShallowReluNet net = io::read_net_npz(fixture("net_savez_compressed.npz"));
  ASSERT_EQ(net.input_dim(), 2);
  ASSERT_EQ(net.width(), 3);
  const Vec expected{{0.1, -2.5, 1e-300, 3.0, -0.7, 12345.678, 0.3, -0.2, 0.3333333333333333, 1.5, -1e10,
                      2.2250738585072014e-308, -0.125}};
  EXPECT_TRUE(same_bits(net.theta(), expected));
  EXPECT_TRUE(same_bits(io::read_net(fixture("net_savez_compressed.npz")).theta(), expected));
}

TEST(NetNpz, ReadsNumpyStreamedFixtureWithDescriptorsFloat32FortranAndBigEndian) {
  // make_fixture.py: stored members with data descriptors; W1 float32 Fortran order, b1 float32, w2 '>f8',
  // b2 float32 of shape (1,). float32 -> float64 widening is exact, so the oracle is the cast literal.
  const ShallowReluNet net = io::read_net_npz(fixture("net_savez_streamed.npz"));
  ASSERT_EQ(net.input_dim(), 2);
  ASSERT_EQ(net.width(), 3);
  const auto f = [](float x) { return static_cast<double>(x); };
  const Vec expected{{f(0.1f), f(-2.5f), f(0.75f), f(3.0f), f(-0.7f), f(100.25f), f(0.3f), f(-0.2f), f(0.5f), 1.5,
                      -1e10, 0.1, f(-0.125f)}};
  EXPECT_TRUE(same_bits(net.theta(), expected));
}

TEST(NetNpz, ReadsZip64DirectoriesDeflateAndDataDescriptorsFromAnIndependentEncoder) {
  const ScratchDir dir;
  for (const bool deflate : {false, true}) {
    for (const bool descriptor : {false, true}) {
      for (const bool zip64 : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "deflate " << deflate << " descriptor " << descriptor << " zip64 "
                                          << zip64);
        const std::string path = dir.file("net.npz");
        testing::write_bytes(path, build_zip(valid_members(), {.deflate = deflate,
                                                               .data_descriptor = descriptor,
                                                               .zip64_central = zip64,
                                                               .zip64_end = zip64}));
        EXPECT_TRUE(same_bits(io::read_net_npz(path).theta(), kValidTheta));
      }
    }
  }
}

TEST(NetNpz, WriteThenReadIsBitExact) {
  const ScratchDir dir;
  for (const auto& [d, k] : {std::pair<Index, Index>{1, 5}, {3, 40}, {1, 1}}) {
    const ShallowReluNet net(d, k, testing::stress_values(ShallowReluNet::n_params(d, k), 11 + d * k));
    const std::string path = dir.file("net.npz");
    io::write_net_npz(path, net);
    const ShallowReluNet back = io::read_net_npz(path);
    EXPECT_EQ(back.input_dim(), d);
    EXPECT_EQ(back.width(), k);
    EXPECT_TRUE(same_bits(back.theta(), net.theta()));
    EXPECT_TRUE(same_bits(io::read_net(path).theta(), net.theta()));
  }
}

TEST(NetNpz, WriterProducesNumpysBytes) {
  const ScratchDir dir;
  const ShallowReluNet net(2, 3, kValidTheta);
  io::write_net_npz(dir.file("net.npz"), net);
  const std::string zip = io::read_file(dir.file("net.npz"));
  // End of central directory (no comment): 4 entries.
  const std::size_t eocd = zip.size() - 22;
  ASSERT_EQ(get32(zip, eocd), 0x06054b50u);
  ASSERT_EQ(get16(zip, eocd + 10), 4);
  std::size_t at = get32(zip, eocd + 16);
  for (const ZipMember& expected : valid_members()) {
    SCOPED_TRACE(expected.name);
    ASSERT_EQ(get32(zip, at), 0x02014b50u);
    EXPECT_EQ(get16(zip, at + 10), 0);  // stored
    const std::size_t name_length = get16(zip, at + 28);
    EXPECT_EQ(zip.substr(at + 46, name_length), expected.name);
    const std::size_t local = get32(zip, at + 42);
    const std::size_t size = get32(zip, at + 20);
    const std::string data = zip.substr(local + 30 + get16(zip, local + 26) + get16(zip, local + 28), size);
    // Oracle: the .npy bytes numpy itself writes for these arrays (header dict and padding per NEP 1).
    EXPECT_EQ(data, expected.data);
    EXPECT_EQ(get32(zip, at + 16), bitwise_crc32(data));
    at += 46 + name_length + get16(zip, at + 30) + get16(zip, at + 32);
  }
}

TEST(Npy, FortranOrderMatchesTheIndexFormula) {
  // shape (2, 3, 4): element (i, j, l) of a Fortran array sits at i + 2 j + 6 l in the file.
  std::vector<double> file(24);
  for (std::size_t f = 0; f < file.size(); ++f) file[f] = static_cast<double>(f) + 0.5;
  const io::detail::NpyArray array =
      io::detail::parse_npy(npy_file(dict("<f8", "(2, 3, 4)", true), f8_bytes(file)), "a.npy");
  ASSERT_EQ(array.shape, (std::vector<std::int64_t>{2, 3, 4}));
  ASSERT_EQ(array.values.size(), 24u);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int l = 0; l < 4; ++l) {
        EXPECT_EQ(array.values[static_cast<std::size_t>(12 * i + 4 * j + l)],
                  file[static_cast<std::size_t>(i + 2 * j + 6 * l)]);
      }
}

TEST(Npy, AcceptsTheHeaderVariantsNumpyAccepts) {
  const std::vector<double> values{1.5, -2.25};
  const std::vector<std::string> files{
      npy_file(dict("|f8", "(2,)"), f8_bytes(values)),
      npy_file(dict("=f8", "(2,)"), f8_bytes(values)),
      npy_file(dict(">f8", "(2,)"), f8_bytes(values, true)),
      npy_file(dict("<f4", "(2,)"), f4_bytes({1.5f, -2.25f})),
      npy_file(dict(">f4", "(2,)"), f4_bytes({1.5f, -2.25f}, true)),
      npy_file(dict("<f8", "(2,)"), f8_bytes(values), 2),
      npy_file(dict("<f8", "(2,)"), f8_bytes(values), 3),
      npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }", f8_bytes(values)),
      npy_file("{\"shape\": (2,), \"fortran_order\": True, \"descr\": \"<f8\"}", f8_bytes(values)),
  };
  for (const std::string& file : files) {
    SCOPED_TRACE(file.substr(10, 70));
    const io::detail::NpyArray array = io::detail::parse_npy(file, "a.npy");
    EXPECT_EQ(array.shape, std::vector<std::int64_t>{2});
    EXPECT_EQ(array.values, values);
  }
}

struct BrokenArchive {
  std::string bytes;
  std::vector<std::string> fragments;
};

TEST(NetNpz, RejectsBrokenArchivesNamingFileAndArray) {
  const std::string valid = build_zip(valid_members(), {});
  std::string crc_broken = valid;
  crc_broken[valid.find("\x93NUMPY") + 128 + 3] ^= 0x10;  // a byte of W1's first value
  std::string comment_truncated = valid;
  comment_truncated[comment_truncated.size() - 1] = 5;  // EOCD says a 5-byte comment follows

  const std::vector<BrokenArchive> cases{
      {"", {"net.npz: not a zip archive"}},
      {"W1,b1,w2,b2\n1,2,3,4\n", {"net.npz: not a zip archive"}},
      {valid.substr(0, valid.size() / 2), {"net.npz: truncated"}},
      {comment_truncated, {"net.npz: truncated"}},
      {build_zip({valid_members()[0], valid_members()[2], valid_members()[3]}, {}),
       {"net.npz: missing array 'b1'"}},
      {build_zip(with_member(valid_members(), "W1.npy", npy_file(dict("<f8", "(3,)"), f8_bytes({1, 2, 3}))), {}),
       {"net.npz: array 'W1' has shape (3,) but expected 2 dimensions"}},
      {build_zip(with_member(valid_members(), "W1.npy", npy_file(dict("<f8", "(0, 2)"), "")), {}),
       {"net.npz: array 'W1' has shape (0, 2)", "at least one row"}},
      {build_zip(with_member(valid_members(), "b1.npy", npy_file(dict("<f8", "(2,)"), f8_bytes({1, 2}))), {}),
       {"net.npz: array 'b1' has shape (2,) but expected (3,)"}},
      {build_zip(with_member(valid_members(), "w2.npy", npy_file(dict("<f8", "(3, 1)"), f8_bytes({1, 2, 3}))),
                 {}),
       {"net.npz: array 'w2' has shape (3, 1) but expected (3,)"}},
      {build_zip(with_member(valid_members(), "b2.npy", npy_file(dict("<f8", "(2,)"), f8_bytes({1, 2}))), {}),
       {"net.npz: array 'b2' has shape (2,) but expected a scalar"}},
      {build_zip(with_member(valid_members(), "W1.npy", npy_file(dict("<i8", "(3, 2)"), f8_bytes({1, 2, 3, 4, 5, 6}))),
                 {}),
       {"net.npz: array 'W1': dtype '<i8' is not supported"}},
      {build_zip(with_member(valid_members(), "b1.npy", npy_file(dict("<f2", "(3,)"), "abcdef")), {}),
       {"net.npz: array 'b1': dtype '<f2' is not supported"}},
      {build_zip(with_member(valid_members(), "b1.npy", npy_file(dict("|u1", "(3,)"), "abc")), {}),
       {"net.npz: array 'b1': dtype '|u1' is not supported"}},
      {build_zip(with_member(valid_members(), "w2.npy", npy_file(dict("<f8", "(3,)"), f8_bytes({1, NAN, 3}))),
                 {}),
       {"net.npz: array 'w2': element [1] is NaN/inf"}},
      {build_zip(with_member(valid_members(), "W1.npy",
                             npy_file(dict("<f8", "(3, 2)"), f8_bytes({1, 2, 3, 4, 5, -INFINITY}))),
                 {}),
       {"net.npz: array 'W1': element [2, 1] is NaN/inf"}},
      {build_zip(with_member(valid_members(), "b1.npy", npy_file(dict("<f8", "(3,)"), f8_bytes({1, 2}))), {}),
       {"net.npz: array 'b1': expected 24 bytes of data", "got 16 (truncated)"}},
      {build_zip(with_member(valid_members(), "b1.npy", "\x93NUMPZ\x01\x00"s), {}),
       {"net.npz: array 'b1': not a .npy array"}},
      {build_zip(with_member(valid_members(), "b1.npy", "\x93NUMPY\x04\x00\x10\x00"s), {}),
       {"net.npz: array 'b1': unsupported .npy format version 4.0"}},
      {build_zip(with_member(valid_members(), "b1.npy", "\x93NUMPY\x01\x00\x40\x00{'descr'"s), {}),
       {"net.npz: array 'b1': truncated .npy header"}},
      {build_zip(with_member(valid_members(), "b1.npy",
                             npy_file("{'descr': '<f8', 'fortran_order': False}", f8_bytes({1, 2, 3}))),
                 {}),
       {"net.npz: array 'b1': bad .npy header", "missing key 'shape'"}},
      {build_zip(with_member(valid_members(), "b1.npy",
                             npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}",
                                      f8_bytes({1, 2, 3}))),
                 {}),
       {"net.npz: array 'b1': bad .npy header", "'x'"}},
      {build_zip(with_member(valid_members(), "b1.npy",
                             npy_file("{'descr': '<f8', 'fortran_order': maybe, 'shape': (3,)}", f8_bytes({1, 2, 3}))),
                 {}),
       {"net.npz: array 'b1': bad .npy header", "True or False"}},
      {crc_broken, {"net.npz: member 'W1.npy': CRC-32 mismatch"}},
      {build_zip(valid_members(), {.method_override = 12}), {"net.npz: member 'W1.npy'", "compression method 12"}},
      {build_zip(valid_members(), {.flags = 1}), {"net.npz: member 'W1.npy' is encrypted"}},
      {build_zip({valid_members()[0], valid_members()[0]}, {}), {"net.npz: member 'W1.npy' appears twice"}},
  };
  const ScratchDir dir;
  const std::string path = dir.file("net.npz");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "case " << i);
    testing::write_bytes(path, cases[i].bytes);
    try {
      (void)io::read_net_npz(path);
      ADD_FAILURE() << "no InputError";
    } catch (const InputError& e) {
      for (const std::string& fragment : cases[i].fragments) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
            << "message \"" << e.what() << "\" lacks \"" << fragment << "\"";
      }
    }
  }
}

TEST(NetNpz, EveryTruncationIsAnInputError) {
  const ScratchDir dir;
  const std::string path = dir.file("cut.npz");
  for (const std::string& source : {fixture("net_savez_compressed.npz"), fixture("net_savez_streamed.npz")}) {
    const std::string whole = io::read_file(source);
    for (std::size_t length = 0; length < whole.size(); ++length) {
      SCOPED_TRACE(::testing::Message() << source << " cut to " << length);
      testing::write_bytes(path, whole.substr(0, length));
      RELUSTAB_EXPECT_INPUT_ERROR(io::read_net_npz(path), "cut.npz: ");
    }
  }
}

TEST(NetNpz, CorruptDeflateDataIsAnInputError) {
  const ScratchDir dir;
  const std::string whole = io::read_file(fixture("net_savez_compressed.npz"));
  // The first member's data starts after its local header (30 bytes), name and extra field.
  const std::size_t data = 30 + get16(whole, 26) + get16(whole, 28);
  for (std::size_t offset = 0; offset < 12; ++offset) {
    std::string broken = whole;
    broken[data + offset] = static_cast<char>(broken[data + offset] ^ 0x5A);
    testing::write_bytes(dir.file("net.npz"), broken);
    SCOPED_TRACE(offset);
    RELUSTAB_EXPECT_INPUT_ERROR(io::read_net_npz(dir.file("net.npz")), "net.npz: member 'W1.npy'");
  }
}

TEST(NetNpz, MissingFileAndUnwritableDirectory) {
  const ScratchDir dir;
  RELUSTAB_EXPECT_INPUT_ERROR(io::read_net_npz(dir.file("none.npz")), dir.file("none.npz"));
  const std::string path = dir.file("no_such_dir/net.npz");
  RELUSTAB_EXPECT_INPUT_ERROR(io::write_net_npz(path, ShallowReluNet(2, 3, kValidTheta)), path);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "no_such_dir"));
}

// ---------------------------------------------------------------------------------------------------
// numpy itself, when available: RELUSTAB_PYTHON names a Python interpreter; without numpy the tests skip.

std::string python_with_numpy() {
  const char* python = std::getenv("RELUSTAB_PYTHON");
  if (python == nullptr || *python == '\0') return "";
  const std::string probe = std::string("'") + python + "' -c 'import numpy' > /dev/null 2>&1";
  return std::system(probe.c_str()) == 0 ? python : "";
}

/// A Python float expression with exactly the value `x` (float('-0') keeps the sign of zero).
std::string py_float(double x) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, x).ptr;
  return "float('" + std::string(buffer, end) + "')";
}

std::string py_list(const double* values, Index count) {
  std::string out = "[";
  for (Index i = 0; i < count; ++i) out += (i > 0 ? ", " : "") + py_float(values[i]);
  return out + "]";
}

/// Python statements defining W1, b1, w2 (float64 arrays) and b2 (a float) equal to `net`.
std::string py_net(const ShallowReluNet& net) {
  std::string rows = "[";
  for (Index i = 0; i < net.width(); ++i) {
    rows += (i > 0 ? ", " : "") + py_list(net.theta().data() + i * net.input_dim(), net.input_dim());
  }
  return "W1 = np.array(" + rows + "], dtype=np.float64)\n" +
         "b1 = np.array(" + py_list(net.theta().data() + net.offset_b1(), net.width()) + ", dtype=np.float64)\n" +
         "w2 = np.array(" + py_list(net.theta().data() + net.offset_w2(), net.width()) + ", dtype=np.float64)\n" +
         "b2 = " + py_float(net.b2()) + "\n";
}

int run_python(const std::string& python, const std::string& script_path, const std::string& script,
               const std::string& argument) {
  testing::write_bytes(script_path, script);
  const std::string command = "'" + python + "' '" + script_path + "' '" + argument + "'";
  return std::system(command.c_str());
}

ShallowReluNet random_net(Index d, Index k, std::uint64_t seed) {
  Rng rng(seed);
  Vec theta(ShallowReluNet::n_params(d, k));
  for (Index i = 0; i < theta.size(); ++i) theta[i] = rng.normal() * std::pow(10.0, rng.uniform(-3.0, 3.0));
  theta[1] = -0.0;
  return ShallowReluNet(d, k, theta);
}

TEST(NetNpzNumpy, ReadsWhatNumpyWrites) {
  const std::string python = python_with_numpy();
  if (python.empty()) GTEST_SKIP() << "set RELUSTAB_PYTHON to a Python with numpy to run this test";
  const ScratchDir dir;
  const ShallowReluNet net = random_net(3, 4, 99);
  const std::string script = "import sys\nimport numpy as np\nout = sys.argv[1]\n" + py_net(net) + R"(
f4 = np.float32
np.savez(out + '/stored.npz', W1=W1, b1=b1, w2=w2, b2=b2)
np.savez_compressed(out + '/deflated.npz', W1=W1, b1=b1, w2=w2, b2=np.array([b2]))
np.savez(out + '/float32.npz', W1=W1.astype(f4), b1=b1.astype(f4), w2=w2.astype(f4), b2=f4(b2))
np.savez_compressed(out + '/fortran.npz', W1=np.asfortranarray(W1), b1=b1, w2=w2, b2=b2)
np.savez(out + '/fortran_float32.npz', W1=np.asfortranarray(W1.astype(f4)), b1=b1.astype(f4),
         w2=w2.astype(f4), b2=np.array([b2], dtype=f4))
assert np.load(out + '/fortran.npz')['W1'].flags['F_CONTIGUOUS']
)";
  ASSERT_EQ(run_python(python, dir.file("write.py"), script, dir.path().string()), 0);

  Vec as_float32 = net.theta();
  for (double& x : as_float32) x = static_cast<double>(static_cast<float>(x));  // numpy's astype rounds alike
  for (const auto& [file, expected] : {std::pair{"stored.npz", net.theta()}, {"deflated.npz", net.theta()},
                                       {"float32.npz", as_float32}, {"fortran.npz", net.theta()},
                                       {"fortran_float32.npz", as_float32}}) {
    SCOPED_TRACE(file);
    const ShallowReluNet back = io::read_net_npz(dir.file(file));
    EXPECT_EQ(back.input_dim(), 3);
    EXPECT_EQ(back.width(), 4);
    EXPECT_TRUE(same_bits(back.theta(), expected));
  }
}

TEST(NetNpzNumpy, NumpyReadsWhatWeWrite) {
  const std::string python = python_with_numpy();
  if (python.empty()) GTEST_SKIP() << "set RELUSTAB_PYTHON to a Python with numpy to run this test";
  const ScratchDir dir;
  const ShallowReluNet net = random_net(2, 5, 7);
  io::write_net_npz(dir.file("ours.npz"), net);
  const std::string script = "import sys\nimport numpy as np\n" + py_net(net) + R"(
z = np.load(sys.argv[1])
assert sorted(z.files) == ['W1', 'b1', 'b2', 'w2'], z.files
for name, want in (('W1', W1), ('b1', b1), ('w2', w2), ('b2', np.array(b2))):
    got = z[name]
    assert got.dtype == np.float64 and got.shape == want.shape, (name, got.dtype, got.shape)
    assert got.tobytes() == want.tobytes(), name
)";
  EXPECT_EQ(run_python(python, dir.file("check.py"), script, dir.file("ours.npz")), 0);
}

}  // namespace
}  // namespace relustab
