# Run configurations and experiment specs: plain data (no I/O) of the experiment layer, compiled into
# relustab::experiment beside the engine. relustab::config and relustab::store link them from there.
target_sources(relustab_experiment PRIVATE src/experiment/run_config.cpp src/experiment/experiment.cpp)
