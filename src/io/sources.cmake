target_sources(relustab_io PRIVATE
  src/io/atomic_file.cpp
  src/io/byte_stream.cpp
  src/io/csv.cpp
  src/io/file_cache.cpp
  src/io/idx.cpp
  src/io/image_sets.cpp
  src/io/net_json.cpp
  src/io/net_npz.cpp
  src/io/npy.cpp
  src/io/zip_archive.cpp)
