# Covers: @micropython.asm_thumb with ARMv7-M-only instructions (movw/movt, it/ite blocks, beq_w wide branch, sdiv, push/pop of r4-r7) and single-precision FPU ops (vmov, vcvt, vadd, vmul, vsub, vsqrt); needs -march=armv7emsp or armv7emdp.

import micropython


@micropython.asm_thumb
def big_const(r0):
    movw(r1, 50000)
    movt(r1, 2)
    add(r0, r0, r1)


@micropython.asm_thumb
def clamp5(r0):
    cmp(r0, 5)
    ite(ge)
    mov(r0, 5)
    add(r0, r0, 0)


@micropython.asm_thumb
def int_to_float_double(r0):
    vmov(s0, r0)
    vcvt_f32_s32(s0, s0)
    vadd(s0, s0, s0)
    vmul(s1, s0, s0)
    vsub(s0, s1, s0)
    vcvt_s32_f32(s0, s0)
    vmov(r0, s0)


@micropython.asm_thumb
def sqrt_floor(r0):
    vmov(s0, r0)
    vcvt_f32_s32(s0, s0)
    vsqrt(s0, s0)
    vcvt_s32_f32(s0, s0)
    vmov(r0, s0)


@micropython.asm_thumb
def words_sum(r0, r1):
    # r0 = address of an array of 32-bit words, r1 = count
    push({r4, r5, r6, r7})
    mov(r2, 0)
    label(loop)
    cmp(r1, 0)
    beq(done)
    ldr(r3, [r0, 0])
    add(r2, r2, r3)
    add(r0, 4)
    sub(r1, 1)
    b(loop)
    label(done)
    mov(r0, r2)
    pop({r4, r5, r6, r7})


@micropython.asm_thumb
def far_branch(r0):
    cmp(r0, 0)
    beq_w(zero)
    mov(r0, 1)
    b(end)
    label(zero)
    mov(r0, 2)
    label(end)


@micropython.asm_thumb
def divide(r0, r1):
    sdiv(r0, r0, r1)


@micropython.asm_thumb
def cond_select(r0, r1) -> uint:
    cmp(r0, r1)
    it(lt)
    mov(r0, r1)


print(big_const(1), clamp5(9), int_to_float_double(3), sqrt_floor(50), far_branch(0), divide(100, 7), cond_select(1, 2))
