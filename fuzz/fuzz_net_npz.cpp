// SPDX-License-Identifier: MIT
// io::read_net_npz (the network .npz reader: ZIP container, four .npy members, shape checks). It reads
// a path only, so each input is written to a file in the harness's own temporary directory first.
// Properties: an accepted network is finite and survives write_net_npz -> read_net_npz bit for bit.
#include <relustab/core/error.h>
#include <relustab/io/formats.h>

#include "fuzz_common.h"
#include "temp_dir.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace relustab;
  static const std::string input = (fuzz::temp_dir() / "input.npz").string();
  static const std::string output = (fuzz::temp_dir() / "output.npz").string();
  fuzz::write_temp("input.npz", fuzz::as_view(data, size));
  ShallowReluNet net;
  try {
    net = io::read_net_npz(input);
  } catch (const InputError&) {
    return 0;
  }
  fuzz::check(net.input_dim() >= 1 && net.width() >= 1, "read_net_npz returned an empty network");
  fuzz::check(net.theta().allFinite(), "read_net_npz returned non-finite parameters");
  io::write_net_npz(output, net);
  const ShallowReluNet again = io::read_net_npz(output);
  fuzz::check(again.input_dim() == net.input_dim() && again.width() == net.width(),
              "write_net_npz -> read_net_npz changed the shape");
  fuzz::check(std::memcmp(again.theta().data(), net.theta().data(),
                          sizeof(double) * static_cast<std::size_t>(net.n_params())) == 0,
              "write_net_npz -> read_net_npz changed a parameter");
  return 0;
}
