target_sources(relustab_io PRIVATE src/io/atomic_file.cpp)
