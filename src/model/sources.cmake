target_sources(relustab_core PRIVATE src/model/activation.cpp src/model/shallow_relu.cpp src/model/init.cpp src/model/deep_relu.cpp)
