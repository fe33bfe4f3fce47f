target_sources(relustab_core PRIVATE src/backend/backend.cpp src/backend/registry.cpp src/backend/cpu/cpu_backend.cpp
  src/backend/cpu/cpu_deep.cpp src/backend/univariate/univariate_backend.cpp)
# Activity is decided by the sign of w x + b, which must round exactly as in the reference back end:
# no fused multiply-add contraction in the sorted-knot kernels.
set_source_files_properties(src/backend/univariate/univariate_backend.cpp PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")
