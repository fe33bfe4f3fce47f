# Tests of the core layer: the thread pool, RunContext and the device names; results of parallel
# products and training bit-identical for any thread count.
relustab_add_test(test_core core/test_thread_pool.cpp core/test_thread_count_determinism.cpp)
