// SPDX-License-Identifier: MIT
// IDX reader: files written byte by byte in the test (plain and gzipped, every element type) read back
// exactly; every broken file an InputError naming the file and what was expected; the digits CSV reader;
// finding the installed data sets; the real Fashion-MNIST and digits files when installed (counts and sums
// from an independent numpy read).
#include <relustab/io/idx.h>

#include "io/idx_test_util.h"
#include "io/io_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

namespace relustab::io {
namespace {

using testing::append_be;
using testing::gzip;
using testing::idx_header;
using testing::idx_ubyte;
using testing::ScratchDir;
using testing::write_bytes;

std::vector<std::uint8_t> random_bytes(std::size_t count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::uint8_t> out(count);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng.below(256));
  return out;
}

/// A scratch directory for the files of a test.
class IdxFiles : public ::testing::Test {
 protected:
  std::string put(const std::string& name, const std::string& bytes) {
    const std::string path = dir_.file(name);
    write_bytes(path, bytes);
    return path;
  }
  ScratchDir dir_;
};

TEST_F(IdxFiles, UnsignedByteImagesRoundTripPlainAndGzipped) {
  const std::vector<std::uint32_t> dims{7, 3, 5};
  const std::vector<std::uint8_t> values = random_bytes(7 * 3 * 5, 11);
  const std::string file = idx_ubyte(dims, values);
  for (const auto& [name, bytes] : {std::pair{std::string("images-idx3-ubyte"), file},
                                    std::pair{std::string("images-idx3-ubyte.gz"), gzip(file)},
                                    // gzip is detected from the bytes, not from the name
                                    std::pair{std::string("gzipped-without-suffix"), gzip(file, 9)}}) {
    SCOPED_TRACE(name);
    const std::string path = put(name, bytes);
    const IdxArray array = read_idx(path);
    EXPECT_EQ(array.type, IdxType::UnsignedByte);
    EXPECT_EQ(array.dims, (std::vector<std::int64_t>{7, 3, 5}));
    ASSERT_EQ(array.values.size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(array.values[i], values[i]) << i;

    const ImageSet images = read_idx_images(path);
    EXPECT_EQ(images.n(), 7);
    EXPECT_EQ(images.pixels_per_image(), 15);
    EXPECT_EQ(images.image_rows, 3);
    EXPECT_EQ(images.image_cols, 5);
    EXPECT_EQ(images.max_value, 255.0);
    EXPECT_TRUE(images.labels.empty());
    EXPECT_EQ(images.source, path);
    // Image i, pixel (r, c) is value i*15 + r*5 + c of the file (C order).
    for (Index i = 0; i < 7; ++i) {
      for (Index r = 0; r < 3; ++r) {
        for (Index c = 0; c < 5; ++c) {
          EXPECT_EQ(images.pixels(i, r * 5 + c), values[static_cast<std::size_t>(i * 15 + r * 5 + c)]);
        }
      }
    }
  }
}

TEST_F(IdxFiles, LabelsAndImageSet) {
  const std::vector<std::uint8_t> pixels = random_bytes(4 * 2 * 2, 3);
  const std::vector<std::uint8_t> labels{3, 0, 9, 3};
  const std::string images_path = put("img.gz", gzip(idx_ubyte({4, 2, 2}, pixels)));
  const std::string labels_path = put("lab", idx_ubyte({4}, labels));
  EXPECT_EQ(read_idx_labels(labels_path), (std::vector<int>{3, 0, 9, 3}));
  const ImageSet set = read_idx_image_set(images_path, labels_path);
  EXPECT_EQ(set.labels, (std::vector<int>{3, 0, 9, 3}));
  EXPECT_EQ(set.n(), 4);
  EXPECT_EQ(set.source, images_path + " + " + labels_path);
  EXPECT_EQ(label_counts(set), (std::vector<Index>{1, 0, 0, 2, 0, 0, 0, 0, 0, 1}));
}

TEST_F(IdxFiles, EveryElementTypeDecodesBigEndian) {
  // Signed byte.
  {
    std::string file = idx_header(0x09, {4});
    for (const int v : {-128, -1, 0, 127}) file.push_back(static_cast<char>(static_cast<std::int8_t>(v)));
    EXPECT_EQ(parse_idx(file, "s8").values, (std::vector<double>{-128, -1, 0, 127}));
    EXPECT_EQ(parse_idx(file, "s8").type, IdxType::SignedByte);
  }
  // int16 and int32: two's complement, most significant byte first.
  {
    std::string file = idx_header(0x0B, {2, 2});
    for (const int v : {-32768, -2, 258, 32767}) append_be(file, static_cast<std::uint16_t>(v), 2);
    const IdxArray array = parse_idx(gzip(file), "i16.gz");
    EXPECT_EQ(array.dims, (std::vector<std::int64_t>{2, 2}));
    EXPECT_EQ(array.values, (std::vector<double>{-32768, -2, 258, 32767}));
  }
  {
    std::string file = idx_header(0x0C, {3});
    for (const std::int64_t v : {std::int64_t{-2147483648}, std::int64_t{-70000}, std::int64_t{16909060}}) {
      append_be(file, static_cast<std::uint32_t>(v), 4);
    }
    EXPECT_EQ(parse_idx(file, "i32").values, (std::vector<double>{-2147483648.0, -70000.0, 16909060.0}));
  }
  // float32 and float64: the IEEE bit patterns, big-endian.
  {
    const std::vector<float> floats{-1.5f, 0.1f, 3.4028235e38f, 1e-45f};
    std::string file = idx_header(0x0D, {4});
    for (const float v : floats) append_be(file, std::bit_cast<std::uint32_t>(v), 4);
    const IdxArray array = parse_idx(file, "f32");
    for (std::size_t i = 0; i < floats.size(); ++i) EXPECT_EQ(array.values[i], static_cast<double>(floats[i]));
  }
  {
    const std::vector<double> doubles{-0.0, 0.1, 1e300, 5e-324, -123456.789};
    std::string file = idx_header(0x0E, {1, 5});
    for (const double v : doubles) append_be(file, std::bit_cast<std::uint64_t>(v), 8);
    const IdxArray array = parse_idx(file, "f64");
    for (std::size_t i = 0; i < doubles.size(); ++i) {
      EXPECT_TRUE(testing::same_bits(array.values[i], doubles[i])) << i;
    }
  }
}

TEST_F(IdxFiles, ConcatenatedGzipMembersReadAsOneStream) {
  const std::vector<std::uint8_t> values = random_bytes(2 * 4 * 4, 5);
  const std::string file = idx_ubyte({2, 4, 4}, values);
  const std::string split = gzip(file.substr(0, 10)) + gzip(file.substr(10));  // `cat a.gz b.gz`
  const IdxArray array = parse_idx(split, "two-members.gz");
  ASSERT_EQ(array.values.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(array.values[i], values[i]);
}

TEST_F(IdxFiles, LargeGzippedFileAcrossInflateChunks) {
  // 17 MB: zlib's output arrives in many inflate calls, and parse_idx converts it in several pieces.
  const std::uint32_t n = 22000;
  std::vector<std::uint8_t> values(static_cast<std::size_t>(n) * 28 * 28);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::uint8_t>((i * 7 + i / 784) % 251);
  const ImageSet images = parse_idx_images(gzip(idx_ubyte({n, 28, 28}, values), 1), "big.gz");
  ASSERT_EQ(images.n(), n);
  ASSERT_EQ(images.pixels_per_image(), 784);
  EXPECT_TRUE(std::equal(values.begin(), values.end(), images.pixels.data()));
  const IdxArray array = parse_idx(gzip(idx_ubyte({n * 28 * 28}, values), 1), "big-1d.gz");
  ASSERT_EQ(array.values.size(), values.size());
  for (std::size_t i = 0; i < values.size(); i += 9973) ASSERT_EQ(array.values[i], values[i]) << i;
  EXPECT_EQ(array.values.back(), values.back());
}

/// A gzip member of an IDX header followed by `zeros` zero bytes, deflated piece by piece, so the test
/// never holds the decompressed data.
std::string gzip_header_and_zeros(const std::string& header, std::size_t zeros) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflate");
  std::string out;
  std::string piece(std::size_t{1} << 20, '\0');
  std::string buffer(std::size_t{1} << 16, '\0');
  const auto pump = [&](const std::string& input, std::size_t size, int flush) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    zs.avail_in = static_cast<uInt>(size);
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buffer.data());
      zs.avail_out = static_cast<uInt>(buffer.size());
      deflate(&zs, flush);
      out.append(buffer.data(), buffer.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  };
  pump(header, header.size(), Z_NO_FLUSH);
  for (std::size_t done = 0; done < zeros; done += piece.size()) {
    const std::size_t size = std::min(piece.size(), zeros - done);
    pump(piece, size, done + size == zeros ? Z_FINISH : Z_NO_FLUSH);
  }
  deflateEnd(&zs);
  return out;
}

/// A small .gz that inflates to 128 MiB of pixels costs about the pixels' memory, not two or three times
/// that (the decompressed bytes are written straight into the image matrix). Measured as the peak
/// resident size of a forked child that reads it: the child starts with this process's pages, so those
/// are allowed for, plus a quarter of the data for the allocator and the compressed bytes.
TEST_F(IdxFiles, GzipBombCostsAboutTheDataItHolds) {
  constexpr std::uint32_t n = 2048, side = 256;
  constexpr std::size_t data_bytes = std::size_t{n} * side * side;  // 128 MiB
  const std::string compressed = gzip_header_and_zeros(testing::idx_header(0x08, {n, side, side}), data_bytes);
  ASSERT_LT(compressed.size(), data_bytes / 100);
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const ImageSet images = parse_idx_images(compressed, "bomb.gz");
    _exit(images.n() == n && images.pixels.sum() == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child did not read the file";
  rusage children{};
  getrusage(RUSAGE_CHILDREN, &children);
  const double peak_mib = static_cast<double>(children.ru_maxrss) / 1024.0;
  const double parent_mib = static_cast<double>(self.ru_maxrss) / 1024.0;
  const double data_mib = static_cast<double>(data_bytes) / (1024.0 * 1024.0);
  EXPECT_LT(peak_mib, parent_mib + 1.25 * data_mib) << "peak " << peak_mib << " MiB for " << data_mib
                                                    << " MiB of pixels (this process: " << parent_mib << " MiB)";
}

/// Every broken file, plain and (where it makes sense) gzipped, names the file and what was expected.
TEST_F(IdxFiles, BrokenFilesAreInputErrorsNamingTheFileAndTheExpectation) {
  const std::string good = idx_ubyte({2, 2, 3}, random_bytes(12, 1));
  struct Case {
    std::string label;
    std::string bytes;
    std::vector<std::string> fragments;
  };
  std::string wrong_type = good;
  wrong_type[2] = 0x0A;
  std::string zero_dims = good.substr(0, 4);
  zero_dims[3] = 0;
  const std::vector<Case> cases{
      {"empty", "", {"empty", "expected an IDX file"}},
      {"magic-csv", "x1,x2,y\n1,2,3\n", {"wrong magic number 0x78 0x31 0x2C 0x78", "0x00 0x00"}},
      {"magic-one", std::string("\x01\x00\x08\x03", 4) + good.substr(4), {"wrong magic number 0x01", "0x00 0x00"}},
      {"type", wrong_type, {"unsupported IDX data type 0x0A", "expected 0x08 (unsigned byte)"}},
      {"ndim0", zero_dims, {"0 dimensions", "expected at least 1"}},
      {"magic-short", good.substr(0, 3), {"truncated header", "4-byte magic number", "only 3"}},
      {"dims-short", good.substr(0, 9), {"truncated header", "3 dimension(s)", "16 header bytes", "only 9"}},
      {"dim-zero", idx_ubyte({2, 0, 3}, {}), {"dimension 2 of 3 is 0", "expected sizes >= 1"}},
      {"data-short", good.substr(0, good.size() - 1),
       {"truncated data", "(2, 2, 3)", "call for 12 bytes", "only 11", "shorter"}},
      {"data-long", good + "xyz", {"size mismatch", "call for 12 bytes", "3 more", "longer than its header"}},
  };
  for (const Case& c : cases) {
    for (const bool compressed : {false, true}) {
      if (compressed && c.bytes.empty()) continue;  // an empty file is never gzip
      const std::string path = put(c.label + (compressed ? ".gz" : ""), compressed ? gzip(c.bytes) : c.bytes);
      SCOPED_TRACE(path);
      // Lengths are those of the decompressed data, so the same numbers appear for the gzipped file.
      const std::vector<std::string>& fragments = c.fragments;
      try {
        (void)read_idx(path);
        ADD_FAILURE() << "no error";
      } catch (const InputError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
        for (const std::string& f : fragments) {
          EXPECT_NE(message.find(f), std::string::npos) << "\"" << message << "\" lacks \"" << f << "\"";
        }
        if (compressed && c.label.find("short") != std::string::npos) {
          EXPECT_NE(message.find("decompressed data"), std::string::npos) << message;
        }
      }
      // The typed readers report the same problem.
      RELUSTAB_EXPECT_INPUT_ERROR(read_idx_images(path), path, fragments.front());
      RELUSTAB_EXPECT_INPUT_ERROR(read_idx_labels(path), path, fragments.front());
    }
  }
}

TEST_F(IdxFiles, BrokenGzipStreams) {
  const std::string good = gzip(idx_ubyte({2, 3}, random_bytes(6, 2)));
  // A flipped bit in the deflate data or the CRC-32 trailer: zlib reports the stream as corrupt.
  std::string flipped_crc = good;
  flipped_crc[flipped_crc.size() - 6] = static_cast<char>(flipped_crc[flipped_crc.size() - 6] ^ 0x10);
  std::string bad_method = good;
  bad_method[2] = 0x07;  // compression method must be 8 (deflate)
  const std::string compressed_empty = gzip("");
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx(put("crc.gz", flipped_crc)), "crc.gz: corrupt gzip data",
                              "incorrect data check", "expected a valid gzip stream");
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx(put("method.gz", bad_method)), "method.gz: corrupt gzip data");
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx(put("cut.gz", good.substr(0, good.size() - 3))),
                              "cut.gz: the gzip stream is truncated");
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx(put("cut-early.gz", good.substr(0, 12))), "cut-early.gz:", "truncated");
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx(put("magic-only.gz", good.substr(0, 2))), "magic-only.gz:", "truncated");
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx(put("trailing.gz", good + "junk")), "trailing.gz: 4 bytes follow the end",
                              "expected the end of the file or another gzip member");
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx(put("nothing.gz", compressed_empty)), "nothing.gz:",
                              "decompresses to nothing", "expected an IDX file");
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx(dir_.file("missing.idx")), "missing.idx", "cannot open");
}

TEST_F(IdxFiles, NonFiniteFloatsAndHugeDimsAreRejected) {
  std::string nan_file = idx_header(0x0D, {3});
  for (const float v : {1.0f, std::nanf(""), 2.0f}) append_be(nan_file, std::bit_cast<std::uint32_t>(v), 4);
  RELUSTAB_EXPECT_INPUT_ERROR(parse_idx(nan_file, "nan.idx"), "nan.idx: value 1", "NaN or infinite",
                              "expected finite");
  // 2^32-1 cubed bytes of float64: more than 2^63, rejected before anything is allocated.
  const std::string huge = idx_header(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu});
  RELUSTAB_EXPECT_INPUT_ERROR(parse_idx(huge, "huge.idx"), "huge.idx:", "more than 2^63 bytes");
  // A plausible-looking claim of 400 MB with 3 bytes of data is truncated, not an allocation of 400 MB.
  RELUSTAB_EXPECT_INPUT_ERROR(parse_idx(gzip(idx_ubyte({400000000u}, {1, 2, 3})), "claim.gz"),
                              "claim.gz: truncated data", "call for 400000000 bytes", "only 3");
  // More values than a data set may hold are refused from the header alone.
  RELUSTAB_EXPECT_INPUT_ERROR(parse_idx(gzip(idx_ubyte({0xFFFFFFFFu}, {1, 2, 3})), "limit.gz"),
                              "limit.gz: dimensions (4294967295)", "4294967295 values", "above the limit of 500000000");
}

TEST_F(IdxFiles, WrongKindOfFileForImagesOrLabels) {
  const std::string labels = put("labels-idx1-ubyte", idx_ubyte({4}, {1, 2, 3, 4}));
  const std::string images = put("images-idx3-ubyte", idx_ubyte({4, 1, 2}, random_bytes(8, 4)));
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx_images(labels), labels + ": 1 dimension(s) (4): expected 3 (images, rows, "
                              "columns)", "is this a labels file?");
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx_labels(images), images + ": 3 dimensions (4, 1, 2): expected 1",
                              "is this an images file?");
  std::string float_images = idx_header(0x0D, {1, 1, 1});
  append_be(float_images, std::bit_cast<std::uint32_t>(0.5f), 4);
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx_images(put("float-images", float_images)),
                              "float-images: images of type float32 (0x0D): expected unsigned byte (0x08)");
  std::string negative = idx_header(0x09, {3});
  for (const int v : {1, -4, 2}) negative.push_back(static_cast<char>(static_cast<std::int8_t>(v)));
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx_labels(put("neg-labels", negative)), "neg-labels: label 1",
                              "is -4: expected labels >= 0");
  const std::string three_labels = put("three-labels", idx_ubyte({3}, {1, 2, 3}));
  RELUSTAB_EXPECT_INPUT_ERROR(read_idx_image_set(images, three_labels),
                              images + " has 4 images but " + three_labels + " has 3 labels",
                              "expected one label per image");
}

// ---- scikit-learn's digits CSV -------------------------------------------------------------------------------

std::string digits_line(const std::vector<int>& pixels, int label) {
  std::string line;
  for (const int p : pixels) line += std::to_string(p) + ",";
  return line + std::to_string(label) + "\n";
}

// 2,500 rows (about 400 KB of text): several read chunks, plain and gzipped.
TEST_F(IdxFiles, DigitsCsvRoundTripPlainAndGzipped) {
  constexpr Index kRows = 2500;
  Rng rng(8);
  std::vector<std::vector<int>> rows(kRows, std::vector<int>(64));
  std::vector<int> labels;
  std::string text;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (int& p : rows[r]) p = static_cast<int>(rng.below(17));
    labels.push_back(static_cast<int>(r * 4 % 10));
    text += digits_line(rows[r], labels.back());
  }
  text.insert(text.find(',') , ".0");  // numpy-style "5.0" is accepted as 5
  text += "\n\n";                      // blank lines at the end are ignored
  for (const auto& [name, bytes] : {std::pair{std::string("digits.csv"), text},
                                    std::pair{std::string("digits.csv.gz"), gzip(text)}}) {
    SCOPED_TRACE(name);
    const ImageSet set = read_digits_csv(put(name, bytes));
    ASSERT_EQ(set.n(), kRows);
    EXPECT_EQ(set.pixels_per_image(), 64);
    EXPECT_EQ(set.image_rows, 8);
    EXPECT_EQ(set.image_cols, 8);
    EXPECT_EQ(set.max_value, 16.0);
    EXPECT_EQ(set.labels, labels);
    Index mismatches = 0;
    for (Index r = 0; r < kRows; ++r) {
      const std::vector<int>& expected = rows[static_cast<std::size_t>(r)];
      for (Index j = 0; j < 64; ++j) mismatches += set.pixels(r, j) != expected[static_cast<std::size_t>(j)];
    }
    EXPECT_EQ(mismatches, 0);
  }
}

TEST_F(IdxFiles, BrokenDigitsCsv) {
  const std::vector<int> zeros(64, 0);
  const std::string row = digits_line(zeros, 1);
  std::vector<int> seventeen = zeros;
  seventeen[5] = 17;
  const std::string short_row = row.substr(2);  // 64 fields
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d0.csv", "")), "d0.csv: the file is empty");
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d1.csv", "\n\n")), "d1.csv: no rows", "64 pixel values");
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d2.csv", row + short_row)), "d2.csv:2: 64 fields",
                              "expected 65 (64 pixel values and a label)");
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d3.csv", row + "0," + row)), "d3.csv:2: more than 65 fields");
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d4.csv", digits_line(seventeen, 1))),
                              "d4.csv:1: field 6 '17': expected a pixel value, an integer 0..16");
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d5.csv", digits_line(zeros, 10))),
                              "d5.csv:1: field 65 '10': expected a label, an integer 0..9");
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d6.csv", "2.5" + row.substr(1))),
                              "d6.csv:1: field 1 '2.5': expected a pixel value");
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d7.csv", row + "\n" + row)), "d7.csv:2: blank line");
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d8.csv.gz", gzip(row).substr(0, 15))), "d8.csv.gz:",
                              "truncated");
  RELUSTAB_EXPECT_INPUT_ERROR(read_digits_csv(put("d9.csv", ",," + row)), "d9.csv:1: field 1 '': expected");
}

// ---- finding the installed data sets ---------------------------------------------------------------------------

TEST_F(IdxFiles, FindFashionMnistInGivenDirectories) {
  const std::string empty_dir = dir_.file("empty");
  std::filesystem::create_directories(empty_dir);
  RELUSTAB_EXPECT_INPUT_ERROR(find_fashion_mnist(std::vector<std::string>{empty_dir}), "Fashion-MNIST not found",
                              empty_dir, "scripts/setup.sh", "dataset-fashion-mnist", "RELUSTAB_FASHION_MNIST_DIR");
  const std::string full = dir_.file("full");
  std::filesystem::create_directories(full);
  for (const char* stem : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte.gz",
                           "t10k-labels-idx1-ubyte.gz"}) {
    write_bytes(full + "/" + stem, "x");
  }
  // Three of four files is not enough; the search goes on to the next directory.
  const std::string partial = dir_.file("partial");
  std::filesystem::create_directories(partial);
  write_bytes(partial + "/train-images-idx3-ubyte.gz", "x");
  const FashionMnistFiles files = find_fashion_mnist(std::vector<std::string>{empty_dir, partial, full});
  EXPECT_EQ(files.train_images, full + "/train-images-idx3-ubyte.gz");
  EXPECT_EQ(files.train_labels, full + "/train-labels-idx1-ubyte");  // uncompressed name accepted
  EXPECT_EQ(files.test_images, full + "/t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(files.test_labels, full + "/t10k-labels-idx1-ubyte.gz");

  const std::string digits = put("digits.csv.gz", "x");
  EXPECT_EQ(find_sklearn_digits(std::vector<std::string>{dir_.file("nope.csv.gz"), digits}), digits);
  RELUSTAB_EXPECT_INPUT_ERROR(find_sklearn_digits(std::vector<std::string>{dir_.file("nope.csv.gz")}),
                              "digits.csv.gz not found", "nope.csv.gz", "scripts/setup.sh", "python3-sklearn");
}

// ---- the real files, when installed ---------------------------------------------------------------------------

TEST(RealImageData, FashionMnistTrainingAndTestSets) {
  FashionMnistFiles files;
  try {
    files = find_fashion_mnist();
  } catch (const InputError& e) {
    GTEST_SKIP() << e.what();
  }
  const ImageSet train = read_idx_image_set(files.train_images, files.train_labels);
  ASSERT_EQ(train.n(), 60000);
  ASSERT_EQ(train.pixels_per_image(), 784);
  EXPECT_EQ(train.image_rows, 28);
  EXPECT_EQ(train.image_cols, 28);
  EXPECT_EQ(label_counts(train), std::vector<Index>(10, 6000));
  // Oracle: numpy on the same files (np.frombuffer of the gunzipped bytes).
  EXPECT_EQ(std::vector<int>(train.labels.begin(), train.labels.begin() + 10),
            (std::vector<int>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  EXPECT_EQ(train.pixels.row(0).cast<std::int64_t>().sum(), 76247);
  EXPECT_EQ(train.pixels.cast<std::int64_t>().sum(), 3431114169LL);
  EXPECT_EQ(train.pixels.col(783).cast<std::int64_t>().sum(), 4253);

  const ImageSet test = read_fashion_mnist("test");
  ASSERT_EQ(test.n(), 10000);
  EXPECT_EQ(label_counts(test), std::vector<Index>(10, 1000));
  EXPECT_EQ(std::vector<int>(test.labels.begin(), test.labels.begin() + 10),
            (std::vector<int>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  EXPECT_EQ(test.pixels.cast<std::int64_t>().sum(), 573469082LL);
}

TEST(RealImageData, ScikitLearnDigits) {
  std::string path;
  try {
    path = find_sklearn_digits();
  } catch (const InputError& e) {
    GTEST_SKIP() << e.what();
  }
  const ImageSet digits = read_digits_csv(path);
  ASSERT_EQ(digits.n(), 1797);
  ASSERT_EQ(digits.pixels_per_image(), 64);
  EXPECT_EQ(digits.max_value, 16.0);
  // Oracle: sklearn.datasets.load_digits().
  EXPECT_EQ(label_counts(digits), (std::vector<Index>{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}));
  EXPECT_EQ(std::vector<int>(digits.labels.begin(), digits.labels.begin() + 10),
            (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(digits.pixels.row(0).cast<std::int64_t>().sum(), 294);
  EXPECT_EQ(digits.pixels.cast<std::int64_t>().sum(), 561718);
}

}  // namespace
}  // namespace relustab::io
