strip corpus/v1.29/bytecode/nonutf8.mpy -o -
