// SPDX-License-Identifier: MIT
// scikit-learn's 8x8 digits (digits.csv.gz) and where Debian installs the image data sets.
#include <relustab/io/idx.h>

#include <relustab/core/error.h>
#include <relustab/io/atomic_file.h>

#include "byte_stream.h"
#include "text_fields.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace relustab::io {
namespace {

constexpr Index kDigitsSide = 8;
constexpr Index kDigitsPixels = kDigitsSide * kDigitsSide;
constexpr int kDigitsMaxPixel = 16;
constexpr int kDigitsMaxLabel = 9;
constexpr const char* kSetupHint = "run scripts/setup.sh, which installs the Debian package ";

using detail::trim;

/// Parses a whole field as an integer in [lo, hi]; "3.0" (numpy's savetxt style) is accepted as 3.
bool parse_small_integer(std::string_view field, int lo, int hi, int& value) {
  if (field.empty()) return false;
  const char* end = field.data() + field.size();
  auto [ptr, error] = std::from_chars(field.data(), end, value);
  if (error != std::errc()) return false;
  if (ptr != end) {
    // Allow a fractional part of zeros only.
    if (*ptr != '.') return false;
    for (++ptr; ptr != end; ++ptr) {
      if (*ptr != '0') return false;
    }
  }
  return value >= lo && value <= hi;
}

/// Inflates (when gzipped) the whole file; the digits are small, so no streaming is needed.
std::string whole_contents(std::string_view bytes, const std::string& name) {
  detail::ByteStream stream(bytes, name);
  std::string text;
  // Chunks from the input's size, doubling up to 1 MiB: each read first zero-fills its chunk, and a
  // fixed 1 MiB made every small file cost a megabyte of writes (fuzzing saw ~50 inputs per second).
  constexpr std::size_t kMaxChunk = std::size_t{1} << 20;
  std::size_t chunk = std::clamp<std::size_t>(bytes.size(), 4096, kMaxChunk);
  while (stream.read(chunk, text) == chunk) chunk = std::min(2 * chunk, kMaxChunk);
  return text;
}

bool is_file(const std::string& path) {
  std::error_code ignored;
  return std::filesystem::is_regular_file(path, ignored);
}

/// `stem` or `stem.gz`, whichever exists in `directory` (the .gz first), or "".
std::string find_in(const std::string& directory, const std::string& stem) {
  for (const std::string& candidate : {stem + ".gz", stem}) {
    const std::string path = (std::filesystem::path(directory) / candidate).string();
    if (is_file(path)) return path;
  }
  return {};
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

ImageSet parse_digits_csv(std::string_view bytes, const std::string& name) {
  if (bytes.empty()) {
    throw InputError(name + ": the file is empty: expected scikit-learn's digits CSV (64 pixel values 0..16 "
                     "and a label per line)");
  }
  const std::string text = whole_contents(bytes, name);
  std::vector<std::string_view> lines;
  const std::string_view all = text;
  for (std::size_t start = 0; start < all.size();) {
    const std::size_t newline = all.find('\n', start);
    const std::size_t end = newline == std::string_view::npos ? all.size() : newline;
    lines.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
  if (lines.empty()) {
    throw InputError(name + ": no rows: expected lines of 64 pixel values 0..16 followed by a label 0..9");
  }

  ImageSet set;
  set.pixels.resize(static_cast<Index>(lines.size()), kDigitsPixels);
  set.labels.resize(lines.size());
  for (std::size_t row = 0; row < lines.size(); ++row) {
    const std::string where = name + ":" + std::to_string(row + 1);
    const std::string_view line = trim(lines[row]);
    if (line.empty()) {
      throw InputError(where + ": blank line inside the data (only blank lines at the end are allowed)");
    }
    Index field = 0;
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = line.find(',', start);
      const std::string_view text_field =
          trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (field > kDigitsPixels) {
        throw InputError(where + ": more than 65 fields: expected 64 pixel values and a label");
      }
      int value = 0;
      const bool is_label = field == kDigitsPixels;
      const int hi = is_label ? kDigitsMaxLabel : kDigitsMaxPixel;
      if (!parse_small_integer(text_field, 0, hi, value)) {
        throw InputError(where + ": field " + std::to_string(field + 1) + " '" + std::string(text_field) +
                         "': expected " + (is_label ? "a label, an integer 0..9" : "a pixel value, an integer 0..16"));
      }
      if (is_label) {
        set.labels[row] = value;
      } else {
        set.pixels(static_cast<Index>(row), field) = static_cast<std::uint8_t>(value);
      }
      ++field;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (field != kDigitsPixels + 1) {
      throw InputError(where + ": " + std::to_string(field) + " fields: expected 65 (64 pixel values and a label)");
    }
  }
  set.max_value = kDigitsMaxPixel;
  set.image_rows = kDigitsSide;
  set.image_cols = kDigitsSide;
  set.source = name;
  return set;
}

ImageSet read_digits_csv(const std::string& path) { return parse_digits_csv(read_file(path), path); }

FashionMnistFiles find_fashion_mnist(const std::vector<std::string>& directories) {
  for (const std::string& directory : directories) {
    FashionMnistFiles files{find_in(directory, "train-images-idx3-ubyte"),
                            find_in(directory, "train-labels-idx1-ubyte"),
                            find_in(directory, "t10k-images-idx3-ubyte"),
                            find_in(directory, "t10k-labels-idx1-ubyte")};
    if (!files.train_images.empty() && !files.train_labels.empty() && !files.test_images.empty() &&
        !files.test_labels.empty()) {
      return files;
    }
  }
  throw InputError("Fashion-MNIST not found: expected train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                   "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or uncompressed) in one of: " +
                   joined(directories) + "; " + kSetupHint +
                   "dataset-fashion-mnist, or set RELUSTAB_FASHION_MNIST_DIR to a directory holding them");
}

FashionMnistFiles find_fashion_mnist() {
  if (const char* directory = std::getenv("RELUSTAB_FASHION_MNIST_DIR"); directory != nullptr && *directory != '\0') {
    return find_fashion_mnist(std::vector<std::string>{directory});
  }
  return find_fashion_mnist(
      std::vector<std::string>{"/usr/share/datasets/fashion-mnist", "/usr/local/share/datasets/fashion-mnist"});
}

ImageSet read_fashion_mnist(const std::string& split) {
  require(split == "train" || split == "test",
          "Fashion-MNIST split: expected 'train' or 'test', got '" + split + "'");
  const FashionMnistFiles files = find_fashion_mnist();
  return split == "train" ? read_idx_image_set(files.train_images, files.train_labels)
                          : read_idx_image_set(files.test_images, files.test_labels);
}

std::string find_sklearn_digits(const std::vector<std::string>& candidates) {
  for (const std::string& candidate : candidates) {
    if (is_file(candidate)) return candidate;
  }
  throw InputError("scikit-learn's digits.csv.gz not found; looked at: " + joined(candidates) + "; " + kSetupHint +
                   "python3-sklearn, or set RELUSTAB_DIGITS_CSV to the file");
}

std::string find_sklearn_digits() {
  if (const char* path = std::getenv("RELUSTAB_DIGITS_CSV"); path != nullptr && *path != '\0') {
    return find_sklearn_digits(std::vector<std::string>{path});
  }
  const std::string relative = "sklearn/datasets/data/digits.csv.gz";
  // Debian's python3-sklearn first, then any python3.x tree a pip install may have used.
  std::vector<std::string> candidates{"/usr/lib/python3/dist-packages/" + relative};
  for (const std::string root : {"/usr/lib", "/usr/local/lib"}) {
    std::error_code error;
    std::vector<std::string> versions;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
      const std::string leaf = entry.path().filename().string();
      if (leaf.rfind("python3", 0) == 0) versions.push_back(entry.path().string());
    }
    std::sort(versions.begin(), versions.end());  // directory order is arbitrary; the search must not be
    for (const std::string& version : versions) {
      for (const char* packages : {"dist-packages", "site-packages"}) {
        const std::string candidate = version + "/" + packages + "/" + relative;
        if (std::find(candidates.begin(), candidates.end(), candidate) == candidates.end()) {
          candidates.push_back(candidate);
        }
      }
    }
  }
  return find_sklearn_digits(candidates);
}

ImageSet read_image_source(DataSource source, const std::string& idx_images,
                           const std::string& idx_labels) {
  switch (source) {
    case DataSource::FashionMnist: return read_fashion_mnist("train");
    case DataSource::Digits: return read_digits_csv(find_sklearn_digits());
    case DataSource::Idx: return read_idx_image_set(idx_images, idx_labels);
    case DataSource::Generated: break;
  }
  throw InputError("data source 'generated': the data are drawn, there are no images to read");
}

}  // namespace relustab::io
