# Tests of the io layer.
