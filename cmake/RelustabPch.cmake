# SPDX-License-Identifier: MIT
# Precompiled headers (RELUSTAB_PCH, off by default: see CMakeLists.txt): the third-party headers that nearly every
# translation unit parses (Eigen in the core, CLI11 and nlohmann/json in the command line; the tests'
# GoogleTest is in tests/CMakeLists.txt). Only headers that never change with our sources, so an edit
# of ours never invalidates them. With ccache, set CCACHE_SLOPPINESS=pch_defines,time_macros (and
# include_file_mtime,include_file_ctime) or ccache compiles these files without its cache.
if(NOT RELUSTAB_PCH)
  return()
endif()

set(relustab_pch_std <algorithm> <cmath> <functional> <memory> <string> <string_view> <vector>)
target_precompile_headers(relustab_core PRIVATE <Eigen/Core> <Eigen/Eigenvalues> <Eigen/QR>
                          <Eigen/Cholesky> ${relustab_pch_std})
# Compiled with its own -ffp-contract=off (src/backend/sources.cmake), which a precompiled header
# built without it does not match.
set_source_files_properties(src/backend/univariate/univariate_backend.cpp TARGET_DIRECTORY relustab_core
                            PROPERTIES SKIP_PRECOMPILE_HEADERS ON)

if(RELUSTAB_BUILD_CLI)
  target_precompile_headers(relustab PRIVATE <CLI/CLI.hpp> <nlohmann/json.hpp> <Eigen/Core>
                            ${relustab_pch_std} <filesystem> <iostream> <optional>)
endif()
