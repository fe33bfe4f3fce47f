// SPDX-License-Identifier: MIT
// io::parse_digits_csv (scikit-learn's digits, gzipped or not). Property: an accepted file is a valid
// image set of 8x8 images with pixels 0..16 and labels 0..9.
#include <relustab/core/error.h>
#include <relustab/io/idx.h>

#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace relustab;
  ImageSet set;
  try {
    set = io::parse_digits_csv(fuzz::as_view(data, size), "fuzz-digits.csv");
  } catch (const InputError&) {
    return 0;
  }
  try {
    validate_image_set(set);
  } catch (const InputError&) {
    fuzz::check(false, "parse_digits_csv returned an image set that validate_image_set rejects");
  }
  fuzz::check(set.image_rows == 8 && set.image_cols == 8 && set.max_value == 16.0,
              "parse_digits_csv: not 8x8 images of 0..16");
  fuzz::check(set.pixels.maxCoeff() <= 16, "parse_digits_csv: pixel outside 0..16");
  for (const int label : set.labels) fuzz::check(label >= 0 && label <= 9, "parse_digits_csv: label outside 0..9");
  return 0;
}
