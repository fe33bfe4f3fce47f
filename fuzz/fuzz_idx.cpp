// SPDX-License-Identifier: MIT
// The IDX readers on the same bytes (plain or gzipped): parse_idx, parse_idx_images and
// parse_idx_labels. Properties: the value count is the product of the dims, images have
// rows*cols pixels each (pixels are bytes, so 0..255 by type), labels are >= 0.
#include <relustab/core/error.h>
#include <relustab/io/idx.h>

#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace relustab;
  const std::string_view bytes = fuzz::as_view(data, size);
  try {
    const io::IdxArray array = io::parse_idx(bytes, "fuzz.idx");
    fuzz::check(!array.dims.empty(), "parse_idx returned no dims");
    std::int64_t count = 1;
    for (const std::int64_t dim : array.dims) {
      fuzz::check(dim >= 1, "parse_idx returned a dim < 1");
      count *= dim;
    }
    fuzz::check(count == array.size(), "parse_idx: value count differs from the product of the dims");
  } catch (const InputError&) {
  }
  try {
    const ImageSet images = io::parse_idx_images(bytes, "fuzz-images.idx");
    fuzz::check(images.n() >= 1 && images.image_rows * images.image_cols == images.pixels_per_image(),
                "parse_idx_images: inconsistent image size");
    fuzz::check(images.labels.empty(), "parse_idx_images returned labels");
  } catch (const InputError&) {
  }
  try {
    for (const int label : io::parse_idx_labels(bytes, "fuzz-labels.idx")) {
      fuzz::check(label >= 0, "parse_idx_labels returned a negative label");
    }
  } catch (const InputError&) {
  }
  return 0;
}
