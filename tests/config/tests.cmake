# Tests of the run configuration, experiment specs and the TOML experiment reader.
relustab_add_test(test_config
  config/test_run_config.cpp
  config/test_experiment_spec.cpp
  config/test_toml_reader.cpp)
