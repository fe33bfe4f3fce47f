# SPDX-License-Identifier: MIT
# Install rules and the relustab CMake package (relustabConfig.cmake, relustabConfigVersion.cmake,
# relustabTargets.cmake) under <prefix>/lib/cmake/relustab. tests/consumer is a project that uses it.
include(CMakePackageConfigHelpers)

set(relustab_components "")
foreach(library IN LISTS relustab_libraries)
  string(REPLACE "relustab_" "" component "${library}")
  list(APPEND relustab_components "${component}")
endforeach()
if(RELUSTAB_NATIVE AND RELUSTAB_HAS_MARCH_NATIVE)
  set(relustab_native_flags ON)
else()
  set(relustab_native_flags OFF)
endif()

install(TARGETS ${relustab_libraries} relustab_all
        EXPORT relustabTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# Every public header (the umbrella relustab.h includes them all); the libraries not built leave
# headers without their definitions, which find_package's COMPONENTS tells apart.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/relustab DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(RELUSTAB_BUILD_CLI)
  install(TARGETS relustab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(relustab_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/relustab)
install(EXPORT relustabTargets NAMESPACE relustab:: DESTINATION ${relustab_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/relustabConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/relustabConfig.cmake
                              INSTALL_DESTINATION ${relustab_cmake_dir})
# A request for version X.Y is met by any X.Z with Z >= Y.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/relustabConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/relustabConfig.cmake ${PROJECT_BINARY_DIR}/relustabConfigVersion.cmake
        DESTINATION ${relustab_cmake_dir})
