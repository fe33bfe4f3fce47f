// SPDX-License-Identifier: MIT
// `relustab images`: the CSVs it writes equal the library's task read back exactly; every broken IDX or digits
// file and every bad option gives exit code 2 with the file and what was expected, and writes nothing; the
// installed Fashion-MNIST and digits when present.
#include <relustab/core/error.h>
#include <relustab/data/image_task.h>
#include <relustab/io/formats.h>
#include <relustab/io/idx.h>

#include "cli/cli_runner.h"
#include "io/idx_test_util.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace relustab::test {
namespace {

using relustab::testing::gzip;
using relustab::testing::idx_ubyte;

class ImagesCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set (run through ctest)";
    // 40 images of 3 x 4, labels i % 4 (10 per class), pixels a fixed function of (i, j).
    std::vector<std::uint8_t> pixels, labels;
    for (std::uint32_t i = 0; i < 40; ++i) {
      labels.push_back(static_cast<std::uint8_t>(i % 4));
      for (std::uint32_t j = 0; j < 12; ++j) pixels.push_back(static_cast<std::uint8_t>((i * 37 + j * 11) % 256));
    }
    images_ = dir_.write("images-idx3-ubyte.gz", gzip(idx_ubyte({40, 3, 4}, pixels)));
    labels_ = dir_.write("labels-idx1-ubyte", idx_ubyte({40}, labels));
  }
  /// Expects exit code 2, every needle on stderr, and no output files.
  void expect_bad_input(const std::string& args, std::initializer_list<std::string> needles) {
    const CommandResult r = run_relustab(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\nstderr: " << r.err;
    for (const auto& needle : needles) {
      EXPECT_NE(r.err.find(needle), std::string::npos) << args << ": expected '" << needle << "' in: " << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(dir_.file("train.csv"))) << args;
    EXPECT_FALSE(std::filesystem::exists(dir_.file("val.csv"))) << args;
  }
  std::string task_args() const {
    return "--out " + dir_.file("train.csv") + " --val-out " + dir_.file("val.csv") +
           " --classes 1,0 --n-train 7 --n-val 3";
  }
  TempDir dir_;
  std::string images_, labels_;
};

TEST_F(ImagesCli, WritesTheLibraryTaskExactly) {
  const CommandResult r = run_relustab("images --idx-images " + images_ + " --idx-labels " + labels_ + " " +
                                       task_args() + " --center --seed 5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote 7 training images (class 1: 4 as +1, class 0: 3 as -1; 12 pixels"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("wrote 6 validation images"), std::string::npos) << r.out;

  BinaryTaskSpec spec;
  spec.class_pos = 1;
  spec.class_neg = 0;
  spec.n_train = 7;
  spec.n_val_per_class = 3;
  spec.center = true;
  spec.seed = 5;
  const BinaryImageTask task = make_binary_image_task(io::read_idx_image_set(images_, labels_), spec);
  const Dataset train = io::read_csv(dir_.file("train.csv"));
  const Dataset val = io::read_csv(dir_.file("val.csv"));
  // The CSV writer prints shortest round-trip digits, so the files hold exactly the library's doubles.
  EXPECT_EQ(train.X, task.train.X);
  EXPECT_EQ(train.y, task.train.y);
  EXPECT_EQ(val.X, task.val.X);
  EXPECT_EQ(val.y, task.val.y);
  EXPECT_EQ(train.dim(), 12);
}

TEST_F(ImagesCli, SummaryWithoutOut) {
  const CommandResult r = run_relustab("images --idx-images " + images_ + " --idx-labels " + labels_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("40 images of 3 x 4 pixels (0..255)"), std::string::npos) << r.out;
  for (int label = 0; label < 4; ++label) {
    EXPECT_NE(r.out.find("class " + std::to_string(label) + ": 10 images"), std::string::npos) << r.out;
  }
}

TEST_F(ImagesCli, DigitsCsvFromAPath) {
  std::string text;
  for (int i = 0; i < 12; ++i) {
    for (int j = 0; j < 64; ++j) text += std::to_string((i + j) % 17) + ",";
    text += std::to_string(i % 3) + "\n";
  }
  const std::string digits = dir_.write("digits.csv.gz", gzip(text));
  const CommandResult r = run_relustab("images --digits " + digits + " --classes 2,0 --n-train 4 --out " +
                                       dir_.file("train.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Dataset train = io::read_csv(dir_.file("train.csv"));
  ASSERT_EQ(train.n(), 4);
  ASSERT_EQ(train.dim(), 64);
  // Scaled by the digits' maximum 16, not 255: row i of the file has pixel j = (i + j) % 17.
  EXPECT_EQ(train.X.maxCoeff(), 1.0);
  EXPECT_EQ(train.X.minCoeff(), 0.0);
}

TEST_F(ImagesCli, BrokenFilesExitWithCode2) {
  const std::vector<std::uint8_t> twelve(12, 7);
  const std::string good = idx_ubyte({1, 3, 4}, twelve);
  std::string wrong_type = good;
  wrong_type[2] = 0x0A;
  const std::vector<std::pair<std::string, std::vector<std::string>>> broken{
      {"", {"empty", "expected an IDX file"}},
      {"P5\n3 4\n255\n", {"wrong magic number", "0x00 0x00"}},
      {wrong_type, {"unsupported IDX data type 0x0A", "expected 0x08"}},
      {good.substr(0, 10), {"truncated header"}},
      {idx_ubyte({1, 3, 0}, {}), {"dimension 3 of 3 is 0"}},
      {good.substr(0, good.size() - 2), {"truncated data", "call for 12 bytes", "only 10"}},
      {good + "!", {"size mismatch", "1 more"}},
      {gzip(good).substr(0, 20), {"gzip stream is truncated"}},
      {gzip(good) + "garbage", {"follow the end of the gzip stream"}},
  };
  int k = 0;
  for (const auto& [bytes, needles] : broken) {
    const std::string path = dir_.write("broken" + std::to_string(k++), bytes);
    const CommandResult r =
        run_relustab("images --idx-images " + path + " --idx-labels " + labels_ + " " + task_args());
    EXPECT_EQ(r.exit_code, 2) << path << "\n" << r.err;
    EXPECT_NE(r.err.find("relustab: error: " + path + ": "), std::string::npos) << r.err;
    for (const std::string& needle : needles) EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_.file("train.csv")));
  }
  // A broken labels file, and labels that do not match the images.
  const std::string cut_labels = dir_.write("cut-labels", idx_ubyte({40}, std::vector<std::uint8_t>(39, 1)));
  expect_bad_input("images --idx-images " + images_ + " --idx-labels " + cut_labels + " " + task_args(),
                   {cut_labels, "truncated data"});
  const std::string few_labels = dir_.write("few-labels", idx_ubyte({39}, std::vector<std::uint8_t>(39, 1)));
  expect_bad_input("images --idx-images " + images_ + " --idx-labels " + few_labels + " " + task_args(),
                   {images_ + " has 40 images but " + few_labels + " has 39 labels", "expected one label per image"});
  expect_bad_input("images --idx-images " + labels_ + " --idx-labels " + labels_ + " " + task_args(),
                   {labels_, "expected 3 (images, rows, columns)"});
  const std::string bad_digits = dir_.write("digits.csv", "1,2,3\n");
  expect_bad_input("images --digits " + bad_digits + " " + task_args(), {bad_digits + ":1", "expected 65"});
}

TEST_F(ImagesCli, BadOptionsExitWithCode2) {
  const std::string source = "images --idx-images " + images_ + " --idx-labels " + labels_ + " ";
  const std::string out = " --out " + dir_.file("train.csv");
  expect_bad_input(source + "--classes 1,1 --n-train 4" + out, {"classes: expected two different labels"});
  expect_bad_input(source + "--classes 1,7 --n-train 4" + out, {"class_neg 7", "no image has it"});
  expect_bad_input(source + "--classes 1,0 --n-train 30" + out, {"has 10 images", "15 for training"});
  expect_bad_input(source + "--classes 1,0 --n-train 7 --n-val 8 --val-out " + dir_.file("val.csv") + out,
                   {"class_pos 1 has 10 images", "4 for training plus 8 for validation"});
  expect_bad_input(source + "--classes 1,0 --n-train 4 --val-out " + dir_.file("val.csv") + out + " --n-val x",
                   {"--n-val: expected"});
  expect_bad_input(source + "--classes 1,0 --n-train 4 --out " + dir_.file("train.npz"), {"expected a .csv file"});
  expect_bad_input(source + "--classes 1 --n-train 4" + out, {"--classes"});
  expect_bad_input(source + "--n-train 4" + out, {"--classes: expected two labels"});
  expect_bad_input("images --classes 1,0" + out, {"expected a data set"});
  expect_bad_input("images --idx-images " + images_ + " --classes 1,0" + out, {"--idx-labels"});
  expect_bad_input("images --idx-images " + dir_.file("missing") + " --idx-labels " + labels_ + out + " --classes 1,0",
                   {"missing", "cannot open"});
}

TEST_F(ImagesCli, InstalledFashionMnist) {
  try {
    (void)io::find_fashion_mnist();
  } catch (const InputError& e) {
    GTEST_SKIP() << e.what();
  }
  const CommandResult summary = run_relustab("images --fashion-mnist");
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("60000 images of 28 x 28 pixels (0..255)"), std::string::npos) << summary.out;
  for (int label = 0; label < 10; ++label) {
    EXPECT_NE(summary.out.find("class " + std::to_string(label) + ": 6000 images"), std::string::npos);
  }
  const CommandResult task = run_relustab("images --fashion-mnist --classes 0,6 --n-train 100 --center --n-val 30 "
                                          "--out " + dir_.file("train.csv") + " --val-out " + dir_.file("val.csv"));
  ASSERT_EQ(task.exit_code, 0) << task.err;
  const Dataset train = io::read_csv(dir_.file("train.csv"));
  EXPECT_EQ(train.n(), 100);
  EXPECT_EQ(train.dim(), 784);
  EXPECT_LT(train.X.colwise().mean().cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_EQ(io::read_csv(dir_.file("val.csv")).n(), 60);
  const CommandResult test_split = run_relustab("images --fashion-mnist --split test");
  EXPECT_NE(test_split.out.find("10000 images"), std::string::npos) << test_split.out << test_split.err;
}

TEST_F(ImagesCli, InstalledDigits) {
  try {
    (void)io::find_sklearn_digits();
  } catch (const InputError& e) {
    GTEST_SKIP() << e.what();
  }
  const CommandResult r = run_relustab("images --digits");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1797 images of 8 x 8 pixels (0..16)"), std::string::npos) << r.out;
  const CommandResult task = run_relustab("images --digits --classes 3,8 --n-train 50 --n-val all --out " +
                                          dir_.file("train.csv") + " --val-out " + dir_.file("val.csv"));
  ASSERT_EQ(task.exit_code, 0) << task.err;
  EXPECT_EQ(io::read_csv(dir_.file("val.csv")).n(), 183 + 174 - 50);
}

}  // namespace
}  // namespace relustab::test
