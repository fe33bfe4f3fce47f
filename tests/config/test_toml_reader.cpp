// SPDX-License-Identifier: MIT
// Experiment files: every key, sweep ranges, includes, overrides and the messages of bad input.
#include "config/config_test_util.h"

#include <relustab/core/error.h>
#include <relustab/experiment/toml_reader.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace relustab {
namespace {

namespace fs = std::filesystem;
using config::parse_experiment;
using config::read_experiment;
using test::expect_same_config;
using test::input_error_message;

/// A fresh directory per test for experiment files.
class TomlReader : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device entropy;
    dir_ = fs::temp_directory_path() /
           ("relustab_cfg_" + std::to_string(::getpid()) + "_" + std::to_string(entropy()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  /// Writes `text` to dir/relative and returns the path.
  std::string write(const std::string& relative, const std::string& text) {
    const fs::path path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  /// The InputError message of reading `text` as file `relative`.
  std::string error_of(const std::string& relative, const std::string& text) {
    const std::string path = write(relative, text);
    return input_error_message([&] { read_experiment(path); });
  }

  fs::path dir_;
};

/// "<file>:<line>: " as the messages start.
std::string at(const std::string& path, int line) { return path + ":" + std::to_string(line) + ": "; }

std::vector<double> doubles(const SweepAxis& axis) {
  std::vector<double> values;
  for (const ParamValue& value : axis.values) values.push_back(std::get<double>(value));
  return values;
}

std::vector<std::int64_t> integers(const SweepAxis& axis) {
  std::vector<std::int64_t> values;
  for (const ParamValue& value : axis.values) values.push_back(std::get<std::int64_t>(value));
  return values;
}

TEST_F(TomlReader, FullFileGivesExactlyTheExpectedConfig) {
  const std::string path = write("full.toml", R"(
name = "full"
[data]
file = "data.csv"
n = 17
dim = 2
inputs = "gaussian"
lo = -2.5
hi = 3
target = "linear"
noise = 0.05
seed = 12345
[model]
width = 7
init = "balanced"
init_scale = 0.01
[optim]
batch = 8
eta = 0.375
warmup_from = 0.001
warmup_steps = 50
switch_factor = 3.0
switch_below = 0.02
max_steps = 123
loss_tol = 1e-9
patience = 5
divergence_loss = 1e6
[measure]
log_every = 10
log_sharpness = true
final_analysis = false
save_net = false
[run]
seed = 99
)");
  RunConfig expected;
  expected.data_file = (dir_ / "data.csv").string();  // relative to the experiment file
  expected.n = 17;
  expected.dim = 2;
  expected.inputs = InputLaw::Gaussian;
  expected.lo = -2.5;
  expected.hi = 3.0;
  expected.target = Target::Kind::LinearTeacher;
  expected.noise = 0.05;
  expected.data_seed = 12345;
  expected.width = 7;
  expected.init = InitScheme::Balanced;
  expected.init_scale = 0.01;
  expected.batch = 8;
  expected.eta = 0.375;
  expected.warmup_from = 0.001;
  expected.warmup_steps = 50;
  expected.switch_factor = 3.0;
  expected.switch_below = 0.02;
  expected.max_steps = 123;
  expected.loss_tol = 1e-9;
  expected.patience = 5;
  expected.divergence_loss = 1e6;
  expected.log_every = 10;
  expected.log_sharpness = true;
  expected.final_analysis = false;
  expected.save_net = false;
  expected.seed = 99;
  const ExperimentSpec spec = read_experiment(path);
  EXPECT_EQ(spec.name, "full");
  EXPECT_TRUE(spec.axes.empty());
  expect_same_config(spec.base, expected);
}

TEST_F(TomlReader, EmptyFileGivesDefaultsAndTheFileStemAsName) {
  const ExperimentSpec spec = read_experiment(write("my_exp.toml", "# nothing\n"));
  EXPECT_EQ(spec.name, "my_exp");
  expect_same_config(spec.base, RunConfig{});
  EXPECT_TRUE(spec.axes.empty());
}

TEST_F(TomlReader, InlineAndDottedSectionsAreTheSame) {
  const ExperimentSpec spec =
      read_experiment(write("x.toml", "data = { n = 12 }\noptim.eta = 0.5\n[model]\nwidth = 3\n"));
  EXPECT_EQ(spec.base.n, 12);
  EXPECT_EQ(spec.base.eta, 0.5);
  EXPECT_EQ(spec.base.width, 3);
}

TEST_F(TomlReader, UnknownKeyNamesFileLineAndKeyWithASuggestion) {
  const std::string path = write("typo.toml", "[optim]\neta = 0.1\netaa = 0.2\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(path); }),
            at(path, 3) + "unknown key 'optim.etaa' (did you mean 'optim.eta'?)");
  // A key in the wrong section is pointed to its own.
  const std::string wrong_section = write("section.toml", "[model]\n\neta = 0.1\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(wrong_section); }),
            at(wrong_section, 3) + "unknown key 'model.eta' (did you mean 'optim.eta'?)");
  const std::string section = write("sec.toml", "name = \"x\"\n[optimizer]\neta = 0.1\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(section); }),
            at(section, 2) + "unknown key 'optimizer' (did you mean 'optim'?)");
  const std::string far = write("far.toml", "[data]\nzzzzzzzz = 1\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(far); }),
            at(far, 2) + "unknown key 'data.zzzzzzzz'");
}

TEST_F(TomlReader, CasesSetSeveralKeysPerRunAndBadCasesNameTheLine) {
  const std::string path = write("cases.toml", R"([sweep]
cases = [
  { "data.target" = "pyramid" },
  { "model.depth" = 2, "model.init" = "pyramid", "model.width" = 4, "data.dim" = 2, "data.target" = "pyramid" },
]
"optim.eta" = [0.5, 1.0]
)");
  const std::vector<RunConfig> runs = expand_runs(read_experiment(path));
  ASSERT_EQ(runs.size(), 4u);  // cases x eta, cases slowest
  EXPECT_EQ(runs[0].target, Target::Kind::Pyramid);
  EXPECT_EQ(runs[0].depth, 1);
  EXPECT_EQ(runs[1].eta, 1.0);
  EXPECT_EQ(runs[2].depth, 2);
  EXPECT_EQ(runs[2].init, InitScheme::Pyramid);
  EXPECT_EQ(runs[2].width, 4);
  EXPECT_EQ(runs[3].dim, 2);
  EXPECT_EQ(runs[3].eta, 1.0);
  const std::string typo = write("case_typo.toml", "[sweep]\ncases = [\n  { \"model.dept\" = 2 },\n]\n");
  const std::string message = input_error_message([&] { read_experiment(typo); });
  EXPECT_NE(message.find(at(typo, 3)), std::string::npos) << message;
  EXPECT_NE(message.find("model.dept"), std::string::npos) << message;
  const std::string wrong_type = write("case_type.toml", "[sweep]\ncases = [ { \"model.depth\" = \"two\" } ]\n");
  EXPECT_NE(input_error_message([&] { read_experiment(wrong_type); }).find(at(wrong_type, 2)),
            std::string::npos);
}

TEST_F(TomlReader, WrongTypesNameFileLineKeyAndTypes) {
  const std::string path = write("types.toml", "[model]\n\nwidth = \"100\"\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(path); }),
            at(path, 3) + "key 'model.width' expects an integer, got string");
  const std::string real = write("real.toml", "[model]\nwidth = 100.0\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(real); }),
            at(real, 2) + "key 'model.width' expects an integer, got float");
  const std::string array = write("array.toml", "[optim]\neta = [0.1]\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(array); }),
            at(array, 2) + "key 'optim.eta' expects a number, got array");
  const std::string date = write("date.toml", "[measure]\nsave_net = 1979-05-27\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(date); }),
            at(date, 2) + "key 'measure.save_net' expects a boolean, got date");
  const std::string section = write("notable.toml", "\noptim = 3\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(section); }),
            at(section, 2) + "key 'optim' expects a table, got integer");
  const std::string name = write("name.toml", "name = 4\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(name); }),
            at(name, 1) + "key 'name' expects a string, got integer");
  // An integer where a number is expected is fine.
  EXPECT_EQ(read_experiment(write("int.toml", "[optim]\neta = 1\n")).base.eta, 1.0);
}

TEST_F(TomlReader, OutOfRangeValuesNameFileLineAndKey) {
  const std::string path = write("range.toml", "[optim]\nmax_steps = 5\neta = -0.1\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(path); }),
            at(path, 3) + "key 'optim.eta' expects a finite number > 0, got -0.1");
  const std::string init = write("init.toml", "[model]\ninit = \"he\"\n");
  const std::string message = input_error_message([&] { read_experiment(init); });
  EXPECT_EQ(message.rfind(at(init, 2) + "key 'model.init': ", 0), 0u) << message;
  EXPECT_NE(message.find("torch"), std::string::npos) << message;  // lists the choices
  const std::string seed = write("seed.toml", "[run]\nseed = -1\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(seed); }),
            at(seed, 2) + "key 'run.seed' expects an integer >= 0, got -1");
}

TEST_F(TomlReader, SyntaxErrorsGiveLineAndColumn) {
  const std::string path = write("syntax.toml", "[data]\nn = 3\nnoise = = 0.1\n");
  const std::string message = input_error_message([&] { read_experiment(path); });
  // Built with += : GCC 12 reports a false -Wrestrict for "^" + std::string (its bug 105329).
  std::string pattern = "^";
  pattern += std::regex_replace(path, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
  pattern += ":3:[0-9]+: TOML syntax error: ";
  EXPECT_TRUE(std::regex_search(message, std::regex(pattern))) << message;
  const std::string duplicate = write("dup.toml", "[data]\nn = 3\nn = 4\n");
  const std::string dup_message = input_error_message([&] { read_experiment(duplicate); });
  EXPECT_EQ(dup_message.rfind(duplicate + ":3:", 0), 0u) << dup_message;
}

TEST_F(TomlReader, MissingFileIsAnErrorNamingIt) {
  const std::string path = (dir_ / "absent.toml").string();
  const std::string message = input_error_message([&] { read_experiment(path); });
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
}

TEST_F(TomlReader, LogRangeIsGeometricWithExactEndpoints) {
  const ExperimentSpec spec =
      read_experiment(write("log.toml", "[sweep]\n\"optim.eta\" = { log = [1e-3, 1e-1], num = 5 }\n"));
  ASSERT_EQ(spec.axes.size(), 1u);
  EXPECT_EQ(spec.axes[0].key, "optim.eta");
  const std::vector<double> values = doubles(spec.axes[0]);
  ASSERT_EQ(values.size(), 5u);
  // Oracle: 10^(-3 + 2 i / 4). pow and the library's a (b/a)^t each round a few times.
  constexpr double kRelTol = 8 * std::numeric_limits<double>::epsilon();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double expected = std::pow(10.0, -3.0 + 2.0 * static_cast<double>(i) / 4.0);
    EXPECT_NEAR(values[i], expected, kRelTol * expected) << i;
  }
  EXPECT_EQ(values.front(), 1e-3);  // endpoints exactly as written
  EXPECT_EQ(values.back(), 1e-1);
  // Descending ranges are allowed.
  const ExperimentSpec down =
      read_experiment(write("down.toml", "[sweep]\n\"model.init_scale\" = { log = [4, 1], num = 3 }\n"));
  const std::vector<double> down_values = doubles(down.axes[0]);
  ASSERT_EQ(down_values.size(), 3u);
  EXPECT_EQ(down_values[0], 4.0);
  EXPECT_NEAR(down_values[1], 2.0, kRelTol * 2.0);
  EXPECT_EQ(down_values[2], 1.0);
}

TEST_F(TomlReader, LinearRangesOfNumbersAndIntegers) {
  const ExperimentSpec spec = read_experiment(write("lin.toml", R"([sweep]
"data.noise" = { linear = [0, 1], num = 5 }
"data.lo" = { linear = [0.1, 0.7], num = 4 }
"model.width" = { linear = [10, 40], num = 4 }
"data.n" = { log = [10, 1000], num = 3 }
"optim.patience" = { linear = [7, 7], num = 1 }
)"));
  ASSERT_EQ(spec.axes.size(), 5u);
  EXPECT_EQ(doubles(spec.axes[0]), (std::vector<double>{0.0, 0.25, 0.5, 0.75, 1.0}));  // exact in binary
  const std::vector<double> lo = doubles(spec.axes[1]);
  ASSERT_EQ(lo.size(), 4u);
  constexpr double kAbsTol = 4 * std::numeric_limits<double>::epsilon();  // one rounding of a + (b-a) t
  for (std::size_t i = 0; i < lo.size(); ++i) EXPECT_NEAR(lo[i], 0.1 + 0.2 * static_cast<double>(i), kAbsTol);
  EXPECT_EQ(integers(spec.axes[2]), (std::vector<std::int64_t>{10, 20, 30, 40}));
  EXPECT_EQ(integers(spec.axes[3]), (std::vector<std::int64_t>{10, 100, 1000}));
  EXPECT_EQ(integers(spec.axes[4]), (std::vector<std::int64_t>{7}));
}

TEST_F(TomlReader, SeedAxes) {
  const auto seeds_of = [&](const std::string& line) {
    const ExperimentSpec spec = read_experiment(write("seeds.toml", "[sweep]\n" + line + "\n"));
    EXPECT_EQ(spec.axes.size(), 1u);
    EXPECT_EQ(spec.axes.at(0).key, "run.seed");
    return integers(spec.axes.at(0));
  };
  EXPECT_EQ(seeds_of("seeds = [4, 9, 2]"), (std::vector<std::int64_t>{4, 9, 2}));
  EXPECT_EQ(seeds_of("seeds = { count = 3 }"), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(seeds_of("seeds = { start = 5, count = 3 }"), (std::vector<std::int64_t>{5, 6, 7}));
  EXPECT_EQ(seeds_of("\"run.seed\" = { count = 2 }"), (std::vector<std::int64_t>{0, 1}));
  const ExperimentSpec data_seeds =
      read_experiment(write("ds.toml", "[sweep]\n\"data.seed\" = { start = 10, count = 2 }\n"));
  EXPECT_EQ(data_seeds.axes.at(0).key, "data.seed");
  EXPECT_EQ(integers(data_seeds.axes.at(0)), (std::vector<std::int64_t>{10, 11}));
}

TEST_F(TomlReader, AxesKeepTheOrderOfTheFileAndExpandFirstSlowest) {
  // Written in non-alphabetical order: toml++ iterates keys sorted, the reader must not.
  const std::string path = write("order.toml", R"(
[optim]
max_steps = 10
[sweep]
"optim.eta" = [0.1, 0.2]
seeds = [3, 1, 2]
"model.width" = [5, 6]
)");
  const ExperimentSpec spec = read_experiment(path);
  ASSERT_EQ(spec.axes.size(), 3u);
  EXPECT_EQ(spec.axes[0].key, "optim.eta");
  EXPECT_EQ(spec.axes[1].key, "run.seed");
  EXPECT_EQ(spec.axes[2].key, "model.width");
  const std::vector<RunConfig> runs = expand_runs(spec);
  ASSERT_EQ(runs.size(), 12u);
  const std::vector<double> etas = {0.1, 0.2};
  const std::vector<std::uint64_t> seeds = {3, 1, 2};
  const std::vector<std::int64_t> widths = {5, 6};
  std::size_t r = 0;
  for (double eta : etas) {
    for (std::uint64_t seed : seeds) {
      for (std::int64_t width : widths) {
        RunConfig expected;
        expected.max_steps = 10;
        expected.eta = eta;
        expected.seed = seed;
        expected.width = width;
        expect_same_config(runs[r++], expected);
      }
    }
  }
}

TEST_F(TomlReader, UnquotedDottedSweepKeysWork) {
  const ExperimentSpec spec =
      read_experiment(write("dotted.toml", "[sweep]\noptim.eta = [0.1, 0.2]\nmodel.width = [3]\n"));
  ASSERT_EQ(spec.axes.size(), 2u);
  EXPECT_EQ(spec.axes[0].key, "optim.eta");
  EXPECT_EQ(spec.axes[1].key, "model.width");
  EXPECT_EQ(doubles(spec.axes[0]), (std::vector<double>{0.1, 0.2}));
}

TEST_F(TomlReader, SweepErrorsNameFileLineAndKey) {
  struct Case {
    std::string text;
    int line;
    std::string message;  ///< expected after "<file>:<line>: "
  };
  const std::vector<Case> cases = {
      {"[sweep]\n\"optim.eta\" = []\n", 2, "sweep axis 'optim.eta' has no values"},
      {"[sweep]\n\n\"optim.eta\" = { log = [0.1, 1], num = 0 }\n", 3,
       "sweep axis 'optim.eta' has no values (num = 0)"},
      {"[sweep]\nseeds = { count = 0 }\n", 2, "sweep axis 'run.seed' has no values (count = 0)"},
      {"[sweep]\n\"optim.etaa\" = [0.1]\n", 2, "sweep: unknown key 'optim.etaa' (did you mean 'optim.eta'?)"},
      {"[sweep]\n\"model.width\" = [10,\n  \"x\"]\n", 3, "key 'model.width' expects an integer, got string"},
      {"[sweep]\n\"optim.eta\" = [0.1, -1]\n", 2, "key 'optim.eta' expects a finite number > 0, got -1"},
      {"[sweep]\n\"optim.eta\" = 0.1\n", 2,
       "sweep axis 'optim.eta' expects a list of values or a range table, got float"},
      {"[sweep]\n\"model.width\" = { linear = [10, 20], num = 4 }\n", 2,
       "sweep axis 'model.width': linear range [10, 20] with num = 4 does not give integers "
       "(b - a must be a multiple of num - 1)"},
      {"[sweep]\n\"model.width\" = { linear = [10.5, 20], num = 2 }\n", 2,
       "sweep axis 'model.width': linear range [10.5, 20] with num = 2 does not give integers "
       "(a and b must be integers)"},
      {"[sweep]\n\"model.width\" = { log = [1, 2], num = 4 }\n", 2,
       "sweep axis 'model.width': log range [1, 2] with num = 4 repeats the integer 1 after rounding; "
       "use a smaller num"},
      {"[sweep]\n\"optim.eta\" = { log = [0, 1], num = 3 }\n", 2,
       "sweep axis 'optim.eta': log range needs a > 0 and b > 0"},
      {"[sweep]\n\"optim.eta\" = { log = [0.1], num = 3 }\n", 2,
       "sweep axis 'optim.eta': log expects two numbers [a, b]"},
      {"[sweep]\n\"optim.eta\" = { log = [0.1, 1], num = 2.5 }\n", 2,
       "sweep axis 'optim.eta': num expects an integer, got float"},
      {"[sweep]\n\"optim.eta\" = { log = [0.1, 1], nun = 3 }\n", 2,
       "sweep axis 'optim.eta': unknown range key 'nun' (expected log or linear with num, or start and count)"},
      {"[sweep]\n\"model.init\" = { linear = [1, 2], num = 2 }\n", 2,
       "sweep axis 'model.init': a range needs a numeric key; list the values instead"},
      {"[sweep]\n\"optim.eta\" = { count = 3 }\n", 2,
       "sweep axis 'optim.eta': {start, count} needs an integer key; use linear"},
      {"[sweep]\nseeds = [1]\n\"run.seed\" = [2]\n", 3,
       "sweep axis 'run.seed' is given twice (as 'seeds' and 'run.seed')"},
      {"\nsweep = 3\n", 2, "key 'sweep' expects a table, got integer"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string name = "sweep" + std::to_string(i) + ".toml";
    const std::string path = (dir_ / name).string();
    EXPECT_EQ(error_of(name, cases[i].text), at(path, cases[i].line) + cases[i].message) << cases[i].text;
  }
}

TEST_F(TomlReader, TwoLevelIncludeOverridesKeyByKeyAndMergesAxes) {
  write("common/base.toml", R"(name = "base-name"
[data]
n = 20
noise = 0.1
[model]
width = 50
[optim]
eta = 0.05
[sweep]
"optim.eta" = [0.01, 0.02]
seeds = { count = 2 }
)");
  // Included relative to the including file's directory.
  write("common/mid.toml", R"(include = "base.toml"
[optim]
eta = 0.2
[sweep]
"model.width" = [10, 20]
)");
  const std::string top = write("exp/top.toml", R"(include = "../common/mid.toml"
[data]
n = 40
[sweep]
"optim.eta" = [0.3]
"data.noise" = [0.0, 0.5]
)");
  const ExperimentSpec spec = read_experiment(top);
  EXPECT_EQ(spec.name, "base-name");  // inherited: top and mid set no name
  RunConfig expected;
  expected.n = 40;        // top
  expected.noise = 0.1;   // base
  expected.width = 50;    // base
  expected.eta = 0.2;     // mid
  expect_same_config(spec.base, expected);
  ASSERT_EQ(spec.axes.size(), 4u);
  EXPECT_EQ(spec.axes[0].key, "optim.eta");  // base's axis, values replaced in place by top
  EXPECT_EQ(doubles(spec.axes[0]), (std::vector<double>{0.3}));
  EXPECT_EQ(spec.axes[1].key, "run.seed");
  EXPECT_EQ(integers(spec.axes[1]), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(spec.axes[2].key, "model.width");  // appended by mid
  EXPECT_EQ(integers(spec.axes[2]), (std::vector<std::int64_t>{10, 20}));
  EXPECT_EQ(spec.axes[3].key, "data.noise");  // appended by top
  EXPECT_EQ(doubles(spec.axes[3]), (std::vector<double>{0.0, 0.5}));
  EXPECT_EQ(expand_runs(spec).size(), 1u * 2u * 2u * 2u);
}

TEST_F(TomlReader, IncludeCyclesAreErrorsNamingTheFiles) {
  const std::string a = write("a.toml", "include = \"b.toml\"\n");
  const std::string b = write("b.toml", "\ninclude = \"a.toml\"\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(a); }),
            at(b, 2) + "include cycle: " + a + " -> " + b + " -> " + a);
  const std::string self = write("self.toml", "include = \"./self.toml\"\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(self); }),
            at(self, 1) + "include cycle: " + self + " -> " + self);
}

TEST_F(TomlReader, MissingOrBadIncludesAreErrorsNamingTheFile) {
  const std::string path = write("inc.toml", "name = \"x\"\ninclude = \"nowhere/base.toml\"\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(path); }),
            at(path, 2) + "included file '" + (dir_ / "nowhere/base.toml").string() + "' not found");
  const std::string wrong = write("inc2.toml", "include = [\"a.toml\"]\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(wrong); }),
            at(wrong, 1) + "key 'include' expects a string, got array");
  // An error inside an included file names that file and its line.
  write("broken.toml", "[model]\nwidth = 0\n");
  const std::string outer = write("outer.toml", "include = \"broken.toml\"\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(outer); }),
            at((dir_ / "broken.toml").string(), 2) + "key 'model.width' expects an integer >= 1, got 0");
}

TEST_F(TomlReader, OverridesApplyLastAndParseByType) {
  const std::string path = write("ov.toml", R"([optim]
eta = 0.1
[sweep]
seeds = { count = 4 }
"model.width" = [10, 20]
)");
  const ExperimentSpec spec = read_experiment(
      path, {"optim.eta=0.5", " model.init = kaiming ", "measure.save_net=false", "data.noise=0",
             "optim.max_steps=+77", "data.target=\"abs\"", "run.seed=3"});
  EXPECT_EQ(spec.base.eta, 0.5);
  EXPECT_EQ(spec.base.init, InitScheme::Kaiming);
  EXPECT_FALSE(spec.base.save_net);
  EXPECT_EQ(spec.base.noise, 0.0);
  EXPECT_EQ(spec.base.max_steps, 77);
  EXPECT_EQ(spec.base.target, Target::Kind::Abs);
  EXPECT_EQ(spec.base.seed, 3u);
  // The overridden key is no longer swept; the other axis stays.
  ASSERT_EQ(spec.axes.size(), 1u);
  EXPECT_EQ(spec.axes[0].key, "model.width");
  // data.file on the command line is relative to the working directory.
  const ExperimentSpec file = read_experiment(path, {"data.file=some/data.csv"});
  EXPECT_EQ(file.base.data_file, (fs::current_path() / "some/data.csv").lexically_normal().string());
}

TEST_F(TomlReader, BadOverridesNameTheKey) {
  const std::string path = write("ov.toml", "");
  const auto message = [&](const std::string& override_text) {
    return input_error_message([&] { read_experiment(path, {override_text}); });
  };
  EXPECT_EQ(message("optim.eta=abc"), "override 'optim.eta=abc': key 'optim.eta' expects a number, got 'abc'");
  EXPECT_EQ(message("optim.etaa=1"), "override 'optim.etaa=1': unknown key 'optim.etaa' (did you mean 'optim.eta'?)");
  EXPECT_EQ(message("model.width=0"), "override 'model.width=0': key 'model.width' expects an integer >= 1, got 0");
  EXPECT_EQ(message("model.width=1.5"), "override 'model.width=1.5': key 'model.width' expects an integer, got '1.5'");
  EXPECT_EQ(message("measure.save_net=yes"),
            "override 'measure.save_net=yes': key 'measure.save_net' expects a boolean, got 'yes'");
  EXPECT_EQ(message("optim.eta"), "override 'optim.eta': expected key=value");
  EXPECT_EQ(message("optim.eta=inf"),
            "override 'optim.eta=inf': key 'optim.eta' expects a finite number > 0, got inf");
}

TEST_F(TomlReader, ParseFromTextResolvesIncludesAgainstBaseDir) {
  write("inc/base.toml", "[model]\nwidth = 9\n");
  const ExperimentSpec spec = parse_experiment("include = \"base.toml\"\n[optim]\neta = 0.7\n",
                                               "inline.toml", (dir_ / "inc").string());
  EXPECT_EQ(spec.name, "inline");
  EXPECT_EQ(spec.base.width, 9);
  EXPECT_EQ(spec.base.eta, 0.7);
  EXPECT_EQ(input_error_message([&] { parse_experiment("[optim]\nfoo = 1\n", "mem.toml", dir_.string()); }),
            "mem.toml:2: unknown key 'optim.foo'");
}

TEST_F(TomlReader, RunKeysAreStableAcrossParsesAndDistinctWithinASweep) {
  const std::string path = write("keys.toml", R"(
[data]
file = "d.csv"
[sweep]
"optim.eta" = { log = [0.01, 1], num = 7 }
seeds = { count = 5 }
"model.init" = ["torch", "kaiming"]
)");
  const std::vector<RunConfig> first = expand_runs(read_experiment(path));
  const std::vector<RunConfig> second = expand_runs(read_experiment(path));
  ASSERT_EQ(first.size(), 70u);
  ASSERT_EQ(second.size(), first.size());
  std::set<std::string> keys;
  for (std::size_t r = 0; r < first.size(); ++r) {
    EXPECT_EQ(run_key(first[r]), run_key(second[r])) << r;
    EXPECT_EQ(canonical_json(first[r]), canonical_json(second[r])) << r;
    keys.insert(run_key(first[r]));
  }
  EXPECT_EQ(keys.size(), first.size());
  // The same experiment read from another working directory gives the same keys (data.file is
  // stored absolute).
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_);
  const std::vector<RunConfig> elsewhere = expand_runs(read_experiment("keys.toml"));
  fs::current_path(cwd);
  ASSERT_EQ(elsewhere.size(), first.size());
  for (std::size_t r = 0; r < first.size(); ++r) EXPECT_EQ(run_key(elsewhere[r]), run_key(first[r]));
}

/// The repository's experiments/ folder (from CTest's environment, else relative to this file).
fs::path experiments_dir() {
  if (const char* root = std::getenv("RELUSTAB_SOURCE_DIR")) return fs::path(root) / "experiments";
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "experiments";
}

TEST(ExampleExperiments, W1EtaSweepIsSmallAndAsDescribed) {
  const ExperimentSpec spec = read_experiment((experiments_dir() / "examples/w1_eta_sweep.toml").string());
  const std::vector<RunConfig> runs = expand_runs(spec);
  ASSERT_EQ(runs.size(), 15u);  // 5 step sizes x 3 seeds
  std::set<std::string> keys;
  for (const RunConfig& run : runs) {
    EXPECT_EQ(run.n, 30);
    EXPECT_EQ(run.target, Target::Kind::Sin3);
    EXPECT_GT(run.noise, 0.0);
    EXPECT_EQ(run.width, 100);
    EXPECT_EQ(run.batch, 0);
    EXPECT_EQ(run.max_steps, 10000);
    EXPECT_TRUE(run.final_analysis);
    keys.insert(run_key(run));
  }
  EXPECT_EQ(keys.size(), runs.size());
  EXPECT_EQ(runs.front().eta, 0.01);
  EXPECT_EQ(runs.back().eta, 1.0);
}

TEST(ExampleExperiments, W6IsAThousandW1Runs) {
  const ExperimentSpec spec = read_experiment((experiments_dir() / "bench/w6.toml").string());
  const std::vector<RunConfig> runs = expand_runs(spec);
  ASSERT_EQ(runs.size(), 1000u);
  std::set<std::string> keys;
  for (const RunConfig& run : runs) {
    EXPECT_EQ(run.n, 30);
    EXPECT_EQ(run.width, 100);
    EXPECT_EQ(run.batch, 0);
    EXPECT_EQ(run.max_steps, 10000);
    EXPECT_FALSE(run.final_analysis);
    EXPECT_FALSE(run.save_net);
    keys.insert(run_key(run));
  }
  EXPECT_EQ(keys.size(), 1000u);
}

}  // namespace
}  // namespace relustab

namespace relustab {
namespace {

// Sizes a file can ask for are checked against the stated limits before anything is built
// (core/limits.h): before these checks the first two grew memory until the machine ran out, the
// third overflowed int64 and the fourth overflowed the stack.
TEST_F(TomlReader, HugeAxesOverflowingRangesAndDeepIncludesAreRefusedWithTheLimit) {
  EXPECT_NE(error_of("seeds.toml", "[sweep]\n\"run.seed\" = { start = 0, count = 100000000000 }\n")
                .find("above the limit of 10000000 runs"),
            std::string::npos);
  EXPECT_NE(error_of("num.toml", "[sweep]\n\"optim.eta\" = { linear = [0.1, 0.2], num = 4611686018427387904 }\n")
                .find("above the limit of 10000000 runs"),
            std::string::npos);
  EXPECT_NE(error_of("wide.toml", "[sweep]\n\"run.seed\" = { linear = [-9e18, 9e18], num = 3 }\n")
                .find("spans more than int64"),
            std::string::npos);
  // A chain of 70 files, each including the next: no cycle, but deeper than the limit.
  const int files = 70;
  for (int i = 0; i < files; ++i) {
    write("chain/f" + std::to_string(i) + ".toml",
          i + 1 < files ? "include = \"f" + std::to_string(i + 1) + ".toml\"\n" : "optim.eta = 0.5\n");
  }
  const std::string deep = (dir_ / "chain" / "f0.toml").string();
  EXPECT_NE(input_error_message([&] { read_experiment(deep); }).find("nested deeper than 64"),
            std::string::npos);
  // 60 levels are fine and read the innermost value.
  write("chain/g0.toml", "include = \"f10.toml\"\n");
  EXPECT_EQ(read_experiment((dir_ / "chain" / "g0.toml").string()).base.eta, 0.5);
}

}  // namespace
}  // namespace relustab

namespace relustab {
namespace {

// toml++ 3.3.0 reaches undefined behaviour on some stray non-ASCII characters in bare positions;
// relustab refuses them before toml++ parses, with the position. In strings, quoted keys and
// comments they are fine.
TEST_F(TomlReader, NonAsciiOutsideStringsAndCommentsIsRefusedBeforeTomlParses) {
  const std::string bare = write("half.toml", "name = \"x\"\n[optim]\neta\xC2\xBD = 0.1\n");
  EXPECT_EQ(input_error_message([&] { read_experiment(bare); }),
            bare + ":3:4: unexpected non-ASCII byte 0xC2 outside a string or comment (quote keys that "
                   "are not ASCII)");
  const ExperimentSpec fine = read_experiment(write(
      "fine.toml", "# r\xC3\xA9sum\xC3\xA9 \xC2\xBD\nname = \"caf\xC3\xA9 \\\" \xC2\xBD\"\n"
                   "[optim] # \xC2\xBD\neta = 0.25\n"));
  EXPECT_EQ(fine.name, "caf\xC3\xA9 \" \xC2\xBD");
  EXPECT_EQ(fine.base.eta, 0.25);
  const ExperimentSpec multi = read_experiment(write(
      "multi.toml", "name = '''a\n\xC2\xBD'''\n[optim]\neta = 0.5\n"));
  EXPECT_EQ(multi.base.eta, 0.5);
}

}  // namespace
}  // namespace relustab
