verify corpus/doc/hello.mpy corpus/v1.29/bytecode/exceptions.mpy corpus/v1.22/x64/native_funcs.mpy
