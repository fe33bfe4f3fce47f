target_sources(relustab_core PRIVATE src/data/dataset.cpp src/data/generators.cpp src/data/image_task.cpp)
