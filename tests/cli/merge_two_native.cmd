merge corpus/v1.29/x64/native_funcs.mpy corpus/v1.22/x64/native_funcs.mpy -o -
