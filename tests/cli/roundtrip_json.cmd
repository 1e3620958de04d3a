roundtrip --json corpus/doc/hello.mpy tests/cli/data/trailing.mpy tests/cli/data/truncated.mpy
