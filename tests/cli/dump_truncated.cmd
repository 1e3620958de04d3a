dump tests/cli/data/truncated.mpy
