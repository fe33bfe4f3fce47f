// SPDX-License-Identifier: MIT
// Files read once and shared by the runs of a sweep (thread-safe).
#pragma once

#include <relustab/data/dataset.h>
#include <relustab/data/image_task.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace relustab::io {

/// The data files and image sets of a sweep, each read on first use and then shared: the first
/// call for a file (or an image source and, for IDX, its two files) reads it; later calls, from any
/// thread, get the same data. Fashion-MNIST is then parsed once per sweep, not once per run. A
/// failed read is not cached (the next call reads again and fails with the same message).
class FileCache {
 public:
  /// read_csv(path), copied out (each run owns its data set).
  Dataset csv(const std::string& path);
  /// read_image_source(source, idx_images, idx_labels), shared.
  std::shared_ptr<const ImageSet> images(DataSource source, const std::string& idx_images,
                                         const std::string& idx_labels);

 private:
  std::mutex mutex_;  // held while a file is read: runs that need it wait for the one read
  std::map<std::string, Dataset> csv_;
  std::map<std::string, std::shared_ptr<const ImageSet>> images_;
};

}  // namespace relustab::io
