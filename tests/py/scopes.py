# Covers: global/nonlocal/class-scope name resolution, del of globals and attributes, recursion (big-int factorial), mutual recursion, nested classes, conditional definitions.

level = "module"
registry = []


def read_global():
    return level


def write_global(v):
    global level, created_later
    level = v
    created_later = v * 2


def nested_nonlocal():
    x = 0
    y = 100

    def a():
        nonlocal x
        x += 1

        def b():
            nonlocal x, y
            x += 10
            y -= 1
            return x + y

        return b()

    first = a()
    second = a()
    return first, second, x, y


class Outer:
    level = "class"
    seen = level  # class-body lookup finds the class attribute

    def method(self):
        return level  # methods skip the class scope

    class Inner:
        tag = "inner"

        def who(self):
            return Outer.level + "/" + self.tag


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def register(fn):
    registry.append(fn.__name__)
    return fn


if len(registry) == 0:
    @register
    def chosen():
        return "first branch"
else:
    def chosen():
        return "second branch"


def delete_things():
    global temp
    temp = 1
    del temp
    try:
        temp
    except NameError:
        result = "global deleted"

    class Holder:
        pass

    h = Holder()
    h.attr = 5
    del h.attr
    return result, hasattr(h, "attr")


def shadowing(level=3):
    def inner():
        return level * 2

    return inner()


print(read_global())
write_global("changed")
print(read_global(), level, created_later)
print(nested_nonlocal())
o = Outer()
print(Outer.seen, o.method(), Outer.Inner().who())
print(fact(30), fact(1))
print(is_even(10), is_odd(7), is_even(7))
print(chosen(), registry)
print(delete_things())
print(shadowing(), shadowing(10))
print([n for n in ("read_global", "nope", "Outer") if n in globals()])
