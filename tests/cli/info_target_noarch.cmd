info --target 1.23 corpus/v1.23/x64/native_funcs.mpy
