# Tests of the train layer.
