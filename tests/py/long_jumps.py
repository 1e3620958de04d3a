# Covers: 2-byte jump offsets (long loop/if/try bodies, long backward jumps), long line-number entries (gaps of more than 7 lines), statements spread over many lines.


def long_loop(n):
    # the while body is far more than 130 bytes of bytecode, so its jumps need 2-byte offsets
    total = 0
    i = 0
    log = []
    while i < n:
        i += 1
        if i % 3 == 0:
            total += i * 1 + len(log) - 0
            total += i * 2 + len(log) - 1
            total += i * 3 + len(log) - 2
            total += i * 4 + len(log) - 3
            total += i * 5 + len(log) - 4
            total += i * 6 + len(log) - 5
            total += i * 7 + len(log) - 6
            total += i * 8 + len(log) - 7
            total += i * 9 + len(log) - 8
            total += i * 10 + len(log) - 9
            total += i * 11 + len(log) - 10
            total += i * 12 + len(log) - 11
            log.append(('three', i, total % 97))
        elif i % 3 == 1:
            total -= (i + 0) // 2
            total -= (i + 1) // 2
            total -= (i + 2) // 2
            total -= (i + 3) // 2
            total -= (i + 4) // 2
            total -= (i + 5) // 2
            total -= (i + 6) // 2
            total -= (i + 7) // 2
            total -= (i + 8) // 2
            total -= (i + 9) // 2
            total -= (i + 10) // 2
            total -= (i + 11) // 2
            log.append(('one', i))
        else:
            total ^= i << 0
            total ^= i << 1
            total ^= i << 2
            total ^= i << 3
            total ^= i << 4
            total ^= i << 0
            total ^= i << 1
            total ^= i << 2
            total ^= i << 3
            total ^= i << 4
            if total > 1000:
                continue
        if i > 50:
            break
    else:
        log.append('no break')
    return total, len(log), log[:3], log[-1]


def long_for(items):
    out = []
    for x in items:
        try:
            x = x * 3 + 0 if x < 10000 else x - 0
            x = x * 3 + 1 if x < 10000 else x - 7
            x = x * 3 + 2 if x < 10000 else x - 14
            x = x * 3 + 3 if x < 10000 else x - 21
            x = x * 3 + 4 if x < 10000 else x - 28
            x = x * 3 + 5 if x < 10000 else x - 35
            x = x * 3 + 6 if x < 10000 else x - 42
            x = x * 3 + 7 if x < 10000 else x - 49
            x = x * 3 + 8 if x < 10000 else x - 56
            x = x * 3 + 9 if x < 10000 else x - 63
            x = x * 3 + 10 if x < 10000 else x - 70
            x = x * 3 + 11 if x < 10000 else x - 77
            x = x * 3 + 12 if x < 10000 else x - 84
            x = x * 3 + 13 if x < 10000 else x - 91
            if x == 123456789:
                raise ValueError
        except ValueError:
            out.append('never')
        finally:
            out.append(x % 1000)
    return out


def gaps():
    a = 1










    b = a + 1
    # comment line 0 that adds to the line gap
    # comment line 1 that adds to the line gap
    # comment line 2 that adds to the line gap
    # comment line 3 that adds to the line gap
    # comment line 4 that adds to the line gap
    # comment line 5 that adds to the line gap
    # comment line 6 that adds to the line gap
    # comment line 7 that adds to the line gap
    # comment line 8 that adds to the line gap
    # comment line 9 that adds to the line gap
    # comment line 10 that adds to the line gap
    # comment line 11 that adds to the line gap
    # comment line 12 that adds to the line gap
    # comment line 13 that adds to the line gap
    # comment line 14 that adds to the line gap
    # comment line 15 that adds to the line gap
    # comment line 16 that adds to the line gap
    # comment line 17 that adds to the line gap
    # comment line 18 that adds to the line gap
    # comment line 19 that adds to the line gap
    c = b + 1
    d = (a +
         b +
         c +
         0 +
         1 +
         2 +
         3 +
         4 +
         5 +
         6 +
         7 +
         8 +
         9 +
         10 +
         11 +
         0)
    e = [
        0,
        1,
        4,
        9,
        16,
        25,
        36,
        49,
        64,
        81,
        100,
        121,
        144,
        169,
        196,
        225,
        256,
        289,
        324,
        361,
        400,
        441,
        484,
        529,
        576,
        625,
        676,
        729,
        784,
        841,
        900,
        961,
        1024,
        1089,
        1156,
        1225,
        1296,
        1369,
        1444,
        1521,
    ]
    f = {
        'k0':
            0,
        'k1':
            1,
        'k2':
            2,
        'k3':
            3,
        'k4':
            4,
        'k5':
            5,
        'k6':
            6,
        'k7':
            7,
        'k8':
            8,
    }






















































































































































    g = sum(e) + d
    return a, b, c, d, len(e), g, sorted(f.items())[:2]


print(long_loop(60))
print(long_loop(5))
print(long_for([1, 2, 3, 20000]))









print(gaps())
result = long_loop(
    30
    # more lines inside the call
    # more lines inside the call
    # more lines inside the call
    # more lines inside the call
    # more lines inside the call
    # more lines inside the call
    # more lines inside the call
    # more lines inside the call
    # more lines inside the call
    # more lines inside the call
)
print(result[0])
