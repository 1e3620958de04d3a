dis tests/cli/data/truncated.mpy
