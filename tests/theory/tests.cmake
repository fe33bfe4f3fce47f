# Theorems checked on real training runs, with every back end.
relustab_add_test(test_theory theory/test_theorem1_runs.cpp)
relustab_test_other_backends(test_theory "*")
