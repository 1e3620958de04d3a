verify tests/cli/data/truncated.mpy
