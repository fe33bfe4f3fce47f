# Tests of issue 4's commands and reproduction targets: `relustab curves` against brute force, the
# plumbing of `reproduce` and `plot` (stand-in source tree and interpreter), and the acceptance tests,
# which run every target's quick setting through RELUSTAB_BIN and check the papers' claims on the
# results database (read with SQLite directly) and the figure files.
relustab_add_test(test_reproduce_cli
  reproduce/test_curves.cpp
  reproduce/test_reproduce_command.cpp)
add_dependencies(test_reproduce_cli relustab)
relustab_add_test(test_reproduce_targets reproduce/test_targets.cpp)
add_dependencies(test_reproduce_targets relustab)
relustab_add_test(test_reproduce_targets_papers34 reproduce/test_targets_papers34.cpp)
add_dependencies(test_reproduce_targets_papers34 relustab)
