strip --dry-run tests/cli/data/truncated.mpy
