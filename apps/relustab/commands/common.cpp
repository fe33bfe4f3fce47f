// SPDX-License-Identifier: MIT
#include "common.h"

#include <cmath>
#include <type_traits>
#include <variant>

#include <unistd.h>

namespace relustab::cli {

nlohmann::ordered_json number_or_null(double value) {
  if (std::isfinite(value)) return value;
  return nullptr;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

nlohmann::ordered_json metrics_to_json(const Metrics& metrics) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const Metric& metric : metrics) {
    std::visit(
        [&](const auto& value) {
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, double>) {
            json[metric.name] = number_or_null(value);
          } else {
            json[metric.name] = value;
          }
        },
        metric.value);
  }
  return json;
}

}  // namespace relustab::cli
