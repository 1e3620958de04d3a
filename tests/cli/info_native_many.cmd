info corpus/v1.19/x64/native_funcs.mpy corpus/v1.20/armv7em/native_funcs.mpy corpus/v1.22/x64/native_funcs.mpy corpus/v1.29/rv32imc-zba/asm_rv32_zba.mpy corpus/v1.29/debug/native_funcs.mpy
