roundtrip tests/cli/data/truncated.mpy
