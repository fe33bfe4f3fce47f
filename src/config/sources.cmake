# Sources of relustab::config (TOML experiment files).
target_sources(relustab_config PRIVATE src/config/toml_reader.cpp)
