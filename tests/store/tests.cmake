# Tests of the results store (SQLite). They open the database directly too, as the oracle.
relustab_add_test(test_store
  store/test_result_store.cpp
  store/test_store_crash.cpp
  store/test_result_directory.cpp)
