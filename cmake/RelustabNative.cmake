# SPDX-License-Identifier: MIT
# RELUSTAB_NATIVE: compile for the build machine's CPU (-march=native -ffp-contract=off). Opt-in, for
# local builds (scripts/setup.sh and the release preset turn it on): Eigen's matrix kernels then use
# AVX2/AVX-512 and FMA (2-3x on the large products of multivariate nets, workload W4). -ffp-contract=off
# keeps every a * b + c written in our own code as two roundings, as without the option (the univariate
# back end's w * x + b must match the reference bit for bit); Eigen's kernels call FMA explicitly.
#
# ABI: Eigen's alignment and vectorisation (EIGEN_MAX_ALIGN_BYTES, the layout of fixed-size objects,
# which kernels an inline function compiles to) follow the instruction set, so every translation unit
# that shares Eigen objects with the library must be compiled with the same flags. The flags are
# therefore PUBLIC on relustab::core: the CLI, the tests and the benchmarks of this tree get them, and so
# does an installed package (they are part of relustab::core's exported interface). A consumer of a
# native install compiles with -march=native too, which matches the library only on a machine of the
# same kind: install a build with RELUSTAB_NATIVE=OFF (the default) for anything else.
option(RELUSTAB_NATIVE "Compile for the build machine's CPU (-march=native -ffp-contract=off); consumers of an install inherit it" OFF)
if(RELUSTAB_NATIVE)
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag("-march=native -ffp-contract=off" RELUSTAB_HAS_MARCH_NATIVE)
  if(RELUSTAB_HAS_MARCH_NATIVE)
    target_compile_options(relustab_core PUBLIC -march=native -ffp-contract=off)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      # GCC 12 false positives that appear only with these instructions: its own AVX-512 intrinsics
      # (the self-initialised __Y of _mm512_undefined_pd and friends, inlined into Eigen's kernels;
      # GCC bug 105593) are "(maybe) used uninitialized" in every file that multiplies matrices, and
      # its vectoriser reports a byte swap as a stringop overflow. A build with RELUSTAB_NATIVE=OFF,
      # or a newer compiler, still runs these warnings on our code.
      target_compile_options(relustab_warnings INTERFACE -Wno-maybe-uninitialized -Wno-uninitialized
                             -Wno-stringop-overflow)
    endif()
  else()
    message(STATUS "The compiler does not accept -march=native: RELUSTAB_NATIVE has no effect")
  endif()
endif()
