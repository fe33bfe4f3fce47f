// SPDX-License-Identifier: MIT
#include <relustab/io/file_cache.h>

#include <relustab/io/formats.h>
#include <relustab/io/idx.h>

namespace relustab::io {

Dataset FileCache::csv(const std::string& path) {
  const std::lock_guard lock(mutex_);
  auto it = csv_.find(path);
  if (it == csv_.end()) it = csv_.emplace(path, read_csv(path)).first;
  return it->second;
}

std::shared_ptr<const ImageSet> FileCache::images(DataSource source, const std::string& idx_images,
                                                  const std::string& idx_labels) {
  std::string key(data_source_name(source));
  if (source == DataSource::Idx) key += '\0' + idx_images + '\0' + idx_labels;
  const std::lock_guard lock(mutex_);
  auto it = images_.find(key);
  if (it == images_.end()) {
    it = images_
             .emplace(key, std::make_shared<const ImageSet>(
                               read_image_source(source, idx_images, idx_labels)))
             .first;
  }
  return it->second;
}

}  // namespace relustab::io
