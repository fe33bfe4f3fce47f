// SPDX-License-Identifier: MIT
// The device a computation runs on. Only the CPU exists today; the enum is the seam where a GPU back
// end slots in (a RunContext names its device, make_backend refuses a back end of another one).
#pragma once

#include <string>
#include <string_view>

namespace relustab {

enum class Device { Cpu };

/// "cpu". Any value outside the enum (a cast from a wider integer) prints as "device <number>".
std::string device_name(Device device);

/// The device named `name` ("cpu"); InputError naming the devices known otherwise.
Device parse_device(std::string_view name);

}  // namespace relustab
