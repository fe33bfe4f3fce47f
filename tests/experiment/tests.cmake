# Tests of the experiment layer: execute_run, the run API, the worker loop and the sweep engine
# (library), and the sweep/status/export/merge commands end to end (they run RELUSTAB_BIN and read the
# database directly with SQLite as the oracle).
relustab_add_test(test_experiment
  experiment/test_execute_run.cpp
  experiment/test_run_api.cpp
  experiment/test_drain_queue.cpp
  experiment/test_run_sweep.cpp
  experiment/test_sweep_cli.cpp
  experiment/test_sweep_extend.cpp
  experiment/test_loss_convention.cpp
  experiment/test_spectrum_api.cpp
  experiment/test_run_spectrum.cpp)
