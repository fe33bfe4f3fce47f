// SPDX-License-Identifier: MIT
// Small helpers shared by the commands: JSON for reports, number formatting, terminal detection.
#pragma once

#include <relustab/api.h>
#include <relustab/core/error.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

namespace relustab::cli {

/// The help text of --backend (train, analyze).
inline constexpr const char* kBackendHelp =
    "auto (for the net's activation: ReLU nets on the sorted-knot 'univariate' for 1-d inputs, else "
    "'cpu'; GeLU nets on 'cpu-gelu'), cpu, univariate (ReLU), or cpu-gelu (GeLU); a back end of "
    "another activation than the net's is refused";
inline constexpr const char* kLossHelp =
    "the loss eta and the values refer to: half_mse (1/(2n) sum r^2, the papers') or mse (1/n sum "
    "r^2, torch.nn.MSELoss, Hessian twice as large: GD on mse at eta is GD on half_mse at 2 eta)";

/// Named metrics as one JSON object, in their order: numbers, integers, booleans and strings as
/// they are, an undefined (NaN) quantity as null. `relustab analyze --json` prints
/// analysis_metrics() this way (its keys are a stable contract, listed in README.md).
nlohmann::ordered_json metrics_to_json(const Metrics& metrics);

/// A finite double as JSON number, NaN as null (JSON has no NaN).
nlohmann::ordered_json number_or_null(double value);

/// True when standard error is a terminal (progress lines go there only then).
bool stderr_is_terminal();

}  // namespace relustab::cli

#include <CLI/CLI.hpp>

namespace relustab::cli {

/// CLI11 validator: a finite number > 0 (CLI::PositiveNumber lets NaN through).
inline const CLI::Validator kPositiveFinite(
    [](std::string& text) -> std::string {
      double value = 0.0;
      if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value) || value <= 0.0) {
        return "expected a finite number > 0, got '" + text + "'";
      }
      return {};
    },
    "POSITIVE");

/// CLI11 validator: a finite number >= 0.
inline const CLI::Validator kNonNegativeFinite(
    [](std::string& text) -> std::string {
      double value = 0.0;
      if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value) || value < 0.0) {
        return "expected a finite number >= 0, got '" + text + "'";
      }
      return {};
    },
    "NONNEGATIVE");

/// When the command line names an option its subcommand does not have: "train: unknown option
/// '--step' (did you mean '--eta' or '--steps'?)", suggesting the step size for its usual other
/// names (--step, --learning-rate, ...) and any option a few typing errors away. Empty when every
/// option is known (the parse error is then CLI11's own).
std::string unknown_option_message(CLI::App& app, int argc, const char* const* argv);

}  // namespace relustab::cli
