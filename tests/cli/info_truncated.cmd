info tests/cli/data/truncated.mpy
