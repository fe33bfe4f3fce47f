// SPDX-License-Identifier: MIT
// Binary image tasks against brute-force recomputation from the chosen indices: labels, scaling, centring,
// sizes, disjointness, reproducibility, the documented selection properties, uniform selection frequencies,
// and the errors.
#include <relustab/data/image_task.h>

#include "io/io_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace relustab {
namespace {

/// n images of 2 x 3 pixels with labels label_of(i), pixels drawn uniformly in 0..max_value.
ImageSet synthetic_images(Index n, int max_value, std::uint64_t seed, int (*label_of)(Index)) {
  Rng rng(seed);
  ImageSet set;
  set.pixels.resize(n, 6);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 6; ++j) set.pixels(i, j) = static_cast<std::uint8_t>(rng.below(max_value + 1));
    set.labels.push_back(label_of(i));
  }
  set.max_value = max_value;
  set.image_rows = 2;
  set.image_cols = 3;
  set.source = "synthetic";
  return set;
}

// Labels 0, 1, 2 with 30, 24, 12 images: i % 11 decides (not sorted by class, so merging is exercised).
int three_classes(Index i) {
  const Index r = i % 11;
  return r < 5 ? 0 : (r < 9 ? 1 : 2);
}

/// Checks everything a task must satisfy, recomputing each value from the image set and the indices.
void check_task(const ImageSet& images, const BinaryTaskSpec& spec, const BinaryImageTask& task) {
  const auto check_part = [&](const Dataset& data, const std::vector<Index>& indices) {
    ASSERT_EQ(data.n(), static_cast<Index>(indices.size()));
    ASSERT_EQ(data.dim(), images.pixels_per_image());
    EXPECT_TRUE(std::is_sorted(indices.begin(), indices.end()));
    EXPECT_EQ(std::adjacent_find(indices.begin(), indices.end()), indices.end()) << "repeated index";
    for (Index r = 0; r < data.n(); ++r) {
      const Index i = indices[static_cast<std::size_t>(r)];
      const int label = images.labels[static_cast<std::size_t>(i)];
      ASSERT_TRUE(label == spec.class_pos || label == spec.class_neg) << "image " << i << " has label " << label;
      EXPECT_EQ(data.y[r], label == spec.class_pos ? 1.0 : -1.0);
      for (Index j = 0; j < data.dim(); ++j) {
        const double scaled = static_cast<double>(images.pixels(i, j)) / images.max_value;
        const double expected = spec.center ? scaled - task.mean_image[j] : scaled;
        EXPECT_NEAR(data.X(r, j), expected, 1e-15);
      }
    }
    EXPECT_EQ(data.y_clean.size(), 0);
  };
  check_part(task.train, task.train_indices);
  check_part(task.val, task.val_indices);
  EXPECT_EQ(task.train.n(), spec.n_train);
  EXPECT_EQ(task.train_pos, spec.n_train - spec.n_train / 2);
  EXPECT_EQ(task.train_neg, spec.n_train / 2);
  EXPECT_EQ((task.train.y.array() > 0).count(), task.train_pos);
  EXPECT_EQ((task.val.y.array() > 0).count(), task.val_pos);
  EXPECT_EQ((task.val.y.array() < 0).count(), task.val_neg);
  std::vector<Index> common;
  std::set_intersection(task.train_indices.begin(), task.train_indices.end(), task.val_indices.begin(),
                        task.val_indices.end(), std::back_inserter(common));
  EXPECT_TRUE(common.empty()) << "training and validation share image " << common.front();
  // The mean image, brute force over the training indices.
  ASSERT_EQ(task.mean_image.size(), images.pixels_per_image());
  for (Index j = 0; j < images.pixels_per_image(); ++j) {
    double sum = 0.0;
    for (const Index i : task.train_indices) sum += static_cast<double>(images.pixels(i, j)) / images.max_value;
    EXPECT_NEAR(task.mean_image[j], spec.center ? sum / static_cast<double>(spec.n_train) : 0.0, 1e-15);
    if (spec.center) {
      EXPECT_NEAR(task.train.X.col(j).mean(), 0.0, 1e-15);
    }
  }
}

TEST(ImageTask, SizesLabelsScalingAndDisjointness) {
  const ImageSet images = synthetic_images(66, 255, 1, three_classes);
  BinaryTaskSpec spec;
  spec.class_pos = 2;
  spec.class_neg = 0;
  spec.n_train = 9;  // odd: 5 positives, 4 negatives
  spec.n_val_per_class = 3;
  spec.seed = 7;
  const BinaryImageTask task = make_binary_image_task(images, spec);
  check_task(images, spec, task);
  EXPECT_EQ(task.train_pos, 5);
  EXPECT_EQ(task.train_neg, 4);
  EXPECT_EQ(task.val_pos, 3);
  EXPECT_EQ(task.val_neg, 3);
  EXPECT_TRUE(task.train.X.minCoeff() >= 0.0 && task.train.X.maxCoeff() <= 1.0);
}

TEST(ImageTask, CentringSubtractsTheTrainingMeanFromBothSets) {
  const ImageSet images = synthetic_images(66, 255, 2, three_classes);
  BinaryTaskSpec spec;
  spec.class_pos = 0;
  spec.class_neg = 1;
  spec.n_train = 20;
  spec.n_val_per_class = 5;
  spec.center = true;
  spec.seed = 3;
  const BinaryImageTask centred = make_binary_image_task(images, spec);
  check_task(images, spec, centred);
  // The same selection without centring differs exactly by the mean image, in both sets.
  spec.center = false;
  const BinaryImageTask plain = make_binary_image_task(images, spec);
  EXPECT_EQ(plain.train_indices, centred.train_indices);
  EXPECT_EQ(plain.val_indices, centred.val_indices);
  EXPECT_LT(((plain.val.X.rowwise() - centred.mean_image.transpose()) - centred.val.X).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_GT(centred.mean_image.minCoeff(), 0.0);  // pixels are positive on average, so centring did something
}

TEST(ImageTask, PixelScaleOfTheDigits) {
  const ImageSet images = synthetic_images(66, 16, 3, three_classes);
  BinaryTaskSpec spec;
  spec.class_pos = 1;
  spec.class_neg = 2;
  spec.n_train = 10;
  spec.n_val_per_class = 2;
  const BinaryImageTask task = make_binary_image_task(images, spec);
  check_task(images, spec, task);
  EXPECT_EQ(task.train.X.maxCoeff(), 1.0);  // some pixel of 10 random 0..16 images is 16
}

TEST(ImageTask, SeedReproducibilityAndDocumentedSelectionProperties) {
  const ImageSet images = synthetic_images(66, 255, 4, three_classes);
  BinaryTaskSpec spec;
  spec.class_pos = 0;
  spec.class_neg = 1;
  spec.n_train = 10;
  spec.n_val_per_class = 4;
  spec.seed = 11;
  const BinaryImageTask a = make_binary_image_task(images, spec);
  const BinaryImageTask b = make_binary_image_task(images, spec);
  EXPECT_EQ(a.train_indices, b.train_indices);
  EXPECT_EQ(a.val_indices, b.val_indices);
  EXPECT_TRUE(testing::same_bits(Eigen::Map<const Vec>(a.train.X.data(), a.train.X.size()),
                                 Eigen::Map<const Vec>(b.train.X.data(), b.train.X.size())));

  BinaryTaskSpec other = spec;
  other.seed = 12;
  EXPECT_NE(make_binary_image_task(images, other).train_indices, a.train_indices);

  // More validation never changes the training set, and the old validation set is kept as a prefix draw.
  BinaryTaskSpec more_val = spec;
  more_val.n_val_per_class = 10;
  const BinaryImageTask c = make_binary_image_task(images, more_val);
  EXPECT_EQ(c.train_indices, a.train_indices);
  EXPECT_TRUE(std::includes(c.val_indices.begin(), c.val_indices.end(), a.val_indices.begin(), a.val_indices.end()));

  // Swapping the roles of the classes (even n_train) selects the same images with the labels flipped.
  BinaryTaskSpec swapped = spec;
  std::swap(swapped.class_pos, swapped.class_neg);
  const BinaryImageTask d = make_binary_image_task(images, swapped);
  EXPECT_EQ(d.train_indices, a.train_indices);
  EXPECT_EQ(d.val_indices, a.val_indices);
  EXPECT_EQ(d.train.y, Vec(-a.train.y));

  // All remaining: validation is every image of the two classes that is not in training.
  BinaryTaskSpec rest = spec;
  rest.n_val_per_class = BinaryTaskSpec::kAllRemaining;
  const BinaryImageTask e = make_binary_image_task(images, rest);
  check_task(images, rest, e);
  EXPECT_EQ(e.train_indices, a.train_indices);
  EXPECT_EQ(e.val_pos, 30 - 5);
  EXPECT_EQ(e.val_neg, 24 - 5);

  // No validation at all.
  BinaryTaskSpec none = spec;
  none.n_val_per_class = 0;
  const BinaryImageTask f = make_binary_image_task(images, none);
  EXPECT_EQ(f.val.n(), 0);
  EXPECT_EQ(f.train_indices, a.train_indices);
}

TEST(ImageTask, EveryImageOfAClassIsEquallyLikelyToBeChosen) {
  // Class 2 has 12 images; with 3 of them in training, each is chosen with probability 1/4 per seed.
  const ImageSet images = synthetic_images(66, 255, 5, three_classes);
  BinaryTaskSpec spec;
  spec.class_pos = 2;
  spec.class_neg = 0;
  spec.n_train = 6;
  spec.n_val_per_class = 2;
  constexpr int kSeeds = 4000;
  std::vector<int> train_hits(66, 0), val_hits(66, 0);
  for (int seed = 0; seed < kSeeds; ++seed) {
    spec.seed = static_cast<std::uint64_t>(seed);
    const BinaryImageTask task = make_binary_image_task(images, spec);
    for (const Index i : task.train_indices) ++train_hits[static_cast<std::size_t>(i)];
    for (const Index i : task.val_indices) ++val_hits[static_cast<std::size_t>(i)];
  }
  for (Index i = 0; i < 66; ++i) {
    if (three_classes(i) == 1) {
      EXPECT_EQ(train_hits[static_cast<std::size_t>(i)] + val_hits[static_cast<std::size_t>(i)], 0);
      continue;
    }
    const double members = three_classes(i) == 2 ? 12.0 : 30.0;
    for (const auto& [hits, per_class] : {std::pair{&train_hits, 3.0}, std::pair{&val_hits, 2.0}}) {
      const double p = per_class / members;
      const double sd = std::sqrt(kSeeds * p * (1.0 - p));
      EXPECT_NEAR((*hits)[static_cast<std::size_t>(i)], kSeeds * p, 5.0 * sd) << "image " << i;
    }
  }
}

TEST(ImageTask, Errors) {
  const ImageSet images = synthetic_images(66, 255, 6, three_classes);
  BinaryTaskSpec spec;
  spec.class_pos = 0;
  spec.class_neg = 1;
  spec.n_train = 10;
  spec.n_val_per_class = 4;

  BinaryTaskSpec same = spec;
  same.class_neg = 0;
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(images, same), "classes: expected two different labels");
  BinaryTaskSpec one = spec;
  one.n_train = 1;
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(images, one), "n_train: expected at least 2");
  BinaryTaskSpec negative_val = spec;
  negative_val.n_val_per_class = -2;
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(images, negative_val), "n_val_per_class: expected");
  BinaryTaskSpec absent = spec;
  absent.class_neg = 7;
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(images, absent), "synthetic: class_neg 7",
                              "no image has it");
  BinaryTaskSpec too_many = spec;
  too_many.class_pos = 2;  // 12 images: 5 + 8 is too many
  too_many.n_val_per_class = 8;
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(images, too_many), "synthetic: class_pos 2 has 12 images",
                              "5 for training plus 8 for validation");
  BinaryTaskSpec too_many_train = spec;
  too_many_train.n_train = 50;
  too_many_train.n_val_per_class = BinaryTaskSpec::kAllRemaining;
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(images, too_many_train), "class_neg 1 has 24 images",
                              "25 for training plus 0 for validation");

  ImageSet bright = images;
  bright.max_value = 100;
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(bright, spec), "synthetic: pixel value",
                              "exceeds the declared maximum");
  ImageSet unlabelled = images;
  unlabelled.labels.pop_back();
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(unlabelled, spec), "expected one label per image",
                              "65 labels for 66 images");
  ImageSet misshapen = images;
  misshapen.image_cols = 4;
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(misshapen, spec), "image shape 2 x 4");
  ImageSet empty;
  empty.source = "nothing";
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(empty, spec), "nothing: expected at least one image");
  ImageSet negative_label = images;
  negative_label.labels[3] = -1;
  RELUSTAB_EXPECT_INPUT_ERROR(make_binary_image_task(negative_label, spec), "image 3: expected a label >= 0");
}

}  // namespace
}  // namespace relustab
