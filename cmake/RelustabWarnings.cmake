# SPDX-License-Identifier: MIT
# Warnings for relustab's own targets (never applied to third-party code).
add_library(relustab_warnings INTERFACE)
target_compile_options(relustab_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wno-sign-conversion)
if(RELUSTAB_WERROR)
  target_compile_options(relustab_warnings INTERFACE -Werror)
endif()
