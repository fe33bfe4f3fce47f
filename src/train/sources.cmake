# Sources of the train layer.
