# Tests of the run configuration, experiment specs and the TOML experiment reader.
relustab_add_test(test_run_config config/test_run_config.cpp)
relustab_add_test(test_experiment_spec config/test_experiment_spec.cpp)
relustab_add_test(test_toml_reader config/test_toml_reader.cpp)
