// SPDX-License-Identifier: MIT
// Image data sets from files: IDX (the MNIST format, gzipped or not), scikit-learn's 8x8 digits CSV, and
// where Debian installs Fashion-MNIST and the digits. Every reader validates completely and throws
// InputError naming the file and what was expected; nothing half-read is returned.
#pragma once

#include <relustab/data/image_task.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relustab::io {

/// IDX element types (the third byte of the magic number). Multi-byte values are big-endian.
enum class IdxType : std::uint8_t {
  UnsignedByte = 0x08,
  SignedByte = 0x09,
  Int16 = 0x0B,
  Int32 = 0x0C,
  Float32 = 0x0D,
  Float64 = 0x0E,
};

/// "unsigned byte (0x08)" etc.
std::string idx_type_name(IdxType type);

/// A whole IDX array: dims as in the header, values widened to double in C (row-major) order.
struct IdxArray {
  IdxType type = IdxType::UnsignedByte;
  std::vector<std::int64_t> dims;  ///< every dim >= 1; at least one dim
  std::vector<double> values;      ///< product(dims) values

  std::int64_t size() const { return static_cast<std::int64_t>(values.size()); }
};

/// Reads an IDX file: magic 0x00 0x00 <type> <ndim>, ndim big-endian uint32 dims, then the values. The
/// file may be gzip-compressed (detected by its first bytes 1f 8b, not by the name). InputError "<file>:
/// <what>, expected <what>" for: an empty file, a wrong magic number, an unsupported type, no dims, a
/// truncated header, a dim of 0, data shorter or longer than the dims say, a corrupt or truncated gzip
/// stream, and NaN/inf in float data.
IdxArray read_idx(const std::string& path);
/// The same from the file's bytes; `name` is used in messages.
IdxArray parse_idx(std::string_view bytes, const std::string& name);

/// Images: a 3-D unsigned-byte IDX file (count, rows, cols), e.g. train-images-idx3-ubyte(.gz). Returns an
/// ImageSet with pixels (count x rows*cols, raw 0..255), image_rows/cols, max_value 255, source = path and
/// NO labels (see read_idx_image_set). Besides read_idx's errors: InputError unless the type is 0x08 and
/// there are exactly 3 dims.
ImageSet read_idx_images(const std::string& path);
ImageSet parse_idx_images(std::string_view bytes, const std::string& name);

/// Labels: a 1-D IDX file of an integer type (0x08, 0x09, 0x0B, 0x0C), e.g. train-labels-idx1-ubyte(.gz),
/// values >= 0.
std::vector<int> read_idx_labels(const std::string& path);
std::vector<int> parse_idx_labels(std::string_view bytes, const std::string& name);

/// Images and their labels; InputError naming both files when the counts differ. source is
/// "<images> + <labels>".
ImageSet read_idx_image_set(const std::string& images_path, const std::string& labels_path);

/// scikit-learn's digits.csv.gz (gzipped or not): no header, one image per line, 64 integer pixel values
/// 0..16 (8 x 8, row by row) then the integer label 0..9, comma-separated. Returns 1797 x 64 images for
/// the real file, max_value 16. InputError "<file>:<line>: field <k>: expected ..." for a wrong field
/// count, a non-integer or out-of-range value, blank lines inside the data, or no rows.
ImageSet read_digits_csv(const std::string& path);
ImageSet parse_digits_csv(std::string_view bytes, const std::string& name);

/// The four Fashion-MNIST files (Debian package dataset-fashion-mnist installs them in
/// /usr/share/datasets/fashion-mnist).
struct FashionMnistFiles {
  std::string train_images, train_labels;  ///< 60000 images
  std::string test_images, test_labels;    ///< 10000 images
};

/// Looks in $RELUSTAB_FASHION_MNIST_DIR when that is set (and only there), else in
/// /usr/share/datasets/fashion-mnist and /usr/local/share/datasets/fashion-mnist, for
/// {train,t10k}-{images-idx3,labels-idx1}-ubyte, each gzipped (.gz) or not. Throws InputError listing the
/// directories searched and saying to run scripts/setup.sh (which installs the Debian package) when a
/// directory with all four files is not found.
FashionMnistFiles find_fashion_mnist();
/// The same over the given directories, in order.
FashionMnistFiles find_fashion_mnist(const std::vector<std::string>& directories);

/// Fashion-MNIST's training (60000) or test (10000) images with labels, found by find_fashion_mnist().
/// `split` is "train" or "test".
ImageSet read_fashion_mnist(const std::string& split = "train");

/// Path of scikit-learn's digits.csv.gz: $RELUSTAB_DIGITS_CSV when set (it must exist), else the first of
/// sklearn/datasets/data/digits.csv.gz under /usr/lib/python3/dist-packages (Debian's python3-sklearn),
/// /usr/lib/python3*/{dist,site}-packages and /usr/local/lib/python3*/{dist,site}-packages. Throws
/// InputError naming the places searched and saying to run scripts/setup.sh when none has it.
std::string find_sklearn_digits();
/// The same over the given candidate files, in order.
std::string find_sklearn_digits(const std::vector<std::string>& candidates);

/// The image set of a data source: Fashion-MNIST's training split, scikit-learn's digits, or the IDX
/// pair (images, labels) for DataSource::Idx. InputError for DataSource::Generated.
ImageSet read_image_source(DataSource source, const std::string& idx_images = {},
                           const std::string& idx_labels = {});

}  // namespace relustab::io
