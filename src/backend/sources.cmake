target_sources(relustab_core PRIVATE src/backend/registry.cpp src/backend/cpu/cpu_backend.cpp)
