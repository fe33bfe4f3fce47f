target_sources(relustab PRIVATE
  apps/relustab/main.cpp
  apps/relustab/commands/common.cpp
  apps/relustab/commands/analyze.cpp
  apps/relustab/commands/train.cpp
  apps/relustab/commands/weight.cpp
  apps/relustab/commands/data.cpp
  apps/relustab/commands/demo.cpp)
