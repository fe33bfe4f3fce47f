// SPDX-License-Identifier: MIT
// io::parse_csv, the reader behind read_csv. Property: an accepted file is a valid data set.
#include <relustab/core/error.h>
#include <relustab/io/formats.h>

#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace relustab;
  const std::string text(fuzz::as_view(data, size));
  Dataset set;
  try {
    set = io::parse_csv(text, "fuzz.csv");
  } catch (const InputError&) {
    return 0;
  }
  try {
    validate_dataset(set, "fuzz.csv");
  } catch (const InputError&) {
    fuzz::check(false, "parse_csv returned a data set that validate_dataset rejects");
  }
  fuzz::check(set.n() >= 1 && set.dim() >= 1, "parse_csv returned an empty data set");
  return 0;
}
