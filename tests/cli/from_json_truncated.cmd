from-json tests/cli/data/truncated.json -o -
