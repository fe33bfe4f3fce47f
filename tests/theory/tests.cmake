# Theorems checked on real training runs.
relustab_add_test(test_theorem1_runs theory/test_theorem1_runs.cpp)
relustab_test_other_backends(test_theorem1_runs)
