// SPDX-License-Identifier: MIT
// relustab params: the keys an experiment file (or --set) accepts, with their types, defaults and help.
#include "commands.h"

#include <relustab/experiment/run_config.h>

#include <cstdio>
#include <string>

namespace relustab::cli {
namespace {

const char* type_name(ParamType type) {
  switch (type) {
    case ParamType::Int: return "int";
    case ParamType::UInt: return "uint";
    case ParamType::Double: return "float";
    case ParamType::Bool: return "bool";
    case ParamType::String: return "string";
  }
  return "?";
}

}  // namespace

Command add_params(CLI::App& app) {
  app.add_subcommand("params", "List the parameters of experiment files with types and defaults");
  return [] {
    const RunConfig defaults;
    std::printf("%-26s %-7s %-12s %s\n", "key", "type", "default", "meaning");
    for (const ParamSpec& spec : run_parameters()) {
      const std::string value = format_param_value(spec.get(defaults));
      std::printf("%-26s %-7s %-12s %s\n", std::string(spec.key).c_str(), type_name(spec.type),
                  value.empty() ? "\"\"" : value.c_str(), std::string(spec.help).c_str());
    }
  };
}

}  // namespace relustab::cli
