# Tests of the train layer. The trainer's suite runs once more for every other back end.
relustab_add_test(test_train
  train/test_init.cpp
  train/test_trainer.cpp
  train/test_adam.cpp
  train/test_batched.cpp
  train/test_output_fit.cpp
  train/test_lanes.cpp)
relustab_test_other_backends(test_train "Trainer.*")
