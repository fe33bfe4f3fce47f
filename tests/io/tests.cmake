# Tests of the io layer (readers, writers, atomic files, files from PyTorch and numpy, image sets) and
# of the data generators.
relustab_add_test(test_io
  io/test_csv.cpp
  io/test_net_json.cpp
  io/test_net_npz.cpp
  io/test_pytorch_files.cpp
  io/test_atomic_file.cpp
  io/test_generators.cpp
  io/test_idx.cpp
  io/test_image_task.cpp
  io/test_images_cli.cpp)
