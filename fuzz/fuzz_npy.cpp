// SPDX-License-Identifier: MIT
// detail::parse_npy (the .npy decoder of the .npz reader). Properties: the value count is the product of
// the shape, and encode_npy -> parse_npy gives the same shape and the same values bit for bit.
#include <relustab/core/error.h>

#include "fuzz_common.h"
#include "npy.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace relustab;
  io::detail::NpyArray array;
  try {
    array = io::detail::parse_npy(fuzz::as_view(data, size), "fuzz.npy");
  } catch (const InputError&) {
    return 0;
  }
  std::int64_t count = 1;
  for (const std::int64_t extent : array.shape) {
    fuzz::check(extent >= 0, "parse_npy returned a negative extent");
    count *= extent;
  }
  fuzz::check(static_cast<std::size_t>(count) == array.values.size(),
              "parse_npy: value count differs from the product of the shape");
  fuzz::check(array.item_size == 4 || array.item_size == 8, "parse_npy: item size neither 4 nor 8");
  const io::detail::NpyArray again =
      io::detail::parse_npy(io::detail::encode_npy(array.shape, array.values), "round trip");
  fuzz::check(again.shape == array.shape && again.values.size() == array.values.size() &&
                  (array.values.empty() || std::memcmp(again.values.data(), array.values.data(),
                                                       sizeof(double) * array.values.size()) == 0),
              "encode_npy -> parse_npy changed the array");
  return 0;
}
