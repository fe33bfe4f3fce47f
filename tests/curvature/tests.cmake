# Tests of the curvature layer (and of the CPU reference back end it is checked against). The back-end
# suites (registry, CPU blocks, sharpness) run once more for every other back end.
set(curvature_test_sources
  curvature/test_cpu_backend.cpp
  curvature/test_dense_curvature.cpp
  curvature/test_lanczos.cpp
  curvature/test_lanczos_restart.cpp
  curvature/test_spectrum.cpp
  curvature/test_sharpness.cpp
  curvature/test_gelu_backend.cpp
  curvature/test_all_backends_curvature.cpp
  curvature/test_engine_combinations.cpp
  curvature/test_univariate_backend.cpp)
set(curvature_test_libs)
find_package(spectra 1.0 CONFIG QUIET)
if(spectra_FOUND)
  list(APPEND curvature_test_sources curvature/test_lanczos_spectra.cpp)
  list(APPEND curvature_test_libs Spectra::Spectra)
else()
  message(STATUS "Spectra not found: the Lanczos-against-Spectra tests are not built")
endif()
relustab_add_test(test_curvature ${curvature_test_sources} LIBS ${curvature_test_libs})
relustab_test_other_backends(test_curvature
  "BackendRegistry.*:CpuBackend*:*CpuBackendTest.*:Sharpness.*:*SharpnessTest.*")
