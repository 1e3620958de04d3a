info --target 1.22:x64 corpus/v1.29/bytecode/classes.mpy
