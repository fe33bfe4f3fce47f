# Tests of the curves and reproduce commands and of the reproduction targets: `relustab curves` against
# brute force, the plumbing of `reproduce` and `plot` (stand-in source tree and interpreter), and the
# acceptance tests, which run every target's quick setting through RELUSTAB_BIN and check the papers'
# claims on the results database (read with SQLite directly) and the figure files.
relustab_add_test(test_reproduce
  reproduce/test_curves.cpp
  reproduce/test_reproduce_command.cpp
  reproduce/test_targets.cpp
  reproduce/test_targets_papers34.cpp)
