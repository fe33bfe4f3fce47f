// SPDX-License-Identifier: MIT
#include <relustab/core/device.h>

#include <relustab/core/error.h>

namespace relustab {

std::string device_name(Device device) {
  switch (device) {
    case Device::Cpu:
      return "cpu";
  }
  return "device " + std::to_string(static_cast<int>(device));
}

Device parse_device(std::string_view name) {
  if (name == "cpu") return Device::Cpu;
  throw InputError("device: unknown device '" + std::string(name) + "'; known: cpu");
}

}  // namespace relustab
