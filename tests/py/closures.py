# Covers: closures and cells, nonlocal, nested closures, decorators (plain, with args, stacked), global, lambda capture.

total = 0


def make_counter(start=0, step=1):
    count = start

    def inc():
        nonlocal count
        count += step
        return count

    def get():
        return count

    return inc, get


def make_adders():
    # each lambda captures its own cell through a default / a closure factory
    adders = []
    for i in range(3):
        adders.append(lambda x, i=i: x + i)

    def factory(k):
        return lambda x: x * k

    muls = [factory(k) for k in range(1, 4)]
    return adders, muls


def outer(a):
    b = a * 2

    def middle(c):
        d = c + b

        def inner(e):
            nonlocal d
            d += e
            return a + b + c + d + e

        return inner

    return middle


def cell_arg(x, y):
    # arguments that become cells
    def show():
        return (x, y)

    x = x + 100
    return show


def trace(fn):
    def wrapper(*args, **kwargs):
        print("call", fn.__name__, args, sorted(kwargs.items()))
        result = fn(*args, **kwargs)
        print("ret", result)
        return result

    return wrapper


def repeat(times):
    def deco(fn):
        def wrapper(*args):
            out = []
            for _ in range(times):
                out.append(fn(*args))
            return out

        return wrapper

    return deco


@trace
def area(w, h=1, *, scale=1):
    return w * h * scale


@repeat(3)
@trace
def greet(name):
    return "hi " + name


def set_total(v):
    global total
    old = total
    total = v
    return old


def shadow():
    total = -1  # local, not the global
    return total


def counter_class():
    # closure over a class body variable via a method default
    class Box:
        items = []

        def add(self, v, _items=items):
            _items.append(v)
            return len(_items)

    b = Box()
    b.add(1)
    return b.add(2), Box.items


inc, get = make_counter(10, 5)
print(inc(), inc(), get())
inc2, get2 = make_counter()
print(inc2(), get(), get2())
adders, muls = make_adders()
print([f(10) for f in adders], [m(10) for m in muls])
print(outer(1)(2)(3), outer(10)(20)(30))
print(cell_arg(1, 2)())
print(area(3, 4, scale=2))
print(greet("bob"))
print(set_total(7), set_total(8), total, shadow(), total)
print(counter_class())
