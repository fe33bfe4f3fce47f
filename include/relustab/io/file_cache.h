// SPDX-License-Identifier: MIT
// Files read once and shared by the runs of a sweep (thread-safe).
#pragma once

#include <relustab/data/dataset.h>
#include <relustab/data/image_task.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace relustab::io {

/// "fnv1a64:" and 16 hex digits: the 64-bit FNV-1a hash of `bytes`, the hash of run keys. It tells
/// whether a data file changed between runs (not an adversary: no cryptographic hash is needed,
/// and the library links none); the prefix names the function, so another can be added.
std::string content_hash(std::string_view bytes);

/// The data files and image sets of a sweep, each read on first use and then shared: the first
/// call for a file (or an image source and, for IDX, its two files) reads it; later calls, from any
/// thread, get the same data. Fashion-MNIST is then parsed once per sweep, not once per run. A
/// failed read is not cached (the next call reads again and fails with the same message).
class FileCache {
 public:
  /// read_csv(path), copied out (each run owns its data set).
  Dataset csv(const std::string& path);
  /// content_hash() of the bytes csv(path) parsed (the file is read once for both).
  std::string csv_hash(const std::string& path);
  /// read_image_source(source, idx_images, idx_labels), shared.
  std::shared_ptr<const ImageSet> images(DataSource source, const std::string& idx_images,
                                         const std::string& idx_labels);

 private:
  std::mutex mutex_;  // held while a file is read: runs that need it wait for the one read
  struct CsvFile {
    Dataset data;
    std::string hash;
  };
  const CsvFile& csv_file(const std::string& path);  // call with mutex_ held
  std::map<std::string, CsvFile> csv_;
  std::map<std::string, std::shared_ptr<const ImageSet>> images_;
};

}  // namespace relustab::io
