strip --dry-run no/such/file.mpy corpus/v1.29/bytecode/generators.mpy
