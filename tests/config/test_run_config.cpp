// SPDX-License-Identifier: MIT
// The parameter table (keys, fields, range checks), canonical JSON and run keys.
#include "config/config_test_util.h"

#include <relustab/core/error.h>
#include <relustab/experiment/run_config.h>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace relustab {
namespace {

using test::expect_same_config;
using test::input_error_message;
using test::kDefaultCanonicalJson;

/// The keys of the brief, in table order, with their types.
const std::vector<std::pair<std::string, ParamType>> kExpectedKeys = {
    {"data.file", ParamType::String},          {"data.n", ParamType::Int},
    {"data.dim", ParamType::Int},              {"data.inputs", ParamType::String},
    {"data.lo", ParamType::Double},            {"data.hi", ParamType::Double},
    {"data.target", ParamType::String},        {"data.noise", ParamType::Double},
    {"data.seed", ParamType::UInt},            {"data.source", ParamType::String},
    {"data.idx_images", ParamType::String},    {"data.idx_labels", ParamType::String},
    {"data.classes", ParamType::String},       {"data.n_val", ParamType::Int},
    {"data.center", ParamType::Bool},          {"model.width", ParamType::Int},
    {"model.init", ParamType::String},         {"model.init_scale", ParamType::Double},
    {"model.depth", ParamType::Int},           {"model.width2", ParamType::Int},
    {"model.activation", ParamType::String},   {"optim.optimizer", ParamType::String},
    {"optim.fit_output", ParamType::String},   {"optim.batch", ParamType::Int},           {"optim.eta", ParamType::Double},
    {"optim.loss", ParamType::String},          {"optim.warmup_from", ParamType::Double},   {"optim.warmup_steps", ParamType::Int},
    {"optim.switch_factor", ParamType::Double}, {"optim.switch_below", ParamType::Double},
    {"optim.max_steps", ParamType::Int},       {"optim.loss_tol", ParamType::Double},
    {"optim.patience", ParamType::Int},        {"optim.divergence_loss", ParamType::Double},
    {"optim.grad_tol", ParamType::Double},     {"measure.log_every", ParamType::Int},
    {"measure.log_growth", ParamType::Double}, {"measure.log_sharpness", ParamType::Bool},
    {"measure.final_analysis", ParamType::Bool}, {"measure.save_net", ParamType::Bool},
    {"measure.flattest", ParamType::Bool},     {"measure.alignment", ParamType::Bool},
    {"measure.kinks", ParamType::Bool},
    {"measure.knot_stats", ParamType::Bool},   {"measure.interior_margin", ParamType::Double},
    {"measure.grid_points", ParamType::Int},   {"measure.top_k", ParamType::Int},
    {"measure.lambda_min", ParamType::Bool},   {"measure.trace_samples", ParamType::Int},
    {"measure.spectrum_seed", ParamType::UInt}, {"run.seed", ParamType::UInt},
    {"run.backend", ParamType::String},
};

TEST(ParameterTable, HasEveryKeyInOrderWithItsType) {
  const auto table = run_parameters();
  ASSERT_EQ(table.size(), kExpectedKeys.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(table[i].key, kExpectedKeys[i].first);
    EXPECT_EQ(table[i].type, kExpectedKeys[i].second) << table[i].key;
    EXPECT_FALSE(table[i].help.empty()) << table[i].key;
    EXPECT_EQ(find_parameter(kExpectedKeys[i].first), &table[i]);
  }
  EXPECT_EQ(find_parameter("optim.etaa"), nullptr);
  EXPECT_EQ(find_parameter("eta"), nullptr);
}

/// One setter case: key, a valid non-default value, and the field read directly.
struct FieldCase {
  std::string key;
  ParamValue value;
  std::function<ParamValue(const RunConfig&)> field;
};

std::vector<FieldCase> field_cases() {
  using V = ParamValue;
  using I = std::int64_t;
  return {
      {"data.file", V(std::string("d.csv")), [](const RunConfig& c) { return V(c.data_file); }},
      {"data.n", V(I{17}), [](const RunConfig& c) { return V(c.n); }},
      {"data.dim", V(I{3}), [](const RunConfig& c) { return V(c.dim); }},
      {"data.inputs", V(std::string("laplace")), [](const RunConfig& c) { return V(std::string(c.inputs == InputLaw::Laplace ? "laplace" : "?")); }},
      {"data.lo", V(-2.5), [](const RunConfig& c) { return V(c.lo); }},
      {"data.hi", V(3.25), [](const RunConfig& c) { return V(c.hi); }},
      {"data.target", V(std::string("linear")), [](const RunConfig& c) { return V(std::string(c.target == Target::Kind::LinearTeacher ? "linear" : "?")); }},
      {"data.noise", V(0.05), [](const RunConfig& c) { return V(c.noise); }},
      {"data.seed", V(I{12345}), [](const RunConfig& c) { return V(static_cast<I>(c.data_seed)); }},
      {"data.source", V(std::string("digits")), [](const RunConfig& c) { return V(std::string(c.source == DataSource::Digits ? "digits" : "?")); }},
      {"data.idx_images", V(std::string("i.gz")), [](const RunConfig& c) { return V(c.idx_images); }},
      {"data.idx_labels", V(std::string("l.gz")), [](const RunConfig& c) { return V(c.idx_labels); }},
      {"data.classes", V(std::string("3,8")), [](const RunConfig& c) { return V(std::string(c.classes == (ClassPair{3, 8}) ? "3,8" : "?")); }},
      {"data.n_val", V(I{40}), [](const RunConfig& c) { return V(c.n_val); }},
      {"data.center", V(true), [](const RunConfig& c) { return V(c.center); }},
      {"model.width", V(I{7}), [](const RunConfig& c) { return V(c.width); }},
      {"model.init", V(std::string("balanced")), [](const RunConfig& c) { return V(std::string(c.init == InitScheme::Balanced ? "balanced" : "?")); }},
      {"model.init_scale", V(0.01), [](const RunConfig& c) { return V(c.init_scale); }},
      {"model.depth", V(I{2}), [](const RunConfig& c) { return V(c.depth); }},
      {"model.width2", V(I{5}), [](const RunConfig& c) { return V(c.width2); }},
      {"model.activation", V(std::string("gelu")), [](const RunConfig& c) { return V(std::string(c.activation == Activation::Gelu ? "gelu" : "?")); }},
      {"optim.optimizer", V(std::string("adam")), [](const RunConfig& c) { return V(std::string(c.optimizer == Optimizer::Adam ? "adam" : "?")); }},
      {"optim.fit_output", V(std::string("min_norm")), [](const RunConfig& c) { return V(std::string(c.fit_output == OutputLayerFit::MinNorm ? "min_norm" : "?")); }},
      {"optim.batch", V(I{8}), [](const RunConfig& c) { return V(c.batch); }},
      {"optim.eta", V(0.375), [](const RunConfig& c) { return V(c.eta); }},
      {"optim.loss", V(std::string("mse")), [](const RunConfig& c) { return V(std::string(loss_name(c.loss))); }},
      {"optim.warmup_from", V(0.001), [](const RunConfig& c) { return V(c.warmup_from); }},
      {"optim.warmup_steps", V(I{50}), [](const RunConfig& c) { return V(c.warmup_steps); }},
      {"optim.switch_factor", V(3.0), [](const RunConfig& c) { return V(c.switch_factor); }},
      {"optim.switch_below", V(0.02), [](const RunConfig& c) { return V(c.switch_below); }},
      {"optim.max_steps", V(I{123}), [](const RunConfig& c) { return V(c.max_steps); }},
      {"optim.loss_tol", V(1e-9), [](const RunConfig& c) { return V(c.loss_tol); }},
      {"optim.patience", V(I{5}), [](const RunConfig& c) { return V(c.patience); }},
      {"optim.divergence_loss", V(1e6), [](const RunConfig& c) { return V(c.divergence_loss); }},
      {"optim.grad_tol", V(1e-9), [](const RunConfig& c) { return V(c.grad_tol); }},
      {"measure.log_every", V(I{10}), [](const RunConfig& c) { return V(c.log_every); }},
      {"measure.log_growth", V(1.25), [](const RunConfig& c) { return V(c.log_growth); }},
      {"measure.log_sharpness", V(true), [](const RunConfig& c) { return V(c.log_sharpness); }},
      {"measure.final_analysis", V(false), [](const RunConfig& c) { return V(c.final_analysis); }},
      {"measure.save_net", V(false), [](const RunConfig& c) { return V(c.save_net); }},
      {"measure.flattest", V(true), [](const RunConfig& c) { return V(c.flattest); }},
      {"measure.alignment", V(true), [](const RunConfig& c) { return V(c.alignment); }},
      {"measure.kinks", V(true), [](const RunConfig& c) { return V(c.kinks); }},
      {"measure.knot_stats", V(true), [](const RunConfig& c) { return V(c.knot_stats); }},
      {"measure.interior_margin", V(0.25), [](const RunConfig& c) { return V(c.interior_margin); }},
      {"measure.grid_points", V(I{501}), [](const RunConfig& c) { return V(c.grid_points); }},
      {"measure.top_k", V(I{4}), [](const RunConfig& c) { return V(c.spectrum_top_k); }},
      {"measure.lambda_min", V(true), [](const RunConfig& c) { return V(c.spectrum_lambda_min); }},
      {"measure.trace_samples", V(I{64}), [](const RunConfig& c) { return V(c.trace_samples); }},
      {"measure.spectrum_seed", V(I{17}), [](const RunConfig& c) { return V(static_cast<I>(c.spectrum_seed)); }},
      {"run.seed", V(I{99}), [](const RunConfig& c) { return V(static_cast<I>(c.seed)); }},
      {"run.backend", V(std::string("cpu")), [](const RunConfig& c) { return V(c.backend); }},
  };
}

TEST(ParameterTable, EachSetterWritesItsOwnFieldAndGetterReadsIt) {
  const auto cases = field_cases();
  ASSERT_EQ(cases.size(), run_parameters().size());
  for (const FieldCase& c : cases) {
    const ParamSpec* spec = find_parameter(c.key);
    ASSERT_NE(spec, nullptr) << c.key;
    RunConfig config;
    spec->set(config, c.value);
    EXPECT_EQ(c.field(config), c.value) << c.key;
    EXPECT_EQ(spec->get(config), c.value) << c.key;
    // Every other parameter keeps its default: only this key's entry of the JSON changed.
    const RunConfig defaults;
    for (const ParamSpec& other : run_parameters()) {
      if (other.key != c.key) {
        EXPECT_EQ(other.get(config), other.get(defaults)) << c.key << " -> " << other.key;
      }
    }
  }
}

TEST(ParameterTable, IntegerIsAcceptedForADouble) {
  RunConfig config;
  find_parameter("optim.eta")->set(config, ParamValue(std::int64_t{2}));
  EXPECT_EQ(config.eta, 2.0);
}

TEST(ParameterTable, WrongTypesNameTheKeyAndBothTypes) {
  RunConfig config;
  const auto message = [&](const char* key, ParamValue value) {
    return input_error_message([&] { find_parameter(key)->set(config, value); });
  };
  EXPECT_EQ(message("model.width", ParamValue(1.5)), "key 'model.width' expects an integer, got float");
  EXPECT_EQ(message("model.width", ParamValue(std::string("100"))),
            "key 'model.width' expects an integer, got string");
  EXPECT_EQ(message("optim.eta", ParamValue(true)), "key 'optim.eta' expects a number, got boolean");
  EXPECT_EQ(message("measure.save_net", ParamValue(std::int64_t{1})),
            "key 'measure.save_net' expects a boolean, got integer");
  EXPECT_EQ(message("model.init", ParamValue(std::int64_t{3})),
            "key 'model.init' expects a string, got integer");
  EXPECT_EQ(message("run.seed", ParamValue(0.0)), "key 'run.seed' expects an integer, got float");
  expect_same_config(config, RunConfig{});  // a rejected value leaves the config as it was
}

TEST(ParameterTable, OutOfRangeValuesAreRejectedNamingTheKey) {
  using V = ParamValue;
  using I = std::int64_t;
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::pair<std::string, ParamValue>> bad = {
      {"data.n", V(I{0})},
      {"data.dim", V(I{0})},
      {"data.inputs", V(std::string("uniformm"))},
      {"data.lo", V(-inf)},
      {"data.hi", V(nan)},
      {"data.target", V(std::string("sine"))},
      {"data.target", V(std::string("table"))},
      {"data.noise", V(-0.1)},
      {"data.seed", V(I{-1})},
      {"model.width", V(I{0})},
      {"model.width", V(I{-3})},
      {"model.init", V(std::string("he"))},
      {"model.init_scale", V(0.0)},
      {"optim.batch", V(I{-1})},
      {"optim.eta", V(0.0)},
      {"optim.eta", V(-0.5)},
      {"optim.eta", V(inf)},
      {"optim.eta", V(nan)},
      {"optim.warmup_from", V(-1e-3)},
      {"optim.warmup_steps", V(I{-1})},
      {"optim.switch_factor", V(0.0)},
      {"optim.switch_below", V(-1.0)},
      {"optim.max_steps", V(I{-1})},
      {"optim.loss_tol", V(-1e-9)},
      {"optim.patience", V(I{0})},
      {"optim.divergence_loss", V(0.0)},
      {"optim.divergence_loss", V(inf)},
      {"optim.grad_tol", V(-1e-9)},
      {"optim.grad_tol", V(nan)},
      {"measure.log_every", V(I{-10})},
      {"run.seed", V(I{-5})},
  };
  for (const auto& [key, value] : bad) {
    RunConfig config;
    const std::string message =
        input_error_message([&, &key = key, &value = value] { find_parameter(key)->set(config, value); });
    EXPECT_NE(message.find("key '" + key + "'"), std::string::npos) << key << ": " << message;
    expect_same_config(config, RunConfig{});
  }
  // The message says what was expected and what was given.
  RunConfig config;
  EXPECT_EQ(input_error_message([&] { find_parameter("optim.eta")->set(config, V(-0.5)); }),
            "key 'optim.eta' expects a finite number > 0, got -0.5");
  EXPECT_EQ(input_error_message([&] { find_parameter("data.n")->set(config, V(I{0})); }),
            "key 'data.n' expects an integer >= 1, got 0");
}

TEST(ParameterTable, BoundaryValuesAreAccepted) {
  RunConfig config;
  find_parameter("data.noise")->set(config, ParamValue(0.0));
  find_parameter("optim.batch")->set(config, ParamValue(std::int64_t{0}));
  find_parameter("optim.max_steps")->set(config, ParamValue(std::int64_t{0}));
  find_parameter("optim.patience")->set(config, ParamValue(std::int64_t{1}));
  find_parameter("data.n")->set(config, ParamValue(std::int64_t{1}));
  find_parameter("optim.eta")->set(config, ParamValue(std::numeric_limits<double>::denorm_min()));
  EXPECT_EQ(config.noise, 0.0);
  EXPECT_EQ(config.max_steps, 0);
  EXPECT_EQ(config.patience, 1);
  EXPECT_EQ(config.eta, std::numeric_limits<double>::denorm_min());
}

TEST(CanonicalJson, DefaultConfigMatchesTheHandWrittenText) {
  EXPECT_EQ(canonical_json(RunConfig{}), kDefaultCanonicalJson);
}

TEST(CanonicalJson, ReferenceFnvMatchesPublishedVectors) {
  // Test vectors of the FNV reference suite (Fowler, Noll, Vo): check the test's own oracle first.
  EXPECT_EQ(test::reference_fnv1a_64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(test::reference_fnv1a_64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(test::reference_fnv1a_64("foobar"), 0x85944171f73967e8ULL);
}

TEST(CanonicalJson, RunKeyIsFnv1aOfTheJsonInSixteenHexDigits) {
  const std::string expected = test::hex16(test::reference_fnv1a_64(kDefaultCanonicalJson));
  EXPECT_EQ(run_key(RunConfig{}), expected);
  RunConfig config;
  config.eta = 0.25;
  config.seed = 7;
  EXPECT_EQ(run_key(config), test::hex16(test::reference_fnv1a_64(canonical_json(config))));
  EXPECT_EQ(run_key(config).size(), 16u);
}

TEST(CanonicalJson, DoublesAreShortestRoundTrip) {
  // (value, the shortest decimal that reads back to it, as std::to_chars spells it)
  const std::vector<std::pair<double, std::string>> cases = {
      {0.1, "0.1"},
      {1.0 / 3.0, "0.3333333333333333"},
      {-2.5e-7, "-2.5e-07"},
      {1e300, "1e+300"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {123456789.125, "123456789.125"},
      {-1.0, "-1"},
      {0.1 + 0.2, "0.30000000000000004"},
  };
  for (const auto& [value, text] : cases) {
    RunConfig config;
    config.lo = value;
    const std::string json = canonical_json(config);
    const std::string field = "\"data.lo\":" + text + ",";
    EXPECT_NE(json.find(field), std::string::npos) << json;
    // And the text reads back to the same bits.
    EXPECT_EQ(std::bit_cast<std::uint64_t>(std::strtod(text.c_str(), nullptr)),
              std::bit_cast<std::uint64_t>(value));
  }
}

TEST(CanonicalJson, NegativeZeroIsWrittenAsZero) {
  RunConfig positive, negative;
  positive.lo = 0.0;
  negative.lo = -0.0;
  EXPECT_EQ(canonical_json(positive), canonical_json(negative));
  EXPECT_NE(canonical_json(positive).find("\"data.lo\":0,"), std::string::npos);
}

TEST(CanonicalJson, StringsAreEscaped) {
  RunConfig config;
  config.data_file = std::string("a\"b\\c\nd\te") + '\x01' + "\xc3\xa9";
  const std::string json = canonical_json(config);
  EXPECT_EQ(json.substr(0, json.find(",\"data.n\"")),
            "{\"data.file\":\"a\\\"b\\\\c\\nd\\te\\u0001\xc3\xa9\"");
}

TEST(CanonicalJson, UnsignedSeedsAboveInt64AreWrittenUnsigned) {
  RunConfig config;
  config.seed = std::numeric_limits<std::uint64_t>::max();
  EXPECT_NE(canonical_json(config).find("\"run.seed\":18446744073709551615,"), std::string::npos);
  EXPECT_NO_THROW(validate_run_config(config));
}

TEST(CanonicalJson, EqualConfigsGiveEqualKeys) {
  RunConfig a, b;
  a.eta = b.eta = 0.05;
  a.target = b.target = Target::Kind::Abs;
  EXPECT_EQ(canonical_json(a), canonical_json(b));
  EXPECT_EQ(run_key(a), run_key(b));
}

TEST(CanonicalJson, AnySingleChangeChangesJsonAndKey) {
  const RunConfig defaults;
  const std::string default_json = canonical_json(defaults);
  const std::string default_key = run_key(defaults);
  std::set<std::string> keys = {default_key};
  for (const FieldCase& c : field_cases()) {
    RunConfig config;
    find_parameter(c.key)->set(config, c.value);
    EXPECT_NE(canonical_json(config), default_json) << c.key;
    EXPECT_NE(run_key(config), default_key) << c.key;
    keys.insert(run_key(config));
  }
  EXPECT_EQ(keys.size(), field_cases().size() + 1);  // all distinct
  // Many seeds: no collisions among 2000 keys (a 64-bit hash collides with probability ~1e-13).
  std::set<std::string> seed_keys;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    RunConfig config;
    config.seed = seed;
    seed_keys.insert(run_key(config));
  }
  EXPECT_EQ(seed_keys.size(), 2000u);
}

TEST(FormatParamValue, WritesEachType) {
  EXPECT_EQ(format_param_value(ParamValue(std::int64_t{-42})), "-42");
  EXPECT_EQ(format_param_value(ParamValue(1e-3)), "0.001");
  EXPECT_EQ(format_param_value(ParamValue(2.0)), "2");
  EXPECT_EQ(format_param_value(ParamValue(true)), "true");
  EXPECT_EQ(format_param_value(ParamValue(std::string("sin3"))), "sin3");
}

TEST(ValidateRunConfig, DefaultsAreValid) { EXPECT_NO_THROW(validate_run_config(RunConfig{})); }

TEST(ValidateRunConfig, FieldRangesAreCheckedOnStructsBuiltInCode) {
  RunConfig config;
  config.width = 0;
  EXPECT_NE(input_error_message([&] { validate_run_config(config); }).find("key 'model.width'"),
            std::string::npos);
  config = RunConfig{};
  config.eta = -1.0;
  EXPECT_NE(input_error_message([&] { validate_run_config(config); }).find("key 'optim.eta'"),
            std::string::npos);
  config = RunConfig{};
  EXPECT_NE(input_error_message([&] {
              find_parameter("model.init")->set(config, ParamValue(std::string("xavier")));
            }).find("key 'model.init'"),
            std::string::npos);
}

TEST(ValidateRunConfig, CrossFieldChecksNameTheKeys) {
  RunConfig config;
  config.lo = 1.0;
  config.hi = 1.0;
  EXPECT_NE(input_error_message([&] { validate_run_config(config); }).find("data.lo"),
            std::string::npos);
  config.inputs = InputLaw::Gaussian;  // the interval is not used by Gaussian inputs
  EXPECT_NO_THROW(validate_run_config(config));

  config = RunConfig{};
  config.inputs = InputLaw::Grid;
  config.dim = 2;
  config.target = Target::Kind::LinearTeacher;
  EXPECT_NE(input_error_message([&] { validate_run_config(config); }).find("key 'data.dim'"),
            std::string::npos);
  config.dim = 1;
  config.n = 1;
  EXPECT_NE(input_error_message([&] { validate_run_config(config); }).find("key 'data.n'"),
            std::string::npos);

  config = RunConfig{};
  config.dim = 3;  // sin3 is a function of one variable
  EXPECT_NE(input_error_message([&] { validate_run_config(config); }).find("key 'data.target'"),
            std::string::npos);
  config.target = Target::Kind::LinearTeacher;
  EXPECT_NO_THROW(validate_run_config(config));

  // A data file replaces the generator: its settings are not checked against each other.
  config = RunConfig{};
  config.data_file = "data.csv";
  config.dim = 3;
  config.lo = 2.0;
  EXPECT_NO_THROW(validate_run_config(config));
}

TEST(ValidateRunConfig, CombinationsOfTheNewerKeysNameTheKeys) {
  auto message = [](auto&& change) {
    RunConfig config;
    change(config);
    return input_error_message([&] { validate_run_config(config); });
  };
  // A name the table does not know is refused where it is parsed (the configuration boundary).
  [[maybe_unused]] auto set_message = [](const char* key, const char* value) {
    RunConfig config;
    return input_error_message(
        [&] { find_parameter(key)->set(config, ParamValue(std::string(value))); });
  };
  EXPECT_NE(message([](RunConfig& c) { c.depth = 3; }).find("key 'model.depth'"), std::string::npos);
  EXPECT_NE(message([](RunConfig& c) { c.init = InitScheme::Pyramid; }).find("key 'model.init'"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) {
              c.depth = 2;
              c.optimizer = Optimizer::Adam;
            }).find("key 'optim.optimizer'"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) {
              c.activation = Activation::Gelu;
              c.kinks = true;
            }).find("measure"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) { c.alignment = true; }).find("key 'measure.alignment'"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) { c.source = DataSource::Idx; }).find("data.idx_images"),
            std::string::npos);
  EXPECT_NE(set_message("data.source", "cifar").find("key 'data.source'"),
            std::string::npos);
  EXPECT_NE(set_message("data.classes", "3,3").find("key 'data.classes'"),
            std::string::npos);
  EXPECT_NE(set_message("data.classes", "3").find("key 'data.classes'"),
            std::string::npos);
  EXPECT_NE(set_message("optim.optimizer", "lbfgs").find("key 'optim.optimizer'"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) { c.backend = "gpu"; }).find("key 'run.backend'"),
            std::string::npos);
  // The back end's activation is the net's: a ReLU back end for a GeLU model, or the reverse, is
  // refused rather than run with the other activation.
  EXPECT_NE(message([](RunConfig& c) { c.backend = "cpu-gelu"; }).find("model.activation = relu"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) {
              c.backend = "univariate";
              c.activation = Activation::Gelu;
            }).find("keys 'run.backend' and 'model.activation'"),
            std::string::npos);
  RunConfig gelu;
  gelu.activation = Activation::Gelu;
  gelu.backend = "cpu-gelu";
  EXPECT_NO_THROW(validate_run_config(gelu));
  gelu.backend = "auto";
  EXPECT_NO_THROW(validate_run_config(gelu));
  RunConfig deep;
  deep.depth = 2;
  deep.init = InitScheme::Pyramid;
  deep.dim = 2;
  deep.target = Target::Kind::Pyramid;
  EXPECT_NO_THROW(validate_run_config(deep));
  EXPECT_EQ(parse_class_pair("7,2"), (ClassPair{7, 2}));
}

TEST(ValidateRunConfig, DataKnotsAndTheMinimumNormOutputFitNameTheirKeys) {
  auto message = [](auto&& change) {
    RunConfig config;
    change(config);
    return input_error_message([&] { validate_run_config(config); });
  };
  // A name the table does not know is refused where it is parsed (the configuration boundary).
  [[maybe_unused]] auto set_message = [](const char* key, const char* value) {
    RunConfig config;
    return input_error_message(
        [&] { find_parameter(key)->set(config, ParamValue(std::string(value))); });
  };
  EXPECT_NE(set_message("optim.fit_output", "qr").find("key 'optim.fit_output'"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) {
              c.init = InitScheme::DataKnots;
              c.dim = 2;
              c.target = Target::Kind::LinearTeacher;
            }).find("key 'model.init'"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) {
              c.init = InitScheme::DataKnots;
              c.source = DataSource::Digits;
            }).find("key 'model.init'"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) {
              c.depth = 2;
              c.init = InitScheme::DataKnots;
            }).find("key 'model.init'"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) {
              c.depth = 2;
              c.fit_output = OutputLayerFit::MinNorm;
            }).find("key 'optim.fit_output'"),
            std::string::npos);
  EXPECT_NE(message([](RunConfig& c) {
              c.activation = Activation::Gelu;
              c.fit_output = OutputLayerFit::MinNorm;
            }).find("key 'optim.fit_output'"),
            std::string::npos);
  RunConfig interpolation;
  interpolation.init = InitScheme::DataKnots;
  interpolation.fit_output = OutputLayerFit::MinNorm;
  interpolation.max_steps = 0;
  EXPECT_NO_THROW(validate_run_config(interpolation));
}

}  // namespace
}  // namespace relustab
