// SPDX-License-Identifier: MIT
// io::parse_net_json. Property: an accepted network is finite and survives net_to_json -> parse_net_json
// bit for bit (the format promises exact round trips).
#include <relustab/core/error.h>
#include <relustab/io/formats.h>

#include "fuzz_common.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace relustab;
  const std::string text(fuzz::as_view(data, size));
  ShallowReluNet net;
  try {
    net = io::parse_net_json(text, "fuzz.json");
  } catch (const InputError&) {
    return 0;
  }
  fuzz::check(net.input_dim() >= 1 && net.width() >= 1, "parse_net_json returned an empty network");
  fuzz::check(net.theta().allFinite(), "parse_net_json returned non-finite parameters");
  const ShallowReluNet again = io::parse_net_json(io::net_to_json(net), "round trip");
  fuzz::check(again.input_dim() == net.input_dim() && again.width() == net.width() &&
                  again.activation() == net.activation(),
              "net_to_json -> parse_net_json changed the shape or activation");
  fuzz::check(std::memcmp(again.theta().data(), net.theta().data(),
                          sizeof(double) * static_cast<std::size_t>(net.n_params())) == 0,
              "net_to_json -> parse_net_json changed a parameter");
  return 0;
}
