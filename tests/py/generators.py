# Covers: generators (yield, yield from, send, throw, close, return value), generator expressions, generator closures.


def count_up(n):
    i = 0
    while i < n:
        yield i
        i += 1
    return "done %d" % n


def delegate():
    result = yield from count_up(3)
    print("sub returned", result)
    yield from [10, 20]
    yield from (c for c in "ab")
    return "outer"


def accumulator():
    total = 0
    while True:
        got = yield total
        if got is None:
            break
        total += got
    return total


def echo():
    try:
        while True:
            try:
                v = yield
                print("echo", v)
            except ValueError as e:
                print("caught", type(e).__name__, e)
                yield "recovered"
    finally:
        print("echo closed")


def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


def take(n, it):
    out = []
    for v in it:
        if len(out) >= n:
            break
        out.append(v)
    return out


def gen_closure(k):
    def g():
        for i in range(3):
            yield i * k

    return g


def yield_in_expr():
    x = (yield 1) + (yield 2)
    yield x


print(list(count_up(4)))
g = delegate()
print(list(g))
acc = accumulator()
print(next(acc), acc.send(5), acc.send(7))
try:
    acc.send(None)
except StopIteration as e:
    print("accumulated", e.args[0])
e = echo()
next(e)
e.send("a")
print(e.throw(ValueError("bad")))
next(e)
e.send("b")
e.close()
print(take(10, fib()))
print(list(gen_closure(5)()))
y = yield_in_expr()
print(next(y), y.send(30), y.send(12))
squares = (i * i for i in range(6) if i % 2 == 0)
print(sum(squares), sum(squares))
nested = list((i, j) for i in range(3) for j in range(i))
print(nested)
print(max(len(w) for w in ["a", "abc", "ab"]))
it = iter(count_up(2))
print(next(it), next(it), next(it, "exhausted"))
