# Sources of the analysis layer.
target_sources(relustab_core PRIVATE
  src/analysis/knots.cpp
  src/analysis/empirical_weight.cpp
  src/analysis/population_weight.cpp
  src/analysis/multivariate_weight.cpp
  src/analysis/bounds.cpp
  src/analysis/report.cpp
  src/analysis/flattest.cpp
  src/analysis/flattest_all.cpp
  src/analysis/kinks.cpp
  src/analysis/knot_stats.cpp
  src/analysis/alignment.cpp)
