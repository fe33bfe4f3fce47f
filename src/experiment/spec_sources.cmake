# Run configurations and experiment specs: plain data, part of relustab::core (no I/O).
target_sources(relustab_core PRIVATE src/experiment/run_config.cpp src/experiment/experiment.cpp)
