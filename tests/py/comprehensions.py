# Covers: list/dict/set comprehensions, nested and conditional comprehensions, generator expressions, comprehensions capturing closures.

words = ["apple", "banana", "cherry", "date", "fig", "grape"]

lengths = [len(w) for w in words]
print(lengths)
print([w.upper() for w in words if "a" in w])
print([(i, j) for i in range(3) for j in range(3) if i != j])
print([[r * c for c in range(1, 4)] for r in range(1, 4)])
print([x if x % 2 else -x for x in range(6)])

by_len = {w: len(w) for w in words}
print(sorted(by_len.items()))
inverse = {v: k for k, v in by_len.items() if k < "c"}
print(sorted(inverse.items()))
letters = {c for w in words for c in w if c in "aeiou"}
print(sorted(letters))
print(sorted({n % 4 for n in range(20)}))

gen = (w[0] for w in words)
print("".join(gen))
print(sum(x * x for x in range(10)), any(w.startswith("f") for w in words), all(len(w) > 2 for w in words))
print(dict((k, v) for k, v in zip("abc", range(3))) == {"a": 0, "b": 1, "c": 2})


def scaled(factor):
    # the comprehension closes over `factor` (a cell of this function)
    return [x * factor for x in range(4)]


def matrix_t(m):
    return [[row[i] for row in m] for i in range(len(m[0]))]


def comp_with_lambdas():
    fs = [lambda v, k=k: v + k for k in range(3)]
    return [f(100) for f in fs]


class Table:
    rows = [1, 2, 3]
    # only the outermost iterable is evaluated in class scope
    doubled = [r * 2 for r in rows]


print(scaled(3), matrix_t([[1, 2, 3], [4, 5, 6]]), comp_with_lambdas(), Table.doubled)
flat = [c for row in [[1, 2], [3], []] for c in row]
print(flat, [y for y in (x * 2 for x in flat) if y > 2])
