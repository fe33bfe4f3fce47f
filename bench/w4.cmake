# SPDX-License-Identifier: MIT
# Benchmark workload W4: GD step, Hessian-vector product and sharpness (Lanczos, tol 1e-9) of a d = 784,
# width 1000 net on n = 1000 inputs, on 1 and 2 threads. bench/w4_sharpness.sh runs it beside the
# PyTorch peer bench/peers/torch_w4_sharpness.py. Included by bench/CMakeLists.txt.
if(NOT TARGET relustab_io)
  message(FATAL_ERROR "The benchmarks need RELUSTAB_BUILD_IO=ON (relustab_w4 reads Fashion-MNIST)")
endif()
add_executable(relustab_w4 ${CMAKE_CURRENT_LIST_DIR}/w4.cpp)
target_link_libraries(relustab_w4 PRIVATE relustab_core relustab_io relustab_warnings)

# Smoke check of the driver (not timed): a small net on two blocks of samples must give bit-identical
# results on 1 and 2 threads and a converged sharpness (P = 661 > dense_max, so Lanczos runs).
if(RELUSTAB_BUILD_TESTS)
  add_test(NAME bench_w4_small
           COMMAND relustab_w4 --n 300 --d 20 --width 30 --threads 1,2 --repeat 1)
  set_tests_properties(bench_w4_small PROPERTIES
                       PASS_REGULAR_EXPRESSION "converged yes.*converged yes.*bit-identical across thread counts: yes")
  # The trace and density rows (W4-trace, W4-density): the probes and steps asked for, and the same
  # estimates on 1 and 2 threads.
  add_test(NAME bench_w4_small_spectrum
           COMMAND relustab_w4 --n 300 --d 20 --width 30 --threads 1,2 --repeat 1 --trace-samples 5
                   --density-probes 2 --density-steps 4)
  set_tests_properties(bench_w4_small_spectrum PROPERTIES
                       PASS_REGULAR_EXPRESSION "threads=1 trace: [0-9.]+ s .*probes=5 hvps=5 trace=.*threads=1 density: [0-9.]+ s .*probes=2 steps=4 hvps=8 nodes=8 mass=.*threads=2 trace: .*bit-identical across thread counts: yes")
endif()
