# Tests of the io layer (readers, writers, atomic files) and of the data generators.
relustab_add_test(test_io_csv io/test_csv.cpp LIBS relustab_io)
relustab_add_test(test_io_net_json io/test_net_json.cpp LIBS relustab_io nlohmann_json::nlohmann_json)
relustab_add_test(test_io_net_npz io/test_net_npz.cpp LIBS relustab_io ZLIB::ZLIB)
# The numpy-made fixtures; tests/io/data/make_fixture.py regenerates them.
target_compile_definitions(test_io_net_npz PRIVATE
  RELUSTAB_IO_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/io/data")
relustab_add_test(test_io_atomic_file io/test_atomic_file.cpp LIBS relustab_io)
relustab_add_test(test_data_generators io/test_generators.cpp)
