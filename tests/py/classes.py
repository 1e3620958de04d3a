# Covers: classes, inheritance, super(), properties, __init__/__repr__/__str__, class/static methods, operator overloading, class attributes.


class Shape:
    count = 0
    kind = "shape"

    def __init__(self, name):
        self.name = name
        Shape.count += 1

    def area(self):
        return 0

    def describe(self):
        return "%s %s area=%s" % (self.kind, self.name, self.area())

    def __repr__(self):
        return "<%s %r>" % (type(self).__name__, self.name)


class Rect(Shape):
    kind = "rect"

    def __init__(self, name, w, h):
        super().__init__(name)
        self._w = w
        self.h = h

    @property
    def w(self):
        return self._w

    @w.setter
    def w(self, value):
        if value < 0:
            raise ValueError("negative width")
        self._w = value

    def area(self):
        return self.w * self.h


class Square(Rect):
    kind = "square"

    def __init__(self, name, side):
        super().__init__(name, side, side)

    def describe(self):
        base = super().describe()
        return base + " (side %d)" % self.w

    @classmethod
    def unit(cls):
        return cls("unit", 1)

    @staticmethod
    def sides():
        return 4


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Vec(self.x - other.x, self.y - other.y)

    def __mul__(self, k):
        return Vec(self.x * k, self.y * k)

    def __matmul__(self, other):
        return self.x * other.x + self.y * other.y

    def __neg__(self):
        return Vec(-self.x, -self.y)

    def __eq__(self, other):
        return self.x == other.x and self.y == other.y

    def __lt__(self, other):
        return (self.x, self.y) < (other.x, other.y)

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return (self.x, self.y)[i]

    def __contains__(self, v):
        return v == self.x or v == self.y

    def __bool__(self):
        return bool(self.x or self.y)

    def __str__(self):
        return "Vec(%d, %d)" % (self.x, self.y)

    __repr__ = __str__


class Stack:
    def __init__(self, *items):
        self.items = list(items)

    def __iter__(self):
        return iter(reversed(self.items))

    def push(self, v):
        self.items.append(v)
        return self

    def __call__(self, n):
        return self.items[-n:]


class Base1:
    def who(self):
        return "base1"

    def ping(self):
        return "ping1"


class Base2:
    def who(self):
        return "base2"

    def pong(self):
        return "pong2"


class Multi(Base1, Base2):
    def who(self):
        return "multi+" + super().who()


shapes = [Shape("blob"), Rect("r", 2, 3), Square("s", 4), Square.unit()]
for s in shapes:
    print(repr(s), s.describe())
print(Shape.count, Square.sides(), isinstance(shapes[2], Rect), issubclass(Square, Shape), issubclass(Shape, Rect))
r = shapes[1]
r.w = 10
print(r.w, r.area())
try:
    r.w = -1
except ValueError as e:
    print("error:", e)
a = Vec(1, 2)
b = Vec(3, 4)
print(a + b, b - a, a * 3, -a, a == Vec(1, 2), a < b, len(a), a[1], 2 in a, 5 in a, bool(Vec(0, 0)))
print(sorted([b, a, Vec(0, 9)]), a @ b)
x, y = b
print(x, y)
st = Stack(1, 2).push(3).push(4)
print(list(st), st(2))
m = Multi()
print(m.who(), m.ping(), m.pong())
print(type(m).__name__, Multi.__name__, hasattr(m, "pong"), getattr(m, "nope", "default"))
m.extra = 5
setattr(m, "other", 6)
print(m.extra + m.other)
