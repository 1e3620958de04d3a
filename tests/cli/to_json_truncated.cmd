to-json tests/cli/data/truncated.mpy
