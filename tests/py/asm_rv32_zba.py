# Covers: @micropython.asm_rv32 with Zba instructions (sh1add/sh2add/sh3add), which need -march=rv32imc -march-flags=zba (compiler v1.27+); the .mpy then carries the arch-flags byte.

import micropython


@micropython.asm_rv32
def index_word(a0, a1):
    # address of word a1 of an array at a0
    sh2add(a0, a1, a0)


@micropython.asm_rv32
def scale(a0, a1):
    sh1add(a2, a0, a1)
    sh3add(a0, a2, a1)


print(index_word(1000, 3), scale(2, 1))
