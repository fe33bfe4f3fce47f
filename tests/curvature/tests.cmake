# Tests of the curvature layer (and of the CPU reference back end it is checked against).
relustab_add_test(test_cpu_backend curvature/test_cpu_backend.cpp)
relustab_test_other_backends(test_cpu_backend)
relustab_add_test(test_dense_curvature curvature/test_dense_curvature.cpp)
relustab_add_test(test_lanczos curvature/test_lanczos.cpp)
# Thick restart: a basis far smaller than the iterations, against the dense solver.
relustab_add_test(test_lanczos_restart curvature/test_lanczos_restart.cpp)
relustab_add_test(test_sharpness curvature/test_sharpness.cpp)
relustab_test_other_backends(test_sharpness)
relustab_add_test(test_gelu_backend curvature/test_gelu_backend.cpp)
# Every back end in backend_names() (any activation): dense, Lanczos and finite-difference curvature.
relustab_add_test(test_all_backends_curvature curvature/test_all_backends_curvature.cpp)
# The engine over every (back end, activation, depth) that exists, against independent oracles, and
# the refusal of those that do not exist.
relustab_add_test(test_engine_combinations curvature/test_engine_combinations.cpp)

# Spectra (header-only) is a second, independent Lanczos used only as an oracle here; machines
# without its headers skip this one test.
find_package(spectra 1.0 CONFIG QUIET)
if(spectra_FOUND)
  relustab_add_test(test_lanczos_spectra curvature/test_lanczos_spectra.cpp LIBS Spectra::Spectra)
else()
  message(STATUS "Spectra not found: test_lanczos_spectra is not built")
endif()
# The sorted-knot back end against the CPU reference on single calls, kinks, caches and whole runs.
relustab_add_test(test_univariate_backend curvature/test_univariate_backend.cpp)
