# Sources of relustab::experiment (execute_run, sweep engine, MPI distribution).
target_sources(relustab_experiment PRIVATE src/experiment/run_status.cpp)
