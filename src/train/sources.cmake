# Sources of the train layer.
target_sources(relustab_core PRIVATE src/train/trainer.cpp src/train/train_deep.cpp src/train/batched.cpp src/train/lanes.cpp
               src/train/lanes_train.cpp
               src/train/output_fit.cpp)
# A lane must round the same whether the compiler puts it in a SIMD register or in the scalar loop
# after the last full register (GdLanes: a lane's bits do not depend on the batch): no fused
# multiply-add contraction, which the compiler may apply to one and not the other.
set_source_files_properties(src/train/lanes.cpp PROPERTIES COMPILE_OPTIONS "-ffp-contract=off"
                            SKIP_UNITY_BUILD_INCLUSION ON)
