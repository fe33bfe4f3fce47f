# Tests of the command line: run the built binary (RELUSTAB_BIN) on small files.
relustab_add_test(test_cli
  cli/test_cli_errors.cpp
  cli/test_cli_contract.cpp
  cli/test_cli_gelu.cpp
  cli/test_cli_step_size.cpp
  cli/test_cli_spectrum.cpp)
