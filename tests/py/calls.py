# Covers: *args/**kwargs, keyword-only args with/without defaults, default args, f(*a, **k) calls, method calls with star args, unpacking assignment (a, *b, c), annotations.


def f(a, b=2, *args, c, d=4, **kwargs):
    return "a=%r b=%r args=%r c=%r d=%r kw=%r" % (a, b, args, c, d, sorted(kwargs.items()))


def g(*args):
    return args


def h(**kw):
    return sorted(kw.items())


def kwonly(*, x, y=5):
    return x - y


def defaults(p, q=[1], r=None, s="s"):
    return (p, q, r, s)


def annotated(n: int, text: str = "t") -> str:
    return text * n


print(f(1, c=3))
print(f(1, 20, 30, 40, c=3, d=5, e=6, z=7))
args = (10, 11, 12)
kw = {"c": "C", "extra": True}
print(f(*args, **kw))
print(f(0, *args, c=1, **{"q": 9}))
print(f(*[5], b=6, **{"c": 7}))
print(g(), g(1), g(*range(4)), g(*"ab", *[1]), g(*"ab"))
print(h(), h(a=1, b=2), h(**{"k": "v"}, z=0), h(**{"m": 1}, **{"n": 2}))
print(kwonly(x=10), kwonly(y=1, x=3))
try:
    kwonly(1)
except TypeError:
    print("kwonly rejects positional")
print(defaults(1), defaults(1, 2, 3, 4), defaults(p=0, s="S"))
print(annotated(3), annotated(2, "ab"))


class Obj:
    def method(self, *a, **k):
        return (len(a), sorted(k))

    def single(self, x, y=1):
        return x + y


o = Obj()
print(o.method(*args, key=1, **{"other": 2}))
print(o.single(*[4]), o.single(**{"x": 1, "y": 9}))

a, b = 1, 2
a, b = b, a
print(a, b)
x, *rest = range(5)
print(x, rest)
*init, last = "hello"
print(init, last)
first, *mid, end = [1, 2, 3, 4, 5, 6]
print(first, mid, end)
p, (q, r), s = 1, (2, 3), 4
print(p, q, r, s)
head, *tail = (9,)
print(head, tail)
(m, n), *others = [(1, 2), (3, 4), (5, 6)]
print(m, n, others)
for i, (k, v) in enumerate(sorted({"x": 1, "y": 2}.items())):
    print(i, k, v)
L = [0, 0, 0]
L[0], L[2] = 7, 8
print(L)
t = 1, 2, 3
u, v, w = t
print(u + v + w, len(t))
print(max(*[3, 9, 2]), list(zip(*[(1, "a"), (2, "b")])))
print("{}-{}-{}".format(*"xyz"), "{a}{b}".format(**{"a": 1, "b": 2}))
