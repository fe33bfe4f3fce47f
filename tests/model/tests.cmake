# Tests of the model layer.
relustab_add_test(test_shallow_relu model/test_shallow_relu.cpp)
