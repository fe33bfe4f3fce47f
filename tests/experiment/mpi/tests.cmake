# Tests of sweeps distributed over MPI ranks: run under mpiexec with 2 ranks; label "mpi".
# Only with the MPI part of the experiment library and a launcher (FindMPI's MPIEXEC_EXECUTABLE).
if(RELUSTAB_WITH_MPI AND MPIEXEC_EXECUTABLE)
  find_package(Python3 COMPONENTS Interpreter)
  # Ranks for the tests: 2, even on a machine with fewer cores (oversubscription is allowed below).
  set(RELUSTAB_MPI_TEST_RANKS 2)
  # OpenMPI refuses to run as root without these and to place more ranks than cores without the
  # last one; other MPI implementations ignore them. The machines the suite runs on (containers,
  # CI) are often root and small.
  set(RELUSTAB_MPI_TEST_ENV
    "OMPI_ALLOW_RUN_AS_ROOT=1"
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
    "OMPI_MCA_rmaps_base_oversubscribe=1")
  # In a sanitizer build (scripts/test_sanitize.sh): OpenMPI keeps allocations of its plugins until
  # exit and unloads the plugins first, so LeakSanitizer reports them without a module to name or
  # suppress. Leak checking is off for these tests only; every other AddressSanitizer check stays on
  # (the variable means nothing to a build without it).
  list(APPEND RELUSTAB_MPI_TEST_ENV "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1")

  # The protocol against an in-memory store: a GoogleTest program with its own main (MPI_Init).
  relustab_add_test(test_mpi_sweep experiment/mpi/test_mpi_sweep.cpp LIBS MPI::MPI_CXX NO_MAIN)
  add_test(NAME mpi_sweep_protocol
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${RELUSTAB_MPI_TEST_RANKS}
            ${MPIEXEC_PREFLAGS} $<TARGET_FILE:test_mpi_sweep> ${MPIEXEC_POSTFLAGS})

  set(mpi_tests mpi_sweep_protocol)

  # End to end: `mpiexec relustab sweep` against `relustab sweep`, compared through `export --csv`
  # and the database (Python's csv and sqlite3 modules read them).
  if(Python3_Interpreter_FOUND)
    add_test(NAME mpi_sweep_matches_local
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/experiment/mpi/sweep_matches_local.sh
              $<TARGET_FILE:relustab> ${Python3_EXECUTABLE} ${MPIEXEC_EXECUTABLE}
              ${MPIEXEC_NUMPROC_FLAG} ${RELUSTAB_MPI_TEST_RANKS})
    # Fault: kill -9 of a rank in the middle, then the same command again.
    add_test(NAME mpi_sweep_rank_killed_resumes
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/experiment/mpi/rank_killed_resumes.sh
              $<TARGET_FILE:relustab> ${Python3_EXECUTABLE} ${MPIEXEC_EXECUTABLE}
              ${MPIEXEC_NUMPROC_FLAG} ${RELUSTAB_MPI_TEST_RANKS})
    list(APPEND mpi_tests mpi_sweep_matches_local mpi_sweep_rank_killed_resumes)
  endif()
  set_tests_properties(${mpi_tests} PROPERTIES
    LABELS mpi
    TIMEOUT 300
    PROCESSORS ${RELUSTAB_MPI_TEST_RANKS}
    ENVIRONMENT "${RELUSTAB_MPI_TEST_ENV}")
endif()
