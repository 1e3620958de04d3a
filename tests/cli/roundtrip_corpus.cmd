roundtrip corpus/v1.29/bytecode/classes.mpy corpus/v1.22/x64/native_funcs.mpy corpus/handmade/viper_relocs.mpy
