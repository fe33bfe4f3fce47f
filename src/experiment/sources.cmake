# Sources of relustab::experiment (execute_run, sweep engine, MPI distribution).
target_sources(relustab_experiment PRIVATE
  src/experiment/run_status.cpp
  src/experiment/run_api.cpp
  src/experiment/config_from_json.cpp
  src/experiment/sweep.cpp)
if(RELUSTAB_WITH_MPI)
  target_sources(relustab_experiment PRIVATE src/experiment/mpi_sweep.cpp)
endif()
