# Covers: builtin containers and functions: list/dict/set/tuple/bytes/bytearray methods, iterator classes, map/filter/zip/enumerate, conversions, string methods.


class Countdown:
    def __init__(self, start):
        self.cur = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.cur <= 0:
            raise StopIteration
        self.cur -= 1
        return self.cur + 1


L = [5, 3, 8, 1]
L.append(9)
L.extend([2, 7])
L.insert(0, 4)
L.remove(8)
print(L, L.pop(), L.pop(0), L.index(9), L.count(3))
L.sort()
print(L, sorted(L, reverse=True), list(reversed(L)))
L.reverse()
print(L, L * 2, [0] * 3 + L[:2], L == sorted(L, reverse=True))

d = {"one": 1, "two": 2}
d["three"] = 3
d.update({"four": 4}, five=5)
print(sorted(d), sorted(d.values()), d.get("six"), d.get("six", 6), "two" in d, len(d))
print(d.pop("one"), d.setdefault("ten", 10), sorted(d.items()))
del d["two"]
print(sorted(d.keys()), dict(a=1) == {"a": 1})
e = {}
for w in "the quick the lazy the end".split():
    e[w] = e.get(w, 0) + 1
print(sorted(e.items(), key=lambda kv: (-kv[1], kv[0])))

s = {1, 2, 3}
t = {3, 4}
s.add(5)
s.discard(1)
print(sorted(s | t), sorted(s & t), sorted(s - t), sorted(s ^ t), 2 in s, s.issubset({2, 3, 5, 9}))
fs = frozenset([1, 2])
print(len(fs), 1 in fs)

tup = (3, 1, 2, 1)
print(tup.count(1), tup.index(2), tup + (9,), tup * 2, min(tup), max(tup), sorted(tup))

ba = bytearray(b"hello")
ba[0] = ord("j")
ba.append(33)
print(ba, bytes(ba), len(ba), ba[1], list(b"AB"), b"x" * 3, b"-".join([b"a", b"b"]))

print(list(map(lambda v: v * 2, [1, 2, 3])), list(filter(None, [0, 1, "", "x"])))
print(list(zip("abc", range(10))), list(enumerate("xy", 1)))
print(list(Countdown(4)), sum(Countdown(10)), list(range(0, 20, 5)), len(range(3, 30, 4)))
print(int("42"), int("-ff", 16), int("101", 2), str(123), float("2.5"), int(7.9), int(-7.9))
print(hex(255), oct(8), bin(5), chr(65), ord("a"), divmod(17, 5), divmod(-17, 5), pow(3, 4), pow(3, 4, 5))
print(abs(-3), abs(-2.5), bool(0), bool([0]), isinstance(3, int), isinstance("s", (int, str)), callable(len))

txt = "  Hello, World  "
print(txt.strip(), txt.lstrip(), txt.rstrip(), txt.lower(), txt.upper())
print("a,b,,c".split(","), "a b  c".split(), "k=v=w".split("=", 1), "abc".find("c"), "abc".find("z"))
print("x".join(["1", "2", "3"]), "abcabc".replace("b", "B"), "abcabc".replace("b", "", 1), "hello".startswith("he"), "hello".endswith("lo"))
print("abc".isalpha(), "123".isdigit(), " ".isspace(), "Abc".isupper(), "abc".islower(), "ab" * 3, "%s" % "pct")
print("rpartition:", "a.b.c".rpartition("."), "a.b.c".partition("."), "abc".index("b"), "aaa".count("a"))
print(repr("quote's"), repr('dq"'), str(b"raw"), "{:>8}|{:<4}|".format("r", "l"))
