// SPDX-License-Identifier: MIT
// Runs the relustab executable from tests and captures its exit code and output.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace relustab::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// A fresh temporary directory removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("relustab-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& contents) const {
    std::ofstream(file(name), std::ios::binary) << contents;
    return file(name);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Path of the relustab binary under test (set by CTest), or empty.
inline std::string relustab_bin() {
  const char* bin = std::getenv("RELUSTAB_BIN");
  return bin == nullptr ? std::string() : std::string(bin);
}

/// Runs `relustab <args>` (args is a shell-quoted string) with stdin closed.
inline CommandResult run_relustab(const std::string& args) {
  TempDir tmp;
  const std::string out = tmp.file("stdout"), err = tmp.file("stderr");
  // Appended piece by piece: "'" + std::string makes GCC 12 warn falsely (-Wrestrict).
  std::string cmd = "'";
  cmd += relustab_bin();
  cmd += "' " + args + " </dev/null >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

/// A small net and data set the command-line tests share: f(x) = 0.3 relu(x + 0.1)
/// - 0.7 relu(-0.5 x + 0.25) + 0.05 and four samples, no knot on a data point.
inline constexpr const char* kSmallNetJson =
    R"({"format":"relustab-net","version":1,"input_dim":1,"width":2,"W1":[[1.0],[-0.5]],)"
    R"("b1":[0.1,0.25],"w2":[0.3,-0.7],"b2":0.05})";
inline constexpr const char* kSmallDataCsv = "x,y\n-1,0.2\n-0.3,0.1\n0.4,-0.2\n0.9,0.5\n";

/// `text` in single quotes for the shell run_relustab uses (paths of the scratch directories).
inline std::string quote(const std::string& text) { return "'" + text + "'"; }

/// Runs a relustab command that must succeed (a test failure otherwise); returns its stdout.
inline std::string must_run(const std::string& args) {
  const CommandResult r = run_relustab(args);
  EXPECT_EQ(r.exit_code, 0) << "relustab " << args << "\nstderr: " << r.err;
  return r.out;
}

/// Runs a relustab command that must fail as bad input: exit code 2 and every needle on stderr.
inline void expect_bad_input(const std::string& args, std::initializer_list<std::string> needles) {
  const CommandResult r = run_relustab(args);
  EXPECT_EQ(r.exit_code, 2) << args << "\nstderr: " << r.err;
  for (const auto& needle : needles) {
    EXPECT_NE(r.err.find(needle), std::string::npos)
        << args << ": expected '" << needle << "' in the message, got: " << r.err;
  }
}

/// A fixture with kSmallNetJson and kSmallDataCsv written to a scratch directory (net_, data_), for
/// tests that run the command line on them; skipped outside ctest (no RELUSTAB_BIN).
class SmallProblemCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (relustab_bin().empty()) GTEST_SKIP() << "RELUSTAB_BIN not set (run through ctest)";
    net_ = dir_.write("net.json", kSmallNetJson);
    data_ = dir_.write("data.csv", kSmallDataCsv);
  }
  void expect_bad_input(const std::string& args, std::initializer_list<std::string> needles) {
    test::expect_bad_input(args, needles);
  }
  TempDir dir_;
  std::string net_, data_;
};

}  // namespace relustab::test
