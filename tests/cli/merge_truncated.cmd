merge corpus/doc/hello.mpy tests/cli/data/truncated.mpy -o -
