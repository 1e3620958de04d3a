# Covers: arithmetic, chained comparisons, while/else, for/else, slicing, del, assert, lambda, global, walrus, %/.format/f-strings.

counter = 0


def bump(n):
    global counter
    counter += n
    return counter


def arith():
    a = 17
    b = -5
    print(a + b, a - b, a * b, a // b, a % b, -a // 3, a ** 3, a << 4, a >> 2)
    print(a & 6, a | 8, a ^ 255, ~a, -b, +b, not a, abs(b))
    x = 1000000
    y = -123456
    z = 0x7FFFFFFF
    print(x * y, z + 1, z * z, 1 << 40, -(1 << 40))
    a += 3
    a -= 1
    a *= 2
    a //= 3
    a %= 7
    a **= 2
    a <<= 3
    a >>= 1
    a |= 1
    a &= 0xFF
    a ^= 0x0F
    print(a)
    f = 7 / 2
    f += 0.25
    print(f, 7.0 // 2, 9.5 % 4)


def comparisons():
    for v in (-3, 0, 1, 5, 10, 11):
        print(v, 0 < v < 10, 0 <= v <= 10 < 11, v == 5 != 6, v is None, v is not None, v in (1, 5), v not in [0])
    s = "abc"
    print("b" in s, "z" not in s, s < "abd", s >= "ab")


def loops():
    i = 0
    while i < 5:
        i += 1
        if i == 10:
            break
    else:
        print("while else ran", i)
    while True:
        i -= 1
        if i < 2:
            break
    else:
        print("not printed")
    print("after while", i)
    for j in range(3):
        pass
    else:
        print("for else ran", j)
    for j in range(10):
        if j == 4:
            break
        if j % 2:
            continue
        print("even", j)
    else:
        print("not printed")
    for j in range(10, 0, -3):
        print("down", j)


def slicing():
    L = list(range(10))
    print(L[2:5], L[:3], L[7:], L[::2], L[::-1], L[-3:-1], L[1:8:3])
    L[2:4] = ["a", "b", "c"]
    print(L)
    del L[0]
    del L[-2:]
    print(L)
    s = "hello world"
    print(s[1:4], s[-5:], s[:-6], s[20:])
    t = (1, 2, 3, 4)
    print(t[1:], t[:-1])
    b = b"bytes!"
    print(b[1:3], b[-1], b[:-1])


def misc():
    x = [1, 2, 3]
    del x[1]
    print(x)
    y = 5
    del y
    try:
        print(y)
    except NameError:
        print("y deleted")
    try:
        assert len(x) == 3, "length"
    except AssertionError as e:
        print("assert failed:", e)
    assert len(x) == 2
    sq = lambda v: v * v
    add = lambda a, b=10: a + b
    print(sq(7), add(1), add(1, 2), (lambda: "anon")())
    print(bump(5), bump(10), counter)
    data = [3, 8, 1, 9]
    if (n := len(data)) > 3:
        print("walrus", n)
    print(sorted(data, key=lambda v: -v), max(data), min(data), sum(data))
    print(1 if data else 0, [] or "empty", 0 and 1, 2 and 3)


def formatting():
    name = "mpy"
    n = 42
    fl = 3.14159
    print("%s has %d items, %5.2f, %x, %o, %r, %%" % (name, n, fl, 255, 8, name))
    print("%-6s|%6s|%03d" % ("ab", "cd", 7))
    print("{} {} {}".format(1, "two", 3.0))
    print("{0}{1}{0}".format("ab", "cd"))
    print("{name}={val:>5}|{val:<5}|{val:^7}|".format(name="k", val=12))
    print("{:.3f} {:08.2f} {:+d} {:x} {:b}".format(fl, fl, 5, 255, 5))
    print(f"{name} {n} {n * 2} {fl:.2f} {repr(name)} {'nested'} {n:>4}")
    w = 6
    print(f"[{name:>{w}}]", f"{{literal}}", f"{[1, 2][0]}")


arith()
comparisons()
loops()
slicing()
misc()
formatting()
