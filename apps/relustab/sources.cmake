target_sources(relustab PRIVATE
  apps/relustab/main.cpp
  apps/relustab/commands/common.cpp
  apps/relustab/commands/analyze.cpp
  apps/relustab/commands/train.cpp
  apps/relustab/commands/weight.cpp
  apps/relustab/commands/data.cpp
  apps/relustab/commands/images.cpp
  apps/relustab/commands/demo.cpp
  apps/relustab/commands/sweep.cpp
  apps/relustab/commands/curves.cpp
  apps/relustab/commands/reproduce.cpp
  apps/relustab/commands/params.cpp)
# `status` reads the results database read-only, without the store's writer lock, while a sweep runs.
target_link_libraries(relustab PRIVATE SQLite::SQLite3)
# `relustab reproduce` and `relustab plot` find experiments/reproduce and python/figures here unless
# RELUSTAB_SOURCE_DIR says otherwise.
target_compile_definitions(relustab PRIVATE RELUSTAB_DEFAULT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
