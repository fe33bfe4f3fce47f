# Sources of the curvature layer.
target_sources(relustab_core PRIVATE src/curvature/eigen.cpp src/curvature/curvature.cpp
               src/curvature/deep_curvature.cpp src/curvature/spectrum.cpp)
