# Tests of the analysis layer.
relustab_add_test(test_analysis
  analysis/test_empirical_weight.cpp
  analysis/test_population_weight.cpp
  analysis/test_knots.cpp
  analysis/test_multivariate_weight.cpp
  analysis/test_bounds.cpp
  analysis/test_flattest.cpp
  analysis/test_flattest_all.cpp
  analysis/test_kinks.cpp
  analysis/test_knot_stats.cpp
  analysis/test_alignment.cpp
  analysis/test_run_measurements.cpp
  analysis/test_analyze_flattest_cli.cpp
  analysis/test_report.cpp)
