// SPDX-License-Identifier: MIT
// `relustab reproduce` and `relustab plot` as plumbing: which experiment file runs, where results go,
// how the figure script is called (interpreter, script path, RELUSTAB_BIN), exit codes. A stand-in
// source tree and a stand-in "python" (a shell script that records its arguments) make these checks
// independent of the real experiments and figure scripts; the experiment files of the real tree are
// checked by reading them.
#include "reproduce/reproduce_util.h"

#include <relustab/experiment/experiment.h>
#include <relustab/experiment/toml_reader.h>

#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace relustab::test {
namespace {

namespace fs = std::filesystem;

/// A tiny experiment: 3 runs of a few GD steps.
const char* kTinyExperiment = R"(name = "qiao2024-rate"
[data]
n = 6
noise = 0.1
[model]
width = 3
[optim]
eta = 0.05
max_steps = 20
[sweep]
"data.seed" = [1, 2, 3]
)";

/// A source tree with experiments/reproduce/qiao2024-rate-quick.toml and python/figures/plot.py, and a
/// stand-in interpreter that writes "$RELUSTAB_BIN" and its arguments, one per line, to calls.txt and
/// exits with the code in exit_code.txt (0 when absent).
struct FakeTree {
  TempDir dir;
  std::string root, python, calls;
  FakeTree() {
    root = dir.file("src");
    fs::create_directories(root + "/experiments/reproduce");
    fs::create_directories(root + "/python/figures");
    dir.write("src/experiments/reproduce/qiao2024-rate-quick.toml", kTinyExperiment);
    dir.write("src/python/figures/plot.py", "# stand-in\n");
    calls = dir.file("calls.txt");
    python = dir.write("python.sh", "#!/bin/sh\n"
                                    "printf '%s\\n' \"$RELUSTAB_BIN\" \"$@\" > '" + calls + "'\n"
                                    "code=0\n"
                                    "[ -f '" + dir.file("exit_code.txt") + "' ] && code=$(cat '" +
                                    dir.file("exit_code.txt") + "')\n"
                                    "exit $code\n");
    ::chmod(python.c_str(), 0755);
  }
  std::vector<std::string> recorded_call() const {
    std::vector<std::string> lines;
    std::istringstream in(slurp(calls));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

std::string canonical(const std::string& path) { return fs::weakly_canonical(path).string(); }

TEST(ReproduceCommand, RunsTheQuickFileIntoOutThenCallsTheFigureScript) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  FakeTree tree;
  const ScopedEnv source("RELUSTAB_SOURCE_DIR", tree.root);
  const ScopedEnv python("RELUSTAB_PYTHON", tree.python);
  const std::string out = tree.dir.file("out");
  const CommandResult r = run_relustab("reproduce qiao2024-rate --quick --jobs 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const StoredExperiment results = read_results(out);
  EXPECT_EQ(results.name, "qiao2024-rate");
  ASSERT_EQ(results.runs.size(), 3u);
  for (const StoredRun& run : results.runs) EXPECT_EQ(run.status, "done") << run.reason;
  const auto call = tree.recorded_call();
  ASSERT_EQ(call.size(), 5u) << slurp(tree.calls);
  EXPECT_EQ(canonical(call[0]), canonical(relustab_bin()));  // RELUSTAB_BIN: this very binary
  EXPECT_EQ(canonical(call[1]), canonical(tree.root + "/python/figures/plot.py"));
  EXPECT_EQ(call[2], out);
  EXPECT_EQ(call[3], "--style");
  EXPECT_EQ(call[4], "paper");
  // The run's setting and sweep time, for the verdict the figure script writes.
  const auto info = nlohmann::json::parse(slurp(out + "/reproduce.json"));
  EXPECT_EQ(info["target"], "qiao2024-rate");
  EXPECT_EQ(info["quick"], true);
  EXPECT_EQ(info["jobs"], 2);
  EXPECT_GE(info["seconds"].get<double>(), 0.0);
  EXPECT_GE(info["cores"].get<int>(), 1);
  EXPECT_TRUE(info["load_before"].is_number() && info["load_after"].is_number());
}

TEST(ReproduceCommand, NoPlotSkipsTheFigureScript) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  FakeTree tree;
  const ScopedEnv source("RELUSTAB_SOURCE_DIR", tree.root);
  const ScopedEnv python("RELUSTAB_PYTHON", tree.python);
  const std::string out = tree.dir.file("out");
  const CommandResult r = run_relustab("reproduce qiao2024-rate --quick --no-plot --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_results(out).runs.size(), 3u);
  EXPECT_FALSE(fs::exists(tree.calls));
}

TEST(ReproduceCommand, DefaultOutputDirectoryIsRunsReproduceTargetQuick) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  FakeTree tree;
  const ScopedEnv source("RELUSTAB_SOURCE_DIR", tree.root);
  const ScopedEnv python("RELUSTAB_PYTHON", tree.python);
  const fs::path work = tree.dir.file("work");
  fs::create_directories(work);
  // The default is relative to the working directory of the command.
  const fs::path old_cwd = fs::current_path();
  fs::current_path(work);
  const CommandResult r = run_relustab("reproduce qiao2024-rate --quick --no-plot");
  fs::current_path(old_cwd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_regular_file(work / "runs/reproduce/qiao2024-rate-quick/results.sqlite"));
}

TEST(ReproduceCommand, BadTargetOrMissingFileExitsWithCode2) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  FakeTree tree;
  const ScopedEnv source("RELUSTAB_SOURCE_DIR", tree.root);
  CommandResult r = run_relustab("reproduce no-such-figure --out " + tree.dir.file("out"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("mulayoff2021-fig3"), std::string::npos) << "names the targets: " << r.err;
  // A known target whose file the (stand-in) source tree lacks: the message names the file.
  r = run_relustab("reproduce qiao2024-rate --no-plot --out " + tree.dir.file("out"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("qiao2024-rate.toml"), std::string::npos) << r.err;
}

TEST(PlotCommand, CallsTheScriptAndMapsItsExitCode) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  FakeTree tree;
  const ScopedEnv source("RELUSTAB_SOURCE_DIR", tree.root);
  const ScopedEnv python("RELUSTAB_PYTHON", tree.python);
  const std::string out = tree.dir.file("out");
  ASSERT_EQ(run_relustab("reproduce qiao2024-rate --quick --no-plot --out " + out).exit_code, 0);

  CommandResult r = run_relustab("plot " + out + " --style notebook");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto call = tree.recorded_call();
  ASSERT_EQ(call.size(), 5u);
  EXPECT_EQ(canonical(call[0]), canonical(relustab_bin()));
  EXPECT_EQ(call[2], out);
  EXPECT_EQ(call[4], "notebook");
  EXPECT_EQ(run_relustab("plot " + out + " --style poster").exit_code, 2);

  tree.dir.write("exit_code.txt", "2\n");  // the script's "bad input"
  r = run_relustab("plot " + out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  tree.dir.write("exit_code.txt", "1\n");  // the script failed
  r = run_relustab("plot " + out);
  EXPECT_EQ(r.exit_code, 1) << r.err;
}

TEST(PlotCommand, MissingDirectoryScriptOrInterpreterExitsWithCode2) {
  if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set";
  FakeTree tree;
  const ScopedEnv source("RELUSTAB_SOURCE_DIR", tree.root);
  const std::string out = tree.dir.file("out");
  CommandResult r = run_relustab("plot " + tree.dir.file("nothing-here"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("results.sqlite"), std::string::npos) << r.err;

  ASSERT_EQ(run_relustab("reproduce qiao2024-rate --quick --no-plot --out " + out).exit_code, 0);
  {
    const ScopedEnv python("RELUSTAB_PYTHON", tree.dir.file("no-such-python"));
    r = run_relustab("plot " + out);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("RELUSTAB_PYTHON"), std::string::npos) << r.err;
  }
  fs::remove(tree.root + "/python/figures/plot.py");
  const ScopedEnv python("RELUSTAB_PYTHON", tree.python);
  r = run_relustab("plot " + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("plot.py"), std::string::npos) << r.err;
}

/// Every target has a full and a quick experiment file in the real tree; both parse, expand to runs,
/// and carry the target's name (the figure script dispatches on it).
TEST(ReproduceTargets, ExperimentFilesExistAndAreNamedAfterTheirTarget) {
  const std::string root = source_dir();
  if (root.empty()) GTEST_SKIP() << "RELUSTAB_SOURCE_DIR not set";
  for (const std::string& target : reproduction_targets()) {
    for (const std::string suffix : {"", "-quick"}) {
      const std::string path = root + "/experiments/reproduce/" + target + suffix + ".toml";
      SCOPED_TRACE(path);
      ASSERT_TRUE(fs::is_regular_file(path));
      const ExperimentSpec spec = config::read_experiment(path);
      EXPECT_EQ(spec.name, target);
      EXPECT_FALSE(expand_runs(spec).empty());
      if (!suffix.empty()) {
        EXPECT_NE(slurp(path).find("include = \"" + target + ".toml\""), std::string::npos)
            << "the quick file includes the full one";
      }
    }
  }
}

}  // namespace
}  // namespace relustab::test
