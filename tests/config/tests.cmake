# Tests of config.
