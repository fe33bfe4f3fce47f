# Sources of the core layer (the thread pool and the device names; the rest of core is header-only).
target_sources(relustab_core PRIVATE src/core/thread_pool.cpp src/core/device.cpp)
