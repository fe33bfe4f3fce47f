# Tests of the results store (SQLite). They open the database directly too, as the oracle.
relustab_add_test(test_result_store store/test_result_store.cpp)
relustab_add_test(test_store_crash store/test_store_crash.cpp)
relustab_add_test(test_result_directory store/test_result_directory.cpp)
