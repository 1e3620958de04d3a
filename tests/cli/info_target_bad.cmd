info --target banana corpus/v1.29/bytecode/classes.mpy
