info --json --target 1.22:x64 corpus/v1.29/x64/native_funcs.mpy
