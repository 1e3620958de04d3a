dump tests/cli/data/trailing.mpy
