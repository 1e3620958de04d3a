# Covers: async def, await (coroutines and a custom awaitable), async with, async for, driving coroutines by hand with .send(None).


class Suspend:
    # awaitable that suspends once, handing `value` to the driver
    def __init__(self, value):
        self.value = value

    def __await__(self):
        got = yield self.value
        return got

    __iter__ = __await__  # MicroPython awaits via the iterator protocol


class Resource:
    def __init__(self, name):
        self.name = name

    async def __aenter__(self):
        print("enter", self.name)
        await Suspend("aenter " + self.name)
        return self

    async def __aexit__(self, exc_type, exc, tb):
        print("exit", self.name, exc_type is not None)
        return False


class Ticker:
    def __init__(self, n):
        self.n = n
        self.i = 0

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.i >= self.n:
            raise StopAsyncIteration
        self.i += 1
        await Suspend("tick %d" % self.i)
        return self.i * 10


async def add(a, b):
    x = await Suspend("add")
    return a + b + (x or 0)


async def worker(name):
    total = await add(1, 2)
    total += await add(total, 10)
    async with Resource(name) as r:
        total += len(r.name)
    async for v in Ticker(3):
        total += v
    try:
        await fail()
    except KeyError as e:
        print("worker caught", type(e).__name__)
    return total


async def fail():
    await Suspend("fail")
    raise KeyError("nope")


def run(coro, feed=None):
    # a tiny scheduler: resume until StopIteration, recording what the coroutine yielded
    yielded = []
    value = None
    while True:
        try:
            y = coro.send(value)
        except StopIteration as e:
            return (e.args[0] if e.args else None), yielded
        yielded.append(y)
        value = feed


def run_many(coros):
    # round-robin over several coroutines
    results = {}
    pending = list(enumerate(coros))
    steps = 0
    while pending:
        i, c = pending.pop(0)
        try:
            c.send(None)
            steps += 1
            pending.append((i, c))
        except StopIteration as e:
            results[i] = e.args[0] if e.args else None
    return [results[k] for k in sorted(results)], steps


print(run(add(3, 4)))
print(run(add(3, 4), feed=100))
print(run(worker("db")))
print(run_many([worker("a"), add(5, 5), worker("bc")]))
c = add(1, 1)
print(type(c).__name__ in ("coroutine", "generator"))
c.close()
