info tests/cli/data/format5.mpy
