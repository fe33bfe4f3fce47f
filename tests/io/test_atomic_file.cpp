// SPDX-License-Identifier: MIT
// Whole-or-nothing file output, through write_file_atomically and through every writer that uses it.
#include <relustab/io/atomic_file.h>
#include <relustab/io/formats.h>

#include "io/io_test_util.h"

#include <gtest/gtest.h>

namespace relustab {
namespace {

using testing::ScratchDir;

std::vector<std::string> directory_listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AtomicFile, MissingDirectoryThrowsAndLeavesNoFile) {
  const ScratchDir dir;
  const std::string path = dir.file("no_such_dir/out.txt");
  RELUSTAB_EXPECT_INPUT_ERROR(io::write_file_atomically(path, "hello"), path, "cannot create");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "no_such_dir"));
  EXPECT_TRUE(directory_listing(dir.path()).empty());

  // The same through each writer.
  Dataset data;
  data.X = RowMatrix{{1.0}};
  data.y = Vec{{2.0}};
  const ShallowReluNet net(1, 1, Vec{{1.0, 2.0, 3.0, 4.0}});
  RELUSTAB_EXPECT_INPUT_ERROR(io::write_csv(dir.file("no_such_dir/d.csv"), data), dir.file("no_such_dir/d.csv"));
  RELUSTAB_EXPECT_INPUT_ERROR(io::write_net_json(dir.file("no_such_dir/n.json"), net),
                              dir.file("no_such_dir/n.json"));
  RELUSTAB_EXPECT_INPUT_ERROR(io::write_net_npz(dir.file("no_such_dir/n.npz"), net), dir.file("no_such_dir/n.npz"));
  EXPECT_TRUE(directory_listing(dir.path()).empty());
}

TEST(AtomicFile, ExistingFileIsReplacedWhole) {
  const ScratchDir dir;
  const std::string path = dir.file("out.txt");
  const std::string long_text(100000, 'a');
  io::write_file_atomically(path, long_text);
  EXPECT_EQ(io::read_file(path), long_text);
  io::write_file_atomically(path, "short");
  // Oracle: a shorter write over a longer file leaves exactly the new bytes (no tail of the old file).
  EXPECT_EQ(io::read_file(path), "short");
  EXPECT_EQ(std::filesystem::file_size(path), 5u);
  EXPECT_EQ(directory_listing(dir.path()), std::vector<std::string>{"out.txt"});  // no temporary left over
}

TEST(AtomicFile, FailedWriterLeavesTheOldFileIntact) {
  const ScratchDir dir;
  const std::string path = dir.file("net.json");
  const ShallowReluNet good(1, 1, Vec{{1.0, 2.0, 3.0, 4.0}});
  io::write_net_json(path, good);
  const std::string before = io::read_file(path);
  const ShallowReluNet diverged(1, 1, Vec{{1.0, INFINITY, 3.0, 4.0}});
  RELUSTAB_EXPECT_INPUT_ERROR(io::write_net_json(path, diverged), path);
  EXPECT_EQ(io::read_file(path), before);
  EXPECT_EQ(directory_listing(dir.path()), std::vector<std::string>{"net.json"});
}

TEST(AtomicFile, BinaryContentsSurviveUnchanged) {
  const ScratchDir dir;
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += std::string("\0\r\n\x1a", 4);
  io::write_file_atomically(dir.file("bin"), bytes);
  EXPECT_EQ(io::read_file(dir.file("bin")), bytes);
  RELUSTAB_EXPECT_INPUT_ERROR(io::read_file(dir.file("absent")), dir.file("absent"));
}

}  // namespace
}  // namespace relustab
