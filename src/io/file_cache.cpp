// SPDX-License-Identifier: MIT
#include <relustab/io/file_cache.h>

#include <relustab/io/formats.h>
#include <relustab/io/idx.h>
#include <relustab/io/atomic_file.h>

#include <cstdint>
#include <cstdio>

namespace relustab::io {

std::string content_hash(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis and prime
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::string("fnv1a64:") + hex;
}

const FileCache::CsvFile& FileCache::csv_file(const std::string& path) {
  auto it = csv_.find(path);
  if (it == csv_.end()) {
    const std::string bytes = read_file(path);
    it = csv_.emplace(path, CsvFile{parse_csv(bytes, path), content_hash(bytes)}).first;
  }
  return it->second;
}

Dataset FileCache::csv(const std::string& path) {
  const std::lock_guard lock(mutex_);
  return csv_file(path).data;
}

std::string FileCache::csv_hash(const std::string& path) {
  const std::lock_guard lock(mutex_);
  return csv_file(path).hash;
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
