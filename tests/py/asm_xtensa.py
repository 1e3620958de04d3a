# Covers: @micropython.asm_xtensa functions, using only instructions every compiler since v1.19 accepts (movi, add/sub, mull, logic, loads/stores, labels, conditional branches, loops, return types); needs -march=xtensa or xtensawin.

import micropython


@micropython.asm_xtensa
def xadd(a2, a3):
    add(a2, a2, a3)


@micropython.asm_xtensa
def xconst():
    movi(a2, 1234)
    addi(a2, a2, -34)


@micropython.asm_xtensa
def xsum_to(a2):
    # 1 + 2 + ... + a2
    movi(a3, 0)
    label(loop)
    add(a3, a3, a2)
    addi(a2, a2, -1)
    bnez(a2, loop)
    mov(a2, a3)


@micropython.asm_xtensa
def xmax(a2, a3):
    bge(a2, a3, done)
    mov(a2, a3)
    label(done)


@micropython.asm_xtensa
def xsum_bytes(a2, a3):
    # a2 = address of a bytearray, a3 = length
    movi(a4, 0)
    beqz(a3, end)
    label(again)
    l8ui(a5, a2, 0)
    add(a4, a4, a5)
    addi(a2, a2, 1)
    addi(a3, a3, -1)
    bnez(a3, again)
    label(end)
    mov(a2, a4)


@micropython.asm_xtensa
def xstore(a2, a3):
    s8i(a3, a2, 0)
    s16i(a3, a2, 2)
    s32i(a3, a2, 4)
    l32i(a2, a2, 4)


@micropython.asm_xtensa
def xlogic(a2, a3, a4):
    and_(a2, a2, a3)
    or_(a2, a2, a4)
    xor(a2, a2, a3)


@micropython.asm_xtensa
def xmul(a2, a3):
    mull(a2, a2, a3)


@micropython.asm_xtensa
def xcompare(a2, a3):
    movi(a4, 0)
    beq(a2, a3, same)
    blt(a2, a3, less)
    movi(a4, 1)
    j(end)
    label(less)
    movi(a4, -1)
    j(end)
    label(same)
    movi(a4, 0)
    label(end)
    mov(a2, a4)


@micropython.asm_xtensa
def xis_zero(a2) -> bool:
    movi(a3, 1)
    beqz(a2, yes)
    movi(a3, 0)
    label(yes)
    mov(a2, a3)


@micropython.asm_xtensa
def xneg(a2) -> uint:
    movi(a3, 0)
    sub(a2, a3, a2)


@micropython.asm_xtensa
def xidentity(a2) -> object:
    mov_n(a2, a2)


@micropython.asm_xtensa
def xhalfwords(a2):
    # a2 = address of a bytearray: signed + unsigned 16-bit loads
    l16si(a3, a2, 0)
    l16ui(a4, a2, 2)
    add(a2, a3, a4)


@micropython.asm_xtensa
def xany(a2, a3):
    # 1 if a2 and a3 share a set bit, else 0
    movi(a4, 0)
    bnone(a2, a3, no_any)
    movi(a4, 1)
    label(no_any)
    mov(a2, a4)


@micropython.asm_xtensa
def xbit_clear(a2, a3):
    # 1 if bit number a3 of a2 is clear, else 0
    movi(a4, 0)
    bbs(a2, a3, done)
    movi(a4, 1)
    label(done)
    mov(a2, a4)


print(xadd(2, 3), xconst(), xsum_to(10), xmax(3, 9))
buf = bytearray(b"\x01\x02\x03\x04")
print(xsum_bytes(buf, len(buf)))
store = bytearray(8)
print(xstore(store, 7), bytes(store))
print(xlogic(12, 10, 1), xmul(6, 7), xcompare(1, 2), xcompare(2, 2), xcompare(3, 2))
print(xis_zero(0), xneg(1), xidentity("obj"), xhalfwords(bytearray(b"\xff\xff\x02\x00")), xany(6, 2), xany(6, 8), xbit_clear(6, 1), xbit_clear(6, 0))
