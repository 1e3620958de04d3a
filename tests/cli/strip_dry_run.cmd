strip --dry-run corpus/v1.29/bytecode/classes.mpy corpus/v1.29/bytecode-O3/long_jumps.mpy corpus/v1.29/x64/native_funcs.mpy corpus/v1.29/armv7emsp/asm_thumb_v7.mpy
