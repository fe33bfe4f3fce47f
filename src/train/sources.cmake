# Sources of the train layer.
target_sources(relustab_core PRIVATE src/train/trainer.cpp src/train/train_deep.cpp src/train/batched.cpp
               src/train/output_fit.cpp)
