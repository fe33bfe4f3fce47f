// SPDX-License-Identifier: MIT
// relustab images: a binary classification task (+1/-1) from two classes of an image data set (IDX files,
// Fashion-MNIST from Debian, scikit-learn's 8x8 digits), written as data CSVs; without --out, a summary of
// the image set.
#include "commands.h"
#include "common.h"

#include <relustab/data/image_task.h>
#include <relustab/io/formats.h>
#include <relustab/io/idx.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace relustab::cli {
namespace {

struct ImagesArgs {
  std::string idx_images;
  std::string idx_labels;
  std::string digits;       ///< a path, or "" for the installed file
  bool fashion_mnist = false;
  std::string split = "train";
  std::vector<int> classes;
  Index n_train = 1000;
  std::string n_val = "4000";
  bool center = false;
  std::uint64_t seed = 0;
  std::string out;
  std::string val_out;
};

Index parse_n_val(const std::string& text) {
  if (text == "all") return BinaryTaskSpec::kAllRemaining;
  Index value = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  require(error == std::errc() && end == text.data() + text.size() && value >= 0,
          "--n-val: expected a number of validation images per class >= 0 or 'all', got '" + text + "'");
  return value;
}

void require_csv_name(const std::string& option, const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  require(ext == ".csv", option + " " + path + ": expected a .csv file name (data sets are written as CSV)");
}

void print_summary(const ImageSet& images) {
  std::printf("%s: %lld images of %lld x %lld pixels (0..%g)\n", images.source.c_str(),
              static_cast<long long>(images.n()), static_cast<long long>(images.image_rows),
              static_cast<long long>(images.image_cols), images.max_value);
  const std::vector<Index> counts = label_counts(images);
  for (std::size_t label = 0; label < counts.size(); ++label) {
    if (counts[label] > 0) std::printf("  class %zu: %lld images\n", label, static_cast<long long>(counts[label]));
  }
}

}  // namespace

Command add_images(CLI::App& app) {
  auto a = std::make_shared<ImagesArgs>();
  auto* sub = app.add_subcommand(
      "images", "Binary task (+1/-1) from two classes of an image data set, as CSV (without --out: a summary)");
  auto* idx_images = sub->add_option("--idx-images", a->idx_images, "IDX images file (gzipped or not)");
  auto* idx_labels = sub->add_option("--idx-labels", a->idx_labels, "IDX labels file (gzipped or not)");
  idx_images->needs(idx_labels);
  idx_labels->needs(idx_images);
  auto* digits = sub->add_option("--digits", a->digits,
                                 "scikit-learn's 8x8 digits CSV (without a value: the installed digits.csv.gz)")
                     ->expected(0, 1);
  auto* fashion = sub->add_flag("--fashion-mnist", a->fashion_mnist,
                                "Fashion-MNIST as installed by Debian's dataset-fashion-mnist");
  auto* split = sub->add_option("--split", a->split, "train | test (Fashion-MNIST)")->capture_default_str();
  split->needs(fashion);
  idx_images->excludes(digits)->excludes(fashion);
  digits->excludes(fashion);
  auto* classes = sub->add_option("--classes", a->classes, "two labels: positive (+1), negative (-1), e.g. 0,1")
                      ->delimiter(',')
                      ->expected(2);
  sub->add_option("--n-train", a->n_train, "training images in total (balanced: half per class)")
      ->capture_default_str();
  auto* val_out = sub->add_option("--val-out", a->val_out, "validation CSV (drawn from the rest, disjoint)");
  sub->add_option("--n-val", a->n_val, "validation images per class, or 'all' (the rest)")
      ->capture_default_str()
      ->needs(val_out);
  sub->add_flag("--center", a->center, "subtract the training mean image (also from validation)");
  sub->add_option("--seed", a->seed, "seed of the selection")->capture_default_str();
  auto* out = sub->add_option("--out", a->out, "training CSV");
  val_out->needs(out);
  classes->needs(out);
  return [a, digits] {
    ImageSet images;
    if (!a->idx_images.empty()) {
      images = io::read_idx_image_set(a->idx_images, a->idx_labels);
    } else if (digits->count() > 0) {
      images = io::read_digits_csv(a->digits.empty() ? io::find_sklearn_digits() : a->digits);
    } else if (a->fashion_mnist) {
      images = io::read_fashion_mnist(a->split);
    } else {
      throw InputError("images: expected a data set: --idx-images F --idx-labels F, --digits [F] or --fashion-mnist");
    }
    if (a->out.empty()) {
      print_summary(images);
      return;
    }
    require(a->classes.size() == 2, "--classes: expected two labels, e.g. --classes 0,1");
    require_csv_name("--out", a->out);
    if (!a->val_out.empty()) require_csv_name("--val-out", a->val_out);
    BinaryTaskSpec spec;
    spec.class_pos = a->classes[0];
    spec.class_neg = a->classes[1];
    spec.n_train = a->n_train;
    spec.n_val_per_class = a->val_out.empty() ? 0 : parse_n_val(a->n_val);
    spec.center = a->center;
    spec.seed = a->seed;
    const BinaryImageTask task = make_binary_image_task(images, spec);
    require(a->val_out.empty() || task.val.n() > 0,
            "--val-out: no validation images to write (--n-val 0, or none remain after training)");
    io::write_csv(a->out, task.train);
    if (!a->val_out.empty()) io::write_csv(a->val_out, task.val);
    const char* transform = a->center ? "scaled to [0,1], centred" : "scaled to [0,1]";
    std::printf("wrote %lld training images (class %d: %lld as +1, class %d: %lld as -1; %lld pixels %s) to %s\n",
                static_cast<long long>(task.train.n()), spec.class_pos, static_cast<long long>(task.train_pos),
                spec.class_neg, static_cast<long long>(task.train_neg), static_cast<long long>(task.train.dim()),
                transform, a->out.c_str());
    if (!a->val_out.empty()) {
      std::printf("wrote %lld validation images (%lld +1, %lld -1) to %s\n", static_cast<long long>(task.val.n()),
                  static_cast<long long>(task.val_pos), static_cast<long long>(task.val_neg), a->val_out.c_str());
    }
  };
}

}  // namespace relustab::cli
