# Sources of the analysis layer.
