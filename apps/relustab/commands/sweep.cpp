// SPDX-License-Identifier: MIT
// relustab sweep / status / export / merge: run an experiment file into a results directory,
// summarise it, export it as CSV, and combine the shards of a job-array sweep.
#include "commands.h"
#include "common.h"
#include "sweep_command.h"

#include <relustab/experiment/experiment.h>
#include <relustab/experiment/result_directory.h>
#include <relustab/experiment/result_store.h>
#include <relustab/experiment/sweep.h>
#include <relustab/experiment/toml_reader.h>
#include <relustab/io/atomic_file.h>
#include <relustab/io/file_cache.h>
#include <relustab/io/formats.h>
#if RELUSTAB_WITH_MPI
#include <relustab/experiment/mpi_sweep.h>
#endif


#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <cstdlib>
#include <thread>

namespace relustab::cli {
namespace {

namespace fs = std::filesystem;

/// Width of the progress bar in characters.
constexpr int kBarWidth = 30;

std::string format_duration(double seconds) {
  if (!(seconds >= 0.0)) return "--";
  const auto total = static_cast<long long>(std::llround(seconds));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total / 60 % 60);
  } else if (total >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%llds", total);
  }
  return text;
}

/// "[#####.....]  120/200 runs  3 failed  2 running  ETA 1m05s" on one terminal line.
void draw_progress(const SweepProgress& p) {
  const std::int64_t finished = p.done + p.failed;
  const int filled = p.total > 0 ? static_cast<int>(kBarWidth * finished / p.total) : kBarWidth;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kBarWidth, '.');
  std::fprintf(stderr, "\r[%s] %lld/%lld runs  %lld failed  %lld running  ETA %s   ", bar.c_str(),
               static_cast<long long>(finished), static_cast<long long>(p.total),
               static_cast<long long>(p.failed), static_cast<long long>(p.running),
               format_duration(p.eta_s).c_str());
  std::fflush(stderr);
}

void print_sweep_summary(const std::string& name, const SweepProgress& p, const std::string& dir) {
  std::printf("sweep '%s': %lld runs, %lld done, %lld failed, %lld not finished; %.2f s; results in %s\n",
              name.c_str(), static_cast<long long>(p.total), static_cast<long long>(p.done),
              static_cast<long long>(p.failed),
              static_cast<long long>(p.total - p.done - p.failed), p.elapsed_s, dir.c_str());
}

}  // namespace

/// Worker threads when --jobs is not given: every hardware thread, shared among the ranks that an MPI
/// launcher started on this machine (OpenMPI's OMPI_COMM_WORLD_LOCAL_SIZE), so that `mpirun -np 2` on
/// two cores runs two workers rather than four.
static int default_jobs() {
  const int hardware = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const char* local_ranks = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const int ranks = local_ranks == nullptr ? 1 : std::max(1, std::atoi(local_ranks));
  return std::max(1, hardware / ranks);
}

void run_sweep_command(const SweepArgs& a, [[maybe_unused]] int* argc,
                       [[maybe_unused]] char*** argv) {
  const ExperimentSpec spec = config::read_experiment(a.experiment_path, a.overrides);
  std::optional<store::Shard> shard;
  if (!a.shard.empty()) {
    try {
      shard = store::parse_shard(a.shard);
    } catch (const InputError& e) {
      throw InputError(std::string("--shard: ") + e.what());
    }
  }
  const std::string dir = store::sweep_directory(a.experiment_path, a.out_dir, shard);
  const SweepOptions options = store::sweep_options(a.jobs > 0 ? a.jobs : default_jobs(), shard);

#if RELUSTAB_WITH_MPI
  if (mpi::launched_with_several_ranks()) {
    const mpi::Session session(argc, argv);
    const bool show = !a.quiet && session.rank() == 0 && stderr_is_terminal();
    io::FileCache files;  // each data file and image set read once for all runs of this rank
    const SweepProgress result = mpi::run_sweep_mpi(
        session, [&] { return store::open_sweep_store(dir, spec); }, options,
        cached_run_inputs(files), show ? SweepProgressCallback(draw_progress) : SweepProgressCallback());
    if (show) std::fprintf(stderr, "\n");
    if (session.rank() == 0) print_sweep_summary(spec.name, result, dir);
    return;
  }
#endif
  const bool show = !a.quiet && stderr_is_terminal();
  const SweepProgress result = store::sweep_experiment(
      spec, dir, options, show ? SweepProgressCallback(draw_progress) : SweepProgressCallback());
  if (show) std::fprintf(stderr, "\n");
  print_sweep_summary(spec.name, result, dir);
}

namespace {

nlohmann::ordered_json counts_to_json(const std::string& dir, const store::StatusCounts& c) {
  nlohmann::ordered_json j;
  j["dir"] = dir;
  j["experiment"] = c.experiment_name;
  j["total"] = c.total;
  j["pending"] = c.pending;
  j["running"] = c.running;
  j["done"] = c.done;
  j["failed"] = c.failed;
  return j;
}

void print_counts(const std::string& label, const store::StatusCounts& c) {
  std::printf("%s: %lld runs: %lld done, %lld failed, %lld running, %lld pending\n", label.c_str(),
              static_cast<long long>(c.total), static_cast<long long>(c.done),
              static_cast<long long>(c.failed), static_cast<long long>(c.running),
              static_cast<long long>(c.pending));
}

void run_status_command(const std::string& dir_text, bool json) {
  const store::DirectoryStatus status = store::directory_status(dir_text);
  const store::StatusCounts& overall = status.overall;
  const auto& shard_counts = status.shards;
  const bool has_database = status.has_database;
  if (json) {
    nlohmann::ordered_json j = counts_to_json(dir_text, overall);
    if (!shard_counts.empty()) {
      j["shards"] = nlohmann::ordered_json::array();
      for (const auto& [path, counts] : shard_counts) j["shards"].push_back(counts_to_json(path, counts));
    }
    std::cout << j.dump() << "\n";
    return;
  }
  std::printf("experiment '%s'\n", overall.experiment_name.c_str());
  print_counts(has_database ? dir_text : dir_text + " (all shards)", overall);
  for (const auto& [path, counts] : shard_counts) print_counts("  " + path, counts);
  if (overall.running > 0) {
    std::printf("(running: executing now, or left by a sweep that was killed; re-running the "
                "sweep redoes those)\n");
  }
}

void run_export_command(const std::string& dir, const std::string& out_path) {
  const std::string csv = store::export_csv(dir);
  if (out_path.empty()) {
    std::cout << csv;
  } else {
    io::write_file_atomically(out_path, csv);
  }
}

void run_merge_command(const std::string& dir_text) {
  const store::MergeSummary merged = store::merge_shards(dir_text);
  for (const int i : merged.missing_shards) {
    std::fprintf(stderr, "relustab: warning: %s has no shard-%d-of-%d; its runs stay pending\n",
                 dir_text.c_str(), i, static_cast<int>(merged.shards + merged.missing_shards.size()));
  }
  const store::StoreSummary& summary = merged.result;
  std::printf("merged %lld finished runs from %zu shards into %s: %lld runs, %lld done, %lld failed, "
              "%lld not finished\n",
              static_cast<long long>(merged.runs_copied), merged.shards, merged.database.c_str(),
              static_cast<long long>(summary.total), static_cast<long long>(summary.done),
              static_cast<long long>(summary.failed),
              static_cast<long long>(summary.pending + summary.running));
}

}  // namespace

Command add_sweep(CLI::App& app, int* argc, char*** argv) {
  auto a = std::make_shared<SweepArgs>();
  auto* sub = app.add_subcommand("sweep", "Run every run of an experiment file (resumable)");
  sub->add_option("experiment", a->experiment_path, "experiment file (TOML)")->required();
  sub->add_option("--out", a->out_dir,
                  "results directory (default: runs/NAME, NAME the experiment file's name without "
                  "extension, under the working directory)");
  sub->add_option("--jobs", a->jobs, "worker threads (default: the hardware threads, shared among MPI ranks on this machine)")
      ->check(CLI::PositiveNumber);
  // One key=value per --set, so that `--set a=1 EXP.toml` does not swallow the file name.
  sub->add_option("--set", a->overrides, "override a parameter: key=value (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--shard", a->shard,
                  "run only shard i of N: the runs whose id - 1 is i modulo N, into DIR/shard-i-of-N");
  sub->add_flag("--quiet", a->quiet, "no progress bar");
  return [a, argc, argv] { run_sweep_command(*a, argc, argv); };
}

Command add_status(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("status", "Count the runs of a results directory by status");
  sub->add_option("dir", *dir, "results directory (of a sweep, or holding shard-i-of-N)")->required();
  sub->add_flag("--json", *json, "print one JSON object");
  return [dir, json] { run_status_command(*dir, *json); };
}

Command add_export(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto csv = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("export", "Write a results directory as tidy CSV (one row per run)");
  sub->add_option("dir", *dir, "results directory")->required();
  // CSV is the one format and the default; --csv says so explicitly (and keeps old commands working).
  sub->add_flag("--csv", *csv, "CSV (the default): id, key, status, reason, every parameter, every metric");
  sub->add_option("--out", *out, "output file (written atomically; default: standard output)");
  // The callback owns `csv` too: CLI11 writes the flag through the reference above while parsing,
  // after this function has returned, so its storage must live as long as the command.
  return [dir, out, csv] { run_export_command(*dir, *out); };
}

Command add_merge(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("merge", "Merge DIR/shard-i-of-N into DIR/results.sqlite");
  sub->add_option("dir", *dir, "results directory holding the shards")->required();
  return [dir] { run_merge_command(*dir); };
}

}  // namespace relustab::cli
