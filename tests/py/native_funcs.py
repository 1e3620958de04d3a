# Covers: @micropython.native functions (plain, default/keyword args, generator, closure, try/except, method) and @micropython.viper functions (int/uint/ptr8/ptr32 args, int return); needs -march=.

import micropython


@micropython.native
def native_add(a, b=10, *, scale=1):
    return (a + b) * scale


@micropython.native
def native_loop(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            continue
        total += i * i
    return total


@micropython.native
def native_gen(n):
    for i in range(n):
        yield i * 2
    return "end"


@micropython.native
def native_closure(k):
    def mul(x):
        return x * k

    return mul


@micropython.native
def native_try(d, key):
    try:
        return d[key]
    except KeyError:
        return "missing " + key
    finally:
        pass


@micropython.native
def native_strings(words):
    return "-".join([w.upper() for w in words]) + " %d" % len(words)


class Acc:
    def __init__(self):
        self.total = 0

    @micropython.native
    def add(self, v):
        self.total += v
        return self


@micropython.viper
def viper_add(a: int, b: int) -> int:
    return a + b


@micropython.viper
def viper_sum_bytes(buf: ptr8, n: int) -> int:
    s = 0
    i = 0
    while i < n:
        s += buf[i]
        i += 1
    return s


@micropython.viper
def viper_fill(buf: ptr8, n: int, v: int):
    for i in range(n):
        buf[i] = v + i


@micropython.viper
def viper_words(buf: ptr32, n: int) -> int:
    acc = 0
    for i in range(n):
        acc ^= buf[i]
    return acc


@micropython.viper
def viper_bits(x: uint) -> int:
    count = 0
    while x:
        count += int(x & 1)
        x >>= 1
    return count


@micropython.viper
def viper_obj(items) -> int:
    n = int(len(items))
    return n * 100


print(native_add(1), native_add(1, 2), native_add(1, 2, scale=3))
print(native_loop(10))
g = native_gen(4)
print(list(g))
print(native_closure(7)(6))
print(native_try({"a": 1}, "a"), native_try({}, "b"))
print(native_strings(["ab", "cd"]))
print(Acc().add(3).add(4).total)
print(viper_add(40, 2), viper_add(-5, 3))
data = bytearray(b"\x01\x02\x03\xff")
print(viper_sum_bytes(data, len(data)))
buf = bytearray(5)
viper_fill(buf, 5, 65)
print(bytes(buf))
words = bytearray(b"\x01\x00\x00\x00\x03\x00\x00\x00")
print(viper_words(words, 2))
print(viper_bits(0xFF), viper_bits(5))
print(viper_obj([1, 2, 3]))
