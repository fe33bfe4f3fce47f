target_sources(relustab PRIVATE apps/relustab/main.cpp)
