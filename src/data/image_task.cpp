// SPDX-License-Identifier: MIT
// Binary classification tasks from labelled images: seeded per-class selection, scaling, centring.
#include <relustab/data/image_task.h>

#include <relustab/core/error.h>
#include <relustab/core/rng.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace relustab {

DataSource parse_data_source(std::string_view name) {
  if (name == "generated") return DataSource::Generated;
  if (name == "fashion-mnist") return DataSource::FashionMnist;
  if (name == "digits") return DataSource::Digits;
  if (name == "idx") return DataSource::Idx;
  throw InputError("data source '" + std::string(name) +
                   "': expected one of generated, fashion-mnist, digits, idx");
}

std::string_view data_source_name(DataSource source) {
  switch (source) {
    case DataSource::Generated: return "generated";
    case DataSource::FashionMnist: return "fashion-mnist";
    case DataSource::Digits: return "digits";
    case DataSource::Idx: return "idx";
  }
  return "unknown";
}
namespace {

constexpr int kMaxLabel = 1 << 20;

struct ClassDraw {
  std::vector<Index> train;
  std::vector<Index> val;
};

/// Draws n_train + n_val distinct images of `label` (see BinaryTaskSpec for the scheme).
ClassDraw draw_class(const ImageSet& images, int label, Index n_train, Index n_val_per_class,
                     const std::string& role, std::uint64_t seed) {
  std::vector<Index> members;
  for (Index i = 0; i < images.n(); ++i) {
    if (images.labels[static_cast<std::size_t>(i)] == label) members.push_back(i);
  }
  const auto available = static_cast<Index>(members.size());
  require(available > 0, images.source + ": " + role + " " + std::to_string(label) +
                             ": expected a label present in the data, but no image has it");
  require(available >= n_train + std::max<Index>(n_val_per_class, 0),
          images.source + ": " + role + " " + std::to_string(label) + " has " + std::to_string(available) +
              " images, fewer than the " + std::to_string(n_train) + " for training plus " +
              std::to_string(std::max<Index>(n_val_per_class, 0)) + " for validation that were asked for");
  const Index n_val = n_val_per_class == BinaryTaskSpec::kAllRemaining ? available - n_train : n_val_per_class;

  // Partial Fisher-Yates: only the first n_train + n_val positions are needed. The stream depends on the
  // label, not the role, so a class is drawn the same way whichever class it is paired with.
  Rng rng = Rng(seed).split(static_cast<std::uint64_t>(label));
  const Index needed = n_train + n_val;
  for (Index i = 0; i < needed; ++i) {
    const auto j = i + static_cast<Index>(rng.below(static_cast<std::uint64_t>(available - i)));
    std::swap(members[static_cast<std::size_t>(i)], members[static_cast<std::size_t>(j)]);
  }
  ClassDraw draw;
  draw.train.assign(members.begin(), members.begin() + n_train);
  draw.val.assign(members.begin() + n_train, members.begin() + needed);
  return draw;
}

/// Merges the two classes' indices in file order.
std::vector<Index> merged(const std::vector<Index>& a, const std::vector<Index>& b) {
  std::vector<Index> out;
  out.reserve(a.size() + b.size());
  out.insert(out.end(), a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  std::sort(out.begin(), out.end());
  return out;
}

Dataset scaled_rows(const ImageSet& images, const std::vector<Index>& rows, int class_pos) {
  Dataset data;
  const Index p = images.pixels_per_image();
  data.X.resize(static_cast<Index>(rows.size()), p);
  data.y.resize(static_cast<Index>(rows.size()));
  const double scale = 1.0 / images.max_value;
  for (Index r = 0; r < static_cast<Index>(rows.size()); ++r) {
    const Index source = rows[static_cast<std::size_t>(r)];
    data.X.row(r) = images.pixels.row(source).cast<double>() * scale;
    data.y[r] = images.labels[static_cast<std::size_t>(source)] == class_pos ? 1.0 : -1.0;
  }
  return data;
}

}  // namespace

void validate_image_set(const ImageSet& set) {
  const std::string& what = set.source.empty() ? std::string("images") : set.source;
  require(set.n() > 0, what + ": expected at least one image, got none");
  require(set.pixels_per_image() > 0, what + ": expected at least one pixel per image");
  require(static_cast<Index>(set.labels.size()) == set.n(),
          what + ": expected one label per image, got " + std::to_string(set.labels.size()) + " labels for " +
              std::to_string(set.n()) + " images");
  require(set.image_rows * set.image_cols == set.pixels_per_image(),
          what + ": image shape " + std::to_string(set.image_rows) + " x " + std::to_string(set.image_cols) +
              " does not match the " + std::to_string(set.pixels_per_image()) + " pixels per image");
  require(std::isfinite(set.max_value) && set.max_value > 0.0,
          what + ": max_value: expected a finite number > 0");
  const std::uint8_t brightest = set.pixels.maxCoeff();
  require(brightest <= set.max_value, what + ": pixel value " + std::to_string(brightest) +
                                          " exceeds the declared maximum intensity " +
                                          std::to_string(set.max_value));
  for (std::size_t i = 0; i < set.labels.size(); ++i) {
    require(set.labels[i] >= 0, what + ": image " + std::to_string(i) + ": expected a label >= 0, got " +
                                    std::to_string(set.labels[i]));
  }
}

std::vector<Index> label_counts(const ImageSet& set) {
  std::vector<Index> counts;
  for (const int label : set.labels) {
    require(label >= 0, set.source + ": expected labels >= 0, got " + std::to_string(label));
    // The counts are indexed by label; a class label in the millions is a corrupt file, not a class.
    require(label < kMaxLabel, set.source + ": expected class labels below " + std::to_string(kMaxLabel) +
                                   ", got " + std::to_string(label));
    if (static_cast<std::size_t>(label) >= counts.size()) counts.resize(static_cast<std::size_t>(label) + 1, 0);
    ++counts[static_cast<std::size_t>(label)];
  }
  return counts;
}

BinaryImageTask make_binary_image_task(const ImageSet& images, const BinaryTaskSpec& spec) {
  validate_image_set(images);
  require(spec.class_pos != spec.class_neg, "classes: expected two different labels, got " +
                                                std::to_string(spec.class_pos) + " twice");
  require(spec.n_train >= 2, "n_train: expected at least 2 (one image per class), got " +
                                 std::to_string(spec.n_train));
  require(spec.n_val_per_class >= 0 || spec.n_val_per_class == BinaryTaskSpec::kAllRemaining,
          "n_val_per_class: expected a number >= 0 (or all remaining), got " +
              std::to_string(spec.n_val_per_class));

  const Index train_neg = spec.n_train / 2;
  const Index train_pos = spec.n_train - train_neg;
  const ClassDraw pos = draw_class(images, spec.class_pos, train_pos, spec.n_val_per_class, "class_pos", spec.seed);
  const ClassDraw neg = draw_class(images, spec.class_neg, train_neg, spec.n_val_per_class, "class_neg", spec.seed);

  BinaryImageTask task;
  task.train_indices = merged(pos.train, neg.train);
  task.val_indices = merged(pos.val, neg.val);
  task.train_pos = train_pos;
  task.train_neg = train_neg;
  task.val_pos = static_cast<Index>(pos.val.size());
  task.val_neg = static_cast<Index>(neg.val.size());
  task.train = scaled_rows(images, task.train_indices, spec.class_pos);
  task.val = scaled_rows(images, task.val_indices, spec.class_pos);
  task.mean_image = Vec::Zero(images.pixels_per_image());
  if (spec.center) {
    // The training mean only: validation is shifted by the same vector, so no validation statistic leaks
    // into the inputs the network is trained on.
    task.mean_image = task.train.X.colwise().mean().transpose();
    task.train.X.rowwise() -= task.mean_image.transpose();
    if (task.val.n() > 0) task.val.X.rowwise() -= task.mean_image.transpose();
  }
  return task;
}

}  // namespace relustab
