target_sources(relustab_core PRIVATE src/model/shallow_relu.cpp)
