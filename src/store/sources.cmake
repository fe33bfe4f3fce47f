# Sources of relustab::store (SQLite results).
target_sources(relustab_store PRIVATE src/store/sqlite_store.cpp)
