info --target 1.29:armv7emsp corpus/v1.29/armv6m/asm_thumb.mpy corpus/v1.29/armv7emsp/asm_thumb_v7.mpy
