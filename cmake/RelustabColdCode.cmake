# SPDX-License-Identifier: MIT
# Optimisation of the code that is not hot. The numerical libraries (core, io, experiment) keep the
# build type's flags (Release: -O3); the command line, the TOML and SQLite layers and the test sources
# compile at RELUSTAB_COLD_OPTIMIZATION (default -O2) in optimised builds. They parse, print, store
# and check, and their running time is spent in the libraries they call, while their compile time is
# most of a clean build (the test suite alone about two thirds): -O2 compiles a test source in about
# 16% less time than -O3.
# Why not -O1 (29% less): with the tests at -O1, flattest_over_implementations gave 7.64573 in a test
# process and 7.64591 in the command line on the same net (AnalyzeFlattestCli). A test executable links
# the tests' own -O1 copies of inline code it shares with the library (Eigen's templates), and where that
# search stops short of its certificate depends on the last bits of its arithmetic (a one-ulp change of
# one input moves it by up to a few percent; FlattestAll.UlpPerturbedInputsGiveBracketsOfOneMinimum).
# At -O2 every test passes bit for bit.
set(RELUSTAB_COLD_OPTIMIZATION "-O2" CACHE STRING
    "Optimisation flag of the CLI, config, store and test sources in optimised builds (empty: the build type's)")
add_library(relustab_cold_code INTERFACE)
if(RELUSTAB_COLD_OPTIMIZATION)
  # After the build type's flags on the command line, so it wins; Debug builds keep theirs.
  target_compile_options(relustab_cold_code INTERFACE $<$<NOT:$<CONFIG:Debug>>:${RELUSTAB_COLD_OPTIMIZATION}>)
endif()
