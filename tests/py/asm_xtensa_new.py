# Covers: @micropython.asm_xtensa instructions that only newer compilers (v1.29 here) accept: shifts (slli/srli/srai, ssl/sll), neg, nop, narrow forms (*_n), bltz/bgez/bltu, nsau, subx*; needs -march=xtensa or xtensawin.

import micropython


@micropython.asm_xtensa
def shifts(a2):
    slli(a3, a2, 4)
    srli(a3, a3, 1)
    srai(a2, a3, 2)


@micropython.asm_xtensa
def var_shift(a2, a3):
    ssl(a3)
    sll(a2, a2)


@micropython.asm_xtensa
def narrow(a2, a3):
    movi_n(a4, 7)
    add_n(a2, a2, a4)
    addi_n(a2, a2, 1)
    mov_n(a3, a2)
    nop()
    nop_n()


@micropython.asm_xtensa
def sign(a2):
    movi(a3, 0)
    bltz(a2, negative)
    bgez(a2, done)
    label(negative)
    neg(a2, a2)
    movi(a3, 1)
    label(done)
    mov(a2, a3)


@micropython.asm_xtensa
def unsigned_less(a2, a3):
    movi(a4, 1)
    bltu(a2, a3, done)
    movi(a4, 0)
    label(done)
    mov(a2, a4)


@micropython.asm_xtensa
def leading_zeros(a2):
    nsau(a2, a2)


@micropython.asm_xtensa
def scaled_sub(a2, a3):
    subx4(a2, a2, a3)


@micropython.asm_xtensa
def narrow_mem(a2, a3):
    s32i_n(a3, a2, 4)
    l32i_n(a2, a2, 4)


print(shifts(5), var_shift(1, 4), narrow(1, 0), sign(-3), sign(3), unsigned_less(1, 2), leading_zeros(1), scaled_sub(3, 4))
print(narrow_mem(bytearray(8), 9))
