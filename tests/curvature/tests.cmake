# Tests of the curvature layer.
