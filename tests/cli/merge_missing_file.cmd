merge corpus/doc/hello.mpy no/such/file.mpy Cargo.toml -o -
