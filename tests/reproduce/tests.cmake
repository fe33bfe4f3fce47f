# Tests of issue 4's commands and reproduction targets: `relustab curves` against brute force, the
# plumbing of `reproduce` and `plot` (stand-in source tree and interpreter), and the acceptance tests,
# which run every target's quick setting through RELUSTAB_BIN and check the papers' claims on the
# results database (read with SQLite directly) and the figure files.
relustab_add_test(test_reproduce_cli
  reproduce/test_curves.cpp
  reproduce/test_reproduce_command.cpp
  LIBS relustab_config SQLite::SQLite3 nlohmann_json::nlohmann_json)
add_dependencies(test_reproduce_cli relustab)
relustab_add_test(test_reproduce_targets reproduce/test_targets.cpp
  LIBS SQLite::SQLite3 nlohmann_json::nlohmann_json)
add_dependencies(test_reproduce_targets relustab)
relustab_add_test(test_reproduce_targets_papers34 reproduce/test_targets_papers34.cpp
  LIBS SQLite::SQLite3 nlohmann_json::nlohmann_json)
add_dependencies(test_reproduce_targets_papers34 relustab)
# The real experiment files and figure scripts live in the source tree.
target_compile_definitions(test_reproduce_cli PRIVATE RELUSTAB_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_compile_definitions(test_reproduce_targets PRIVATE RELUSTAB_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_compile_definitions(test_reproduce_targets_papers34 PRIVATE RELUSTAB_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
