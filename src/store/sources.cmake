# Sources of relustab::store (the SQLite results database of an experiment directory).
target_sources(relustab_store PRIVATE
  src/store/result_directory.cpp
  src/store/sqlite_handle.cpp
  src/store/sqlite_store.cpp)
target_include_directories(relustab_store PRIVATE ${PROJECT_SOURCE_DIR}/src)
