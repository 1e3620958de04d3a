dis corpus/v1.29/armv7emsp/asm_thumb_v7.mpy
