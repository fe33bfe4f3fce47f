// SPDX-License-Identifier: MIT
// Shards of a results directory: parsing "i/N", the directory names, finding them in order; reading a
// directory the user may not write (status and export, checked in a child process without root's rights).
#include <relustab/core/error.h>
#include <relustab/experiment/result_directory.h>

#include "io/io_test_util.h"
#include "store/store_test_util.h"

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>

namespace relustab::store {
namespace {

TEST(Shards, ParseAcceptsIOfNWithIBelowNAndNothingElse) {
  const Shard shard = parse_shard("2/5");
  EXPECT_EQ(shard.index, 2);
  EXPECT_EQ(shard.count, 5);
  EXPECT_EQ(parse_shard("0/1").count, 1);
  for (const char* bad : {"5/5", "-1/2", "a/b", "1", "1/", "/2", "1/2x", "0/0", ""}) {
    EXPECT_THROW(parse_shard(bad), InputError) << bad;
  }
}

TEST(Shards, DirectoryNamesRoundTripAndAreFoundInOrder) {
  EXPECT_EQ(shard_dir_name({3, 8}), "shard-3-of-8");
  const std::optional<Shard> named = shard_of("runs/exp/shard-3-of-8/");
  ASSERT_TRUE(named.has_value());
  EXPECT_EQ(named->index, 3);
  EXPECT_EQ(named->count, 8);
  EXPECT_FALSE(shard_of("runs/exp/shard-8-of-8").has_value());
  EXPECT_FALSE(shard_of("runs/exp").has_value());
  testing::ScratchDir dir;
  for (const char* name : {"shard-1-of-2", "shard-0-of-2", "shard-x-of-2", "other"}) {
    std::filesystem::create_directories(dir.path() / name);
  }
  testing::write_bytes(dir.file("shard-1-of-3"), "a file, not a shard");
  const auto shards = find_shards(dir.path().string());
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0].first.index, 0);
  EXPECT_EQ(shards[1].first.index, 1);
  EXPECT_EQ(std::filesystem::path(shards[1].second).filename(), "shard-1-of-2");
  // No database and no shards: refused, naming the directory.
  std::filesystem::remove_all(dir.path() / "shard-0-of-2");
  std::filesystem::remove_all(dir.path() / "shard-1-of-2");
  EXPECT_THROW(directory_status(dir.path().string()), InputError);
  EXPECT_THROW(merge_shards(dir.path().string()), InputError);
}

std::set<std::string> entries(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

/// Runs `check` in a child process that cannot write `dir` (as the user nobody when this test runs as
/// root, whom permissions do not stop); returns its exit status (0: the check held).
int run_without_write_access(const std::function<bool()>& check) {
  const pid_t child = fork();
  if (child == 0) {
    if (geteuid() == 0) {
      constexpr uid_t kNobody = 65534;
      if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(3);
    }
    try {
      _exit(check() ? 0 : 1);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "read-only child: %s\n", e.what());
      _exit(2);
    }
  }
  int status = -1;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/// Reading results needs no write access: status and export of a directory (and database) the reader
/// cannot write give what the writer saw, and leave no file behind (no -shm index, no lock file).
TEST(ResultDirectory, StatusAndExportNeedNoWriteAccess) {
  namespace fs = std::filesystem;
  testing::ScratchDir scratch;
  const fs::path dir = scratch.path() / "results";
  const std::vector<RunConfig> configs = testing::make_configs(5);
  std::string expected_csv;
  {
    auto store = ResultStore::open(dir.string(), true);
    store->register_runs(R"({"name":"readonly","axes":[{"key":"optim.eta"}]})", "readonly", configs);
    Rng rng(4);
    std::vector<RunResult> results;
    for (std::size_t i = 0; i < 3; ++i) results.push_back(testing::make_result(configs[i], rng));
    store->write_results(results);
    expected_csv = store->export_csv();
  }
  // As a finished sweep leaves it: the writer closed, so no -wal or -shm file (SQLite removes them);
  // a reader without write access cannot create the -shm index a WAL database normally needs.
  const std::set<std::string> before = entries(dir);
  ASSERT_EQ(before, (std::set<std::string>{"results.lock", "results.sqlite"}));
  // Readable and searchable by everyone, writable by no one.
  fs::permissions(scratch.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                      fs::perms::others_read | fs::perms::others_exec);
  const fs::perms read_only_dir = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                  fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec;
  for (const auto& entry : fs::directory_iterator(dir)) {
    fs::permissions(entry.path(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  }
  fs::permissions(dir, read_only_dir);
  const int status = run_without_write_access([&] {
    const StatusCounts counts = directory_status(dir.string()).overall;
    return counts.done == 3 && counts.pending == 2 && counts.total == 5 && export_csv(dir.string()) == expected_csv;
  });
  fs::permissions(dir, fs::perms::owner_all);
  EXPECT_EQ(status, 0) << "1: different results, 2: an error (above), 3: could not drop root's rights";
  EXPECT_EQ(entries(dir), before);
  // And with write access, the same through the read-only path (nothing was cached in the child).
  EXPECT_EQ(export_csv(dir.string()), expected_csv);
  EXPECT_EQ(directory_status(dir.string()).overall.done, 3);
}

/// A writer killed after committing leaves its pages in the -wal file. Without write access to the
/// directory SQLite cannot read them (it needs the -shm index, which it cannot create), and reading
/// the database file alone would silently miss them: the reader refuses with a message that says
/// why and what to do, writes nothing, and with write access the committed results are all there.
TEST(ResultDirectory, AWalFileWithPagesIsRefusedWithoutWriteAccess) {
  namespace fs = std::filesystem;
  testing::ScratchDir scratch;
  const fs::path dir = scratch.path() / "results";
  const std::vector<RunConfig> configs = testing::make_configs(4);
  const pid_t writer = fork();
  if (writer == 0) {
    auto store = ResultStore::open(dir.string(), true);
    store->register_runs(R"({"name":"killed","axes":[{"key":"optim.eta"}]})", "killed", configs);
    Rng rng(5);
    const std::vector<RunResult> results{testing::make_result(configs[0], rng),
                                         testing::make_result(configs[1], rng)};
    store->write_results(results);
    _exit(0);  // no destructors: the connection is not closed, as when the process is killed
  }
  int writer_status = -1;
  waitpid(writer, &writer_status, 0);
  ASSERT_TRUE(WIFEXITED(writer_status) && WEXITSTATUS(writer_status) == 0);
  const fs::path database = dir / kDatabaseFileName;
  const fs::path wal = database.string() + "-wal";
  ASSERT_TRUE(fs::is_regular_file(wal));
  ASSERT_GT(fs::file_size(wal), 0u);
  fs::remove(database.string() + "-shm");  // e.g. a copy of the directory without the index
  const std::set<std::string> before = entries(dir);

  fs::permissions(scratch.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                      fs::perms::others_read | fs::perms::others_exec);
  for (const auto& entry : fs::directory_iterator(dir)) {
    fs::permissions(entry.path(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  }
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                           fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const auto refused_naming_the_wal = [&](const std::function<void()>& read) {
    try {
      read();
    } catch (const InputError& e) {
      const std::string message = e.what();
      return message.find(database.string()) != std::string::npos &&
             message.find("-wal file holds " + std::to_string(fs::file_size(wal)) + " bytes") !=
                 std::string::npos &&
             message.find("copy the directory") != std::string::npos;
    }
    return false;
  };
  const int status = run_without_write_access([&] {
    return refused_naming_the_wal([&] { directory_status(dir.string()); }) &&
           refused_naming_the_wal([&] { export_csv(dir.string()); });
  });
  fs::permissions(dir, fs::perms::owner_all);
  EXPECT_EQ(status, 0) << "1: not refused as expected, 2: another error (above), 3: could not drop root's rights";
  EXPECT_EQ(entries(dir), before);
  // With write access SQLite replays the -wal: both committed results are there.
  const StatusCounts counts = directory_status(dir.string()).overall;
  EXPECT_EQ(counts.done, 2);
  EXPECT_EQ(counts.total, 4);
}

}  // namespace
}  // namespace relustab::store
