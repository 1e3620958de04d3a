merge corpus/doc/hello.mpy corpus/v1.29/bytecode/nonutf8.mpy -o -
