// SPDX-License-Identifier: MIT
#include "common.h"

#include <cmath>

#include <unistd.h>

namespace relustab::cli {

nlohmann::ordered_json number_or_null(double value) {
  if (std::isfinite(value)) return value;
  return nullptr;
}

namespace {

/// A count, or null where it is left out (< 0).
nlohmann::ordered_json count_or_null(Index count) {
  if (count >= 0) return count;
  return nullptr;
}

}  // namespace

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

nlohmann::ordered_json report_to_json(const StabilityReport& r) {
  nlohmann::ordered_json j;
  j["n"] = r.n;
  j["input_dim"] = r.input_dim;
  j["width"] = r.width;
  j["activation"] = std::string(activation_name(r.activation));
  j["loss"] = r.loss;
  j["mse_clean"] = number_or_null(r.mse_clean);
  j["sharpness"] = r.sharpness.value;
  j["sharpness_residual"] = r.sharpness.residual;
  j["sharpness_converged"] = r.sharpness.converged;
  j["gn_sharpness"] = r.gn_sharpness.value;
  j["gn_sharpness_residual"] = r.gn_sharpness.residual;
  j["gn_sharpness_converged"] = r.gn_sharpness.converged;
  j["weighted_tv"] = number_or_null(r.weighted_tv);
  // The ReLU-theory quantities are null for other activations (StabilityReport).
  j["weighted_norm"] = number_or_null(r.weighted_norm);
  j["lemma4_bound"] = number_or_null(r.lemma4_bound);
  j["per_implementation_bound"] = number_or_null(r.per_implementation_bound);
  j["knots"] = count_or_null(r.knots);
  j["effective_knots"] = count_or_null(r.effective_knots);
  j["effective_knots_weighted"] = count_or_null(r.effective_knots_weighted);
  j["neurons_on_data"] = count_or_null(r.neurons_on_data);
  j["dead_neurons"] = count_or_null(r.dead_neurons);
  j["max_abs_x"] = r.max_abs_x;
  if (r.eta) {
    j["eta"] = *r.eta;
    j["two_over_eta"] = r.two_over_eta;
    j["thm1_rhs"] = number_or_null(r.thm1_rhs);
    j["stable"] = r.stable;
    j["edge_ratio"] = r.edge_ratio;
    j["edge_tolerance"] = r.edge_tolerance;
    j["stability"] = std::string(stability_name(r.stability));
    j["noninterpolating_bound"] = number_or_null(r.noninterpolating_bound);
    j["thm2_delta"] = number_or_null(r.thm2_delta);
  }
  return j;
}

void add_flattest_json(nlohmann::ordered_json& json, const FlattestResult& flattest) {
  json["flattest_sharpness"] = flattest.sharpness;
  json["flattest_lower_bound"] = flattest.lower_bound;
  json["flattest_iterations"] = flattest.iterations;
  json["flattest_converged"] = flattest.converged;
}

void add_flattest_all_json(nlohmann::ordered_json& json, const FlattestAllResult& flattest) {
  json["flattest_all_sharpness"] = flattest.sharpness;
  json["flattest_all_lower_bound"] = flattest.lower_bound;
  json["flattest_all_certified"] = flattest.certified;
  json["flattest_all_neurons"] = flattest.neurons;
  json["flattest_all_extra_neurons"] = flattest.extra_neurons;
  json["flattest_all_split_knots"] = flattest.split_knots;
}

}  // namespace relustab::cli
