// SPDX-License-Identifier: MIT
#include "common.h"

#include <relustab/core/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <type_traits>
#include <vector>
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

namespace {

/// Other names people give the step size (what PyTorch, optax and papers call it).
constexpr std::array<std::string_view, 9> kStepSizeNames = {
    "step", "step-size", "step_size", "stepsize", "learning-rate", "learning_rate", "learningrate",
    "alpha", "eta0"};

}  // namespace

std::string unknown_option_message(CLI::App& app, int argc, const char* const* argv) {
  if (argc < 2) return {};
  CLI::App* sub = nullptr;
  for (CLI::App* candidate : app.get_subcommands([](CLI::App*) { return true; })) {
    if (candidate->get_name() == argv[1]) sub = candidate;
  }
  if (sub == nullptr) return {};
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 3 || arg.substr(0, 2) != "--") continue;
    const std::string name(arg.substr(0, arg.find('=')));
    if (sub->get_option_no_throw(name) != nullptr) continue;
    std::vector<std::string> suggestions;
    const std::string bare = name.substr(2);
    if (std::find(kStepSizeNames.begin(), kStepSizeNames.end(), bare) != kStepSizeNames.end() &&
        sub->get_option_no_throw("--eta") != nullptr) {
      suggestions.push_back("--eta");
    }
    // A typo: options within a third of the name's length (at least one edit, at most three).
    const std::size_t allowed = std::clamp<std::size_t>(bare.size() / 3, 1, 3);
    for (const CLI::Option* option : sub->get_options()) {
      for (const std::string& long_name : option->get_lnames()) {
        const std::string candidate = "--" + long_name;
        if (edit_distance(name, candidate) <= allowed &&
            std::find(suggestions.begin(), suggestions.end(), candidate) == suggestions.end()) {
          suggestions.push_back(candidate);
        }
      }
    }
    std::string message = sub->get_name() + ": unknown option '" + name + "'";
    for (std::size_t s = 0; s < suggestions.size(); ++s) {
      message += s == 0 ? " (did you mean '" : (s + 1 == suggestions.size() ? " or '" : ", '");
      message += suggestions[s] + "'";
    }
    if (!suggestions.empty()) message += "?)";
    return message + "; see 'relustab " + sub->get_name() + " --help'";
  }
  return {};
}

}  // namespace relustab::cli
