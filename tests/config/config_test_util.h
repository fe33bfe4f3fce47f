// SPDX-License-Identifier: MIT
// Shared oracles of the config tests: the default run's JSON written out by hand, and a field-by-field
// comparison of two RunConfigs that does not go through the parameter table.
#pragma once

#include <relustab/core/error.h>
#include <relustab/experiment/run_config.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

namespace relustab::test {

/// canonical_json(RunConfig{}) written by hand from the defaults in run_config.h: table order,
/// doubles in shortest round-trip form as std::to_chars writes them (1e-06, 1e+12, -1).
inline constexpr std::string_view kDefaultCanonicalJson =
    R"({"data.file":"","data.n":30,"data.dim":1,"data.inputs":"uniform","data.lo":-1,"data.hi":1,)"
    R"("data.target":"sin3","data.noise":0.3,"data.seed":0,"data.source":"generated",)"
    R"("data.idx_images":"","data.idx_labels":"","data.classes":"0,1","data.n_val":0,)"
    R"("data.center":false,"model.width":100,"model.init":"torch",)"
    R"("model.init_scale":1,"model.depth":1,"model.width2":0,"model.activation":"relu",)"
    R"("optim.optimizer":"gd","optim.fit_output":"none","optim.batch":0,"optim.eta":0.1,"optim.loss":"half_mse",)"
    R"("optim.warmup_from":0,)"
    R"("optim.warmup_steps":0,"optim.switch_factor":1,"optim.switch_below":0,"optim.max_steps":10000,)"
    R"("optim.loss_tol":1e-06,"optim.patience":200,"optim.divergence_loss":1e+12,)"
    R"("optim.grad_tol":0,"measure.log_every":0,"measure.log_growth":0,)"
    R"("measure.log_sharpness":false,"measure.final_analysis":true,)"
    R"("measure.save_net":true,"measure.flattest":false,"measure.alignment":false,"measure.kinks":false,)"
    R"("measure.knot_stats":false,"measure.interior_margin":0.1,"measure.grid_points":2001,)"
    R"("run.seed":0,"run.backend":"auto"})";

/// 64-bit FNV-1a, written again here (not the library's) as the oracle of run_key.
inline std::uint64_t reference_fnv1a_64(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;  // offset basis
  for (unsigned char byte : text) {
    hash ^= byte;
    hash *= 1099511628211ULL;  // FNV prime 2^40 + 2^8 + 0xb3
  }
  return hash;
}

inline std::string hex16(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i) {
    text[static_cast<std::size_t>(i)] = kDigits[value & 0xf];
    value >>= 4;
  }
  return text;
}

/// Every field of RunConfig compared directly (doubles exactly: parsing and setting do no arithmetic).
inline void expect_same_config(const RunConfig& actual, const RunConfig& expected) {
  EXPECT_EQ(actual.data_file, expected.data_file);
  EXPECT_EQ(actual.n, expected.n);
  EXPECT_EQ(actual.dim, expected.dim);
  EXPECT_EQ(actual.inputs, expected.inputs);
  EXPECT_EQ(actual.lo, expected.lo);
  EXPECT_EQ(actual.hi, expected.hi);
  EXPECT_EQ(actual.target, expected.target);
  EXPECT_EQ(actual.noise, expected.noise);
  EXPECT_EQ(actual.data_seed, expected.data_seed);
  EXPECT_EQ(actual.width, expected.width);
  EXPECT_EQ(actual.init, expected.init);
  EXPECT_EQ(actual.init_scale, expected.init_scale);
  EXPECT_EQ(actual.batch, expected.batch);
  EXPECT_EQ(actual.eta, expected.eta);
  EXPECT_EQ(actual.warmup_from, expected.warmup_from);
  EXPECT_EQ(actual.warmup_steps, expected.warmup_steps);
  EXPECT_EQ(actual.switch_factor, expected.switch_factor);
  EXPECT_EQ(actual.switch_below, expected.switch_below);
  EXPECT_EQ(actual.max_steps, expected.max_steps);
  EXPECT_EQ(actual.loss_tol, expected.loss_tol);
  EXPECT_EQ(actual.patience, expected.patience);
  EXPECT_EQ(actual.divergence_loss, expected.divergence_loss);
  EXPECT_EQ(actual.grad_tol, expected.grad_tol);
  EXPECT_EQ(actual.log_growth, expected.log_growth);
  EXPECT_EQ(actual.log_every, expected.log_every);
  EXPECT_EQ(actual.log_sharpness, expected.log_sharpness);
  EXPECT_EQ(actual.final_analysis, expected.final_analysis);
  EXPECT_EQ(actual.save_net, expected.save_net);
  EXPECT_EQ(actual.flattest, expected.flattest);
  EXPECT_EQ(actual.kinks, expected.kinks);
  EXPECT_EQ(actual.knot_stats, expected.knot_stats);
  EXPECT_EQ(actual.interior_margin, expected.interior_margin);
  EXPECT_EQ(actual.grid_points, expected.grid_points);
  EXPECT_EQ(actual.seed, expected.seed);
}

/// Runs `body`, which must throw InputError, and returns its message (empty and a failure if not).
template <class Body>
std::string input_error_message(Body&& body) {
  try {
    body();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InputError, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected InputError, nothing was thrown";
  return {};
}

}  // namespace relustab::test
