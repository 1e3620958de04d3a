strip corpus/v1.29/bytecode/classes.mpy corpus/v1.29/bytecode/generators.mpy
