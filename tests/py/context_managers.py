# Covers: with statements (context manager classes, `as` targets, multiple managers, suppression, nesting, with in loops/generators).

log = []


class Managed:
    def __init__(self, name, suppress=False):
        self.name = name
        self.suppress = suppress

    def __enter__(self):
        log.append("enter " + self.name)
        return self.name.upper()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            log.append("exit " + self.name)
        else:
            log.append("exit %s with %s" % (self.name, exc_type.__name__))
        return self.suppress


def flush(title):
    print(title, log)
    del log[:]


with Managed("a") as v:
    log.append("body " + v)
flush("simple:")

with Managed("outer"), Managed("inner") as w:
    log.append("body " + w)
flush("multi:")

with Managed("s", suppress=True):
    raise ValueError("hidden")
flush("suppressed:")

try:
    with Managed("p"):
        raise KeyError("shown")
except KeyError:
    log.append("propagated")
flush("propagate:")


def early_return():
    with Managed("r") as v:
        return "returned " + v


print(early_return())
flush("return:")


def loop_with():
    for i in range(4):
        with Managed("l%d" % i):
            if i == 1:
                continue
            if i == 3:
                break
            log.append("work %d" % i)
    return i


print(loop_with())
flush("loop:")


def gen_with():
    with Managed("g"):
        yield 1
        yield 2


print(list(gen_with()))
flush("generator:")

with Managed("x") as (a):
    with Managed("y", suppress=True) as b:
        log.append(a + b)
        raise RuntimeError
    log.append("after inner")
flush("nested:")


class Counter:
    def __init__(self):
        self.n = 0

    def __enter__(self):
        self.n += 1
        return self

    def __exit__(self, *args):
        self.n += 10


c = Counter()
with c as c2:
    print(c is c2, c.n)
print(c.n)
