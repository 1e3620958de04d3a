# Covers: @micropython.asm_thumb functions (Thumb-1 subset: arithmetic, mov, labels and branches, loops, memory access, push/pop, data, return types); needs -march=armv6m..armv7emdp.

import micropython


@micropython.asm_thumb
def asm_add(r0, r1):
    add(r0, r0, r1)


@micropython.asm_thumb
def asm_const():
    mov(r0, 200)
    add(r0, 55)


@micropython.asm_thumb
def asm_sum_to(r0):
    # 1 + 2 + ... + r0
    mov(r1, 0)
    label(loop)
    add(r1, r1, r0)
    sub(r0, 1)
    bgt(loop)
    mov(r0, r1)


@micropython.asm_thumb
def asm_max(r0, r1):
    cmp(r0, r1)
    bge(done)
    mov(r0, r1)
    label(done)


@micropython.asm_thumb
def asm_sum_bytes(r0, r1):
    # r0 = address of a bytearray, r1 = length
    mov(r2, 0)
    cmp(r1, 0)
    beq(end)
    label(again)
    ldrb(r3, [r0, 0])
    add(r2, r2, r3)
    add(r0, 1)
    sub(r1, 1)
    bne(again)
    label(end)
    mov(r0, r2)


@micropython.asm_thumb
def asm_store(r0, r1):
    # store the low byte of r1 at offsets 0 and 1, and a word at offset 4
    strb(r1, [r0, 0])
    strb(r1, [r0, 1])
    str(r1, [r0, 4])
    ldr(r0, [r0, 4])


@micropython.asm_thumb
def asm_logic(r0, r1, r2):
    and_(r0, r1)
    orr(r0, r2)
    mvn(r3, r0)
    eor(r0, r3)
    lsl(r0, r0, 2)
    lsr(r0, r0, 1)


@micropython.asm_thumb
def asm_call_helper(r0):
    push({r4, lr})
    mov(r4, r0)
    bl(double)
    add(r0, r0, r4)
    b(out)
    label(double)
    add(r0, r0, r0)
    bx(lr)
    label(out)
    pop({r4, pc})


@micropython.asm_thumb
def asm_table(r0):
    # load entry r0 of an inline data table
    lsl(r0, r0, 2)
    mov(r1, pc)
    add(r1, 8)
    add(r1, r1, r0)
    ldr(r0, [r1, 0])
    b(skip)
    align(4)
    data(4, 11, 22, 33, 44)
    label(skip)


@micropython.asm_thumb
def asm_is_zero(r0) -> bool:
    mov(r1, 1)
    cmp(r0, 0)
    beq(yes)
    mov(r1, 0)
    label(yes)
    mov(r0, r1)


@micropython.asm_thumb
def asm_neg(r0) -> uint:
    neg(r0, r0)


@micropython.asm_thumb
def asm_identity(r0) -> object:
    nop()


print(asm_add(2, 3), asm_const(), asm_sum_to(10), asm_max(3, 9))
buf = bytearray(b"\x01\x02\x03\x04")
print(asm_sum_bytes(buf, len(buf)))
store = bytearray(8)
print(asm_store(store, 7), bytes(store))
print(asm_logic(12, 10, 1), asm_call_helper(5), asm_table(2), asm_is_zero(0), asm_neg(1), asm_identity("obj"))
