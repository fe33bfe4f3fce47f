// SPDX-License-Identifier: MIT
// relustab reproduce / plot: run a paper figure's experiment file through the sweep engine, then draw
// its figures with the Python figure script.
#include "commands.h"
#include "common.h"
#include "sweep_command.h"

#include <relustab/io/atomic_file.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace relustab::cli {
namespace {

namespace fs = std::filesystem;

/// The reproduction targets; each has experiments/reproduce/<target>.toml and <target>-quick.toml.
const std::vector<std::string> kTargets = {
    "mulayoff2021-fig1", "mulayoff2021-fig2", "mulayoff2021-fig3", "qiao2024-fig1",
    "qiao2024-eta",      "qiao2024-width",    "qiao2024-knots",    "qiao2024-rate",
    "nacson2023-tightness", "nacson2023-depth", "boursier2025-threshold"};

/// The exit code by which the figure script says its input was bad (as relustab's own code 2).
constexpr int kScriptBadInputCode = 2;

std::string getenv_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

/// The source tree holding experiments/ and python/: $RELUSTAB_SOURCE_DIR when set, else the one
/// this binary was built from.
fs::path source_dir() {
  const std::string from_env = getenv_or_empty("RELUSTAB_SOURCE_DIR");
  if (!from_env.empty()) return from_env;
#ifdef RELUSTAB_DEFAULT_SOURCE_DIR
  return RELUSTAB_DEFAULT_SOURCE_DIR;
#else
  throw InputError("no source directory: set RELUSTAB_SOURCE_DIR to the relustab source tree");
#endif
}

std::string source_dir_hint() {
  return " (source directory " + source_dir().string() +
         "; set RELUSTAB_SOURCE_DIR to the relustab source tree if it moved)";
}

/// $RELUSTAB_PYTHON, else the project's .venv, else python3 from PATH.
std::string python_interpreter(const fs::path& repo) {
  const std::string from_env = getenv_or_empty("RELUSTAB_PYTHON");
  if (!from_env.empty()) return from_env;
  const fs::path venv = repo / ".venv" / "bin" / "python";
  if (::access(venv.c_str(), X_OK) == 0) return venv.string();
  return "python3";
}

/// Path of the running relustab binary (what the figure script calls back as $RELUSTAB_BIN).
std::string own_executable() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) throw std::runtime_error("cannot find the relustab binary's own path: " + error.message());
  return self.string();
}

/// Runs `program args...` with the environment of this process, waits, returns its exit code
/// (128 + signal when it was killed). Throws InputError if it cannot be started.
int run_program(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  const int spawn_error = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (spawn_error != 0) {
    throw InputError("cannot run '" + command.front() + "': " + std::strerror(spawn_error) +
                     "; run scripts/setup.sh (it makes .venv with numpy and matplotlib) or set "
                     "RELUSTAB_PYTHON to a Python that has them");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Figure sizes of `plot --style` (python/figures/output.py STYLES).
const std::vector<std::string> kStyles = {"paper", "notebook"};

/// `relustab plot DIR`: <python> <repo>/python/figures/plot.py DIR --style STYLE with RELUSTAB_BIN
/// set.
void run_plot(const std::string& dir, const std::string& style) {
  std::error_code error;
  require(fs::is_regular_file(fs::path(dir) / "results.sqlite", error),
          dir + ": no results database (results.sqlite); run `relustab reproduce` or `relustab sweep` "
                "into it first");
  const fs::path repo = source_dir();
  const fs::path script = repo / "python" / "figures" / "plot.py";
  require(fs::is_regular_file(script, error),
          script.string() + ": figure script not found" + source_dir_hint());
  const std::string python = python_interpreter(repo);
  // The script calls back into this very binary (curves, weight, data), not another on PATH.
  ::setenv("RELUSTAB_BIN", own_executable().c_str(), 1);
  const int code = run_program({python, script.string(), dir, "--style", style});
  if (code == kScriptBadInputCode) {
    throw InputError(script.string() + " " + dir + ": the figure script rejected its input (exit " +
                     std::to_string(code) + "; see its message above)");
  }
  if (code != 0) {
    throw std::runtime_error(python + " " + script.string() + " " + dir + " failed with exit code " +
                             std::to_string(code));
  }
}

struct ReproduceArgs {
  std::string target;
  bool quick = false;
  std::string out_dir;
  int jobs = 0;
  std::vector<std::string> overrides;
  bool no_plot = false;
  std::string style = "paper";
};

/// The 1-minute load average of the machine (/proc/loadavg), or -1 where it cannot be read: runtimes
/// on a shared machine mean little without it.
double load_average() {
  std::FILE* file = std::fopen("/proc/loadavg", "r");
  if (file == nullptr) return -1.0;
  double load = -1.0;
  if (std::fscanf(file, "%lf", &load) != 1) load = -1.0;
  std::fclose(file);
  return load;
}

/// DIR/reproduce.json: which setting of which target made DIR, how long the sweep took and how
/// loaded the machine was. The figure script puts it into the verdict (the runtime the docs state).
void write_run_info(const ReproduceArgs& a, const std::string& dir, double seconds, int jobs,
                    double load_before) {
  nlohmann::ordered_json info;
  info["target"] = a.target;
  info["quick"] = a.quick;
  info["seconds"] = seconds;
  info["jobs"] = jobs;
  info["cores"] = std::thread::hardware_concurrency();
  info["load_before"] = load_before;
  info["load_after"] = load_average();
  info["overrides"] = a.overrides;
  io::write_file_atomically((fs::path(dir) / "reproduce.json").string(), info.dump(1) + "\n");
}

void run_reproduce(const ReproduceArgs& a, int* argc, char*** argv) {
  const std::string stem = a.quick ? a.target + "-quick" : a.target;
  const fs::path experiment = source_dir() / "experiments" / "reproduce" / (stem + ".toml");
  std::error_code error;
  require(fs::is_regular_file(experiment, error),
          experiment.string() + ": experiment file of target '" + a.target + "' not found" +
              source_dir_hint());
  SweepArgs sweep;
  sweep.experiment_path = experiment.string();
  sweep.out_dir = a.out_dir.empty() ? (fs::path("runs") / "reproduce" / stem).string() : a.out_dir;
  sweep.jobs = a.jobs;
  sweep.overrides = a.overrides;
  const double load_before = load_average();
  const auto start = std::chrono::steady_clock::now();
  run_sweep_command(sweep, argc, argv);
  const double sweep_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_run_info(a, sweep.out_dir, sweep_seconds,
                 sweep.jobs > 0 ? sweep.jobs : static_cast<int>(std::thread::hardware_concurrency()),
                 load_before);
  if (!a.no_plot) {
    run_plot(sweep.out_dir, a.style);
    std::printf("figures in %s (index.html)\n",
                (fs::path(sweep.out_dir) / "figures").string().c_str());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("reproduce %s%s: %.1f s\n", a.target.c_str(), a.quick ? " (quick)" : "", seconds);
}

}  // namespace

Command add_reproduce(CLI::App& app, int* argc, char*** argv) {
  auto a = std::make_shared<ReproduceArgs>();
  auto* sub = app.add_subcommand(
      "reproduce", "Run a paper figure's experiment (experiments/reproduce/TARGET.toml), then plot it");
  sub->add_option("target", a->target, "reproduction target (docs/reproduce.md)")
      ->required()
      ->check(CLI::IsMember(kTargets));
  sub->add_flag("--quick", a->quick,
                "smaller settings (TARGET-quick.toml): under a minute on 2 cores");
  sub->add_option("--out", a->out_dir,
                  "results directory (default: runs/reproduce/TARGET or runs/reproduce/TARGET-quick)");
  sub->add_option("--jobs", a->jobs, "worker threads (default: the number of hardware threads)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--set", a->overrides, "override a parameter: key=value (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--no-plot", a->no_plot, "run the experiment only (draw later with `relustab plot`)");
  sub->add_option("--style", a->style,
                  "figure size: paper (print size for a two-column paper, fonts >= 7 pt) or notebook")
      ->check(CLI::IsMember(kStyles))
      ->capture_default_str();
  return [a, argc, argv] { run_reproduce(*a, argc, argv); };
}

Command add_plot(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto style = std::make_shared<std::string>("paper");
  auto* sub = app.add_subcommand(
      "plot", "Draw a results directory's figures (DIR/figures, DIR/index.html) without re-running");
  sub->add_option("dir", *dir, "results directory of `relustab reproduce`")->required();
  sub->add_option("--style", *style,
                  "figure size: paper (print size for a two-column paper, fonts >= 7 pt) or notebook")
      ->check(CLI::IsMember(kStyles))
      ->capture_default_str();
  return [dir, style] { run_plot(*dir, *style); };
}

}  // namespace relustab::cli
