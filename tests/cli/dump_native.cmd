dump corpus/v1.29/x64/native_funcs.mpy
