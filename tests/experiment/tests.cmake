# Tests of experiment.
