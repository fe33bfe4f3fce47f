# Tests of the model layer.
relustab_add_test(test_model
  model/test_shallow_relu.cpp
  model/test_deep_relu.cpp
  model/test_deep_curvature.cpp
  model/test_train_deep.cpp)
