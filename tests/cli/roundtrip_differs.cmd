roundtrip tests/cli/data/trailing.mpy corpus/doc/hello.mpy tests/cli/data/truncated.mpy
