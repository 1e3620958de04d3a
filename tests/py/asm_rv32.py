# Covers: @micropython.asm_rv32 functions (base RV32IMC: li/lui, arithmetic, mul/div, shifts, logic, loads/stores with offset(reg) syntax, labels, branches, jal/jalr calls, compressed c_* forms, return types); needs -march=rv32imc (compiler v1.24+).

import micropython


@micropython.asm_rv32
def radd(a0, a1):
    add(a0, a0, a1)


@micropython.asm_rv32
def rconst():
    li(a0, 123456)
    addi(a0, a0, -56)


@micropython.asm_rv32
def rsum_to(a0):
    # 1 + 2 + ... + a0
    li(a1, 0)
    label(loop)
    add(a1, a1, a0)
    addi(a0, a0, -1)
    blt(zero, a0, loop)
    mv(a0, a1)


@micropython.asm_rv32
def rmax(a0, a1):
    bge(a0, a1, done)
    mv(a0, a1)
    label(done)


@micropython.asm_rv32
def rsum_bytes(a0, a1):
    # a0 = address of a bytearray, a1 = length
    li(a2, 0)
    beq(a1, zero, end)
    label(again)
    lbu(a3, 0(a0))
    add(a2, a2, a3)
    addi(a0, a0, 1)
    addi(a1, a1, -1)
    bne(a1, zero, again)
    label(end)
    mv(a0, a2)


@micropython.asm_rv32
def rstore(a0, a1):
    sb(a1, 0(a0))
    sh(a1, 2(a0))
    sw(a1, 4(a0))
    lw(a0, 4(a0))


@micropython.asm_rv32
def rlogic(a0, a1, a2):
    and_(a0, a0, a1)
    or_(a0, a0, a2)
    xor(a0, a0, a1)
    slli(a0, a0, 3)
    srli(a0, a0, 1)
    andi(a0, a0, 0xFF)
    xori(a0, a0, 1)


@micropython.asm_rv32
def rmuldiv(a0, a1):
    mul(a2, a0, a1)
    div(a3, a2, a1)
    rem(a4, a2, a0)
    add(a0, a2, a3)
    add(a0, a0, a4)


@micropython.asm_rv32
def rcall(a0):
    # call a local subroutine with jal, return through ra saved in t0
    mv(t0, ra)
    jal(ra, double)
    mv(ra, t0)
    jal(zero, out)
    label(double)
    add(a0, a0, a0)
    jalr(zero, ra, 0)
    label(out)


@micropython.asm_rv32
def rcompressed(a0, a1):
    c_li(a2, 5)
    c_add(a0, a2)
    c_mv(a3, a1)
    c_slli(a1, 1)
    c_sub(a0, a1)
    c_addi(a0, 3)
    c_nop()
    c_bnez(a0, done)
    c_li(a0, 9)
    label(done)


@micropython.asm_rv32
def rslt(a0, a1) -> bool:
    slt(a0, a0, a1)


@micropython.asm_rv32
def rupper(a0) -> uint:
    lui(a1, 1)
    add(a0, a0, a1)


@micropython.asm_rv32
def ridentity(a0) -> object:
    c_nop()


print(radd(2, 3), rconst(), rsum_to(10), rmax(3, 9))
buf = bytearray(b"\x01\x02\x03\x04")
print(rsum_bytes(buf, len(buf)))
store = bytearray(8)
print(rstore(store, 7), bytes(store))
print(rlogic(12, 10, 1), rmuldiv(6, 7), rcall(21), rcompressed(1, 2))
print(rslt(1, 2), rupper(1), ridentity("obj"))
