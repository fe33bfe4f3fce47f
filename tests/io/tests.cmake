# Tests of the io layer (readers, writers, atomic files) and of the data generators.
relustab_add_test(test_io_csv io/test_csv.cpp)
relustab_add_test(test_io_net_json io/test_net_json.cpp)
relustab_add_test(test_io_net_npz io/test_net_npz.cpp)
relustab_add_test(test_io_pytorch_files io/test_pytorch_files.cpp)
relustab_add_test(test_io_atomic_file io/test_atomic_file.cpp)
relustab_add_test(test_data_generators io/test_generators.cpp)
# Image data: IDX and digits readers, the binary-task builder, and `relustab images`.
relustab_add_test(test_io_idx io/test_idx.cpp)
relustab_add_test(test_data_image_task io/test_image_task.cpp)
relustab_add_test(test_cli_images io/test_images_cli.cpp)
add_dependencies(test_cli_images relustab)
