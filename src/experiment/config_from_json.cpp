// SPDX-License-Identifier: MIT
// Reading a run's canonical JSON back into a RunConfig through the parameter table.
#include "config_from_json.h"

#include <relustab/core/error.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>

namespace relustab::detail {
namespace {

ParamValue to_param_value(const ParamSpec& spec, const nlohmann::json& value) {
  const std::string key(spec.key);
  switch (spec.type) {
    case ParamType::Int:
    case ParamType::UInt:
      if (value.is_number_unsigned()) {
        const auto unsigned_value = value.get<std::uint64_t>();
        require(unsigned_value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
                key + ": integer out of range in the run configuration");
        return static_cast<std::int64_t>(unsigned_value);
      }
      require(value.is_number_integer(), key + ": expected an integer in the run configuration");
      return value.get<std::int64_t>();
    case ParamType::Double:
      require(value.is_number(), key + ": expected a number in the run configuration");
      // Integers below 2^53 (all a canonical writer may print without a fraction) convert exactly.
      return value.get<double>();
    case ParamType::Bool:
      require(value.is_boolean(), key + ": expected true or false in the run configuration");
      return value.get<bool>();
    case ParamType::String:
      require(value.is_string(), key + ": expected a string in the run configuration");
      return value.get<std::string>();
  }
  throw InputError(key + ": parameter of unknown type");
}

void read_object(RunConfig& config, const nlohmann::json& object, const std::string& prefix) {
  for (const auto& [name, value] : object.items()) {
    const std::string key = prefix.empty() ? name : prefix + "." + name;
    if (value.is_object()) {
      read_object(config, value, key);
      continue;
    }
    const ParamSpec* spec = find_parameter(key);
    require(spec != nullptr, key + ": unknown parameter in the run configuration");
    spec->set(config, to_param_value(*spec, value));
  }
}

}  // namespace

RunConfig config_from_json(const std::string& json) {
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("run configuration: not valid JSON (") + e.what() + ")");
  }
  require(parsed.is_object(), "run configuration: expected a JSON object");
  RunConfig config;
  read_object(config, parsed, "");
  return config;
}

}  // namespace relustab::detail
