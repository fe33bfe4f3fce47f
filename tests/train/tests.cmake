# Tests of the train layer.
relustab_add_test(test_init train/test_init.cpp)
relustab_add_test(test_trainer train/test_trainer.cpp)
relustab_add_test(test_adam train/test_adam.cpp)
relustab_test_other_backends(test_trainer)
relustab_add_test(test_train_batch train/test_batched.cpp)
relustab_add_test(test_output_fit train/test_output_fit.cpp)
