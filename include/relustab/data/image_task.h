// SPDX-License-Identifier: MIT
// Labelled images (MNIST-style) and the binary classification task built from two of their classes
// (Nacson et al. 2023): labels +1/-1, pixels scaled to [0, 1] and optionally centred, a seeded training subset and a
// disjoint validation set. No I/O: the readers live in relustab/io/idx.h.
#pragma once

#include <relustab/data/dataset.h>

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relustab {

/// Where a run's data come from.
enum class DataSource {
  Generated,     ///< drawn from an input law and a clean target (or read from a CSV file)
  FashionMnist,  ///< a binary task from Fashion-MNIST's training images
  Digits,        ///< a binary task from scikit-learn's 8x8 digits
  Idx,           ///< a binary task from a pair of IDX files (images, labels)
};
/// "generated", "fashion-mnist", "digits", "idx"; throws InputError naming the choices otherwise.
DataSource parse_data_source(std::string_view name);
std::string_view data_source_name(DataSource source);

/// Raw pixel intensities, one image per row (row-major, rows*cols pixels in reading order). Bytes rather
/// than doubles: Fashion-MNIST's 60000 x 784 training images take 47 MB this way instead of 376 MB, and
/// only the few thousand selected images are ever widened to double.
using PixelMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// n labelled images with integer intensities 0..max_value.
struct ImageSet {
  PixelMatrix pixels;            ///< n x (image_rows * image_cols)
  std::vector<int> labels;       ///< n class labels (0..9 for MNIST, Fashion-MNIST and the digits)
  double max_value = 255.0;      ///< the intensity that maps to 1: 255 for IDX bytes, 16 for the 8x8 digits
  Index image_rows = 0;          ///< 28 for MNIST, 8 for the digits
  Index image_cols = 0;
  std::string source;            ///< where the images came from (file names), for messages

  Index n() const { return pixels.rows(); }
  Index pixels_per_image() const { return pixels.cols(); }
};

/// Throws InputError (naming `set.source`) unless there is at least one image with at least one pixel,
/// one label per image, rows*cols == pixels per image, max_value > 0 and finite, and no pixel above
/// max_value.
void validate_image_set(const ImageSet& set);

/// Number of images of each label 0..max label. Throws InputError for a label < 0 or >= 2^20.
std::vector<Index> label_counts(const ImageSet& set);

/// How to build a binary task from two classes of an ImageSet.
///
/// Selection (per class, so the two classes are drawn independently): the indices of the class, in file
/// order, are shuffled with Rng(seed).split(label) (a partial Fisher-Yates shuffle); the first ones form the
/// class's training part, the next `n_val_per_class` its validation part. Training is balanced: class_pos
/// contributes n_train - n_train/2 samples and class_neg n_train/2 (so an odd n_train gives the positive
/// class one more). Validation is disjoint from training by construction, n_val_per_class from each class,
/// "from the remaining samples in each class" as the paper says (4000 there). Growing
/// n_val_per_class never changes the training set, and the draw of a class does not depend on the other
/// class. Both sets are returned in file order (ascending image index), classes interleaved as in the file.
struct BinaryTaskSpec {
  /// n_val_per_class value meaning "every sample not used for training".
  static constexpr Index kAllRemaining = -1;

  int class_pos = 0;                ///< label whose images get y = +1
  int class_neg = 1;                ///< label whose images get y = -1
  Index n_train = 1000;             ///< training samples in total (both classes), >= 2
  Index n_val_per_class = 4000;     ///< validation samples per class (0: none; kAllRemaining: the rest)
  bool center = false;              ///< subtract the training mean image (from training and validation)
  std::uint64_t seed = 0;
};

/// The two data sets of a binary image task, plus where each sample came from.
struct BinaryImageTask {
  Dataset train;                    ///< n_train x p, x = pixel / max_value (minus mean_image if centred)
  Dataset val;                      ///< same transformation; 0 rows when n_val_per_class == 0
  std::vector<Index> train_indices; ///< row of the ImageSet behind each training sample
  std::vector<Index> val_indices;
  Vec mean_image;                   ///< the subtracted training mean (scaled pixels); zeros when not centred
  Index train_pos = 0, train_neg = 0, val_pos = 0, val_neg = 0;  ///< samples per class
};

/// Builds the task. Throws InputError (naming the field and `images.source`) for an invalid image set,
/// equal classes, n_train < 2, n_val_per_class < 0 (other than kAllRemaining), or a class with too few
/// images for its training and validation share (the message gives how many it has).
BinaryImageTask make_binary_image_task(const ImageSet& images, const BinaryTaskSpec& spec);

}  // namespace relustab
