// SPDX-License-Identifier: MIT
// Shards of a results directory: parsing "i/N", the directory names, finding them in order.
#include <relustab/core/error.h>
#include <relustab/experiment/result_directory.h>

#include "io/io_test_util.h"

#include <gtest/gtest.h>

#include <filesystem>

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

}  // namespace
}  // namespace relustab::store
