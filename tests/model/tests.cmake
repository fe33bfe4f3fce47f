# Tests of the model layer.
relustab_add_test(test_shallow_relu model/test_shallow_relu.cpp)
relustab_add_test(test_deep_relu model/test_deep_relu.cpp)
relustab_add_test(test_deep_curvature model/test_deep_curvature.cpp)
relustab_add_test(test_train_deep model/test_train_deep.cpp)
