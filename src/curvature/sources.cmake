# Sources of the curvature layer.
