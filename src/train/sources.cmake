# Sources of the train layer.
target_sources(relustab_core PRIVATE src/train/trainer.cpp)
