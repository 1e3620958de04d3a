# Covers: constant objects: big ints, small-int boundaries, floats, inf/nan, complex, bytes, nested tuple constants, non-ASCII and long strings.

BIG = 2**200
NEG_BIG = -10**30
LITERAL_BIG = 123456789012345678901234567890
HEX_BIG = 0xFFFFFFFFFFFFFFFFFFFF
print(BIG)
print(NEG_BIG, LITERAL_BIG, HEX_BIG)
print(BIG // 3, BIG % 1000007, -BIG >> 190, NEG_BIG * NEG_BIG)

# around the 31-bit small-int limit of .mpy files and the 1-byte/multi-byte operand limits
ints = [0, 1, -1, 15, 16, 47, 48, -16, -17, 63, 64, -64, -65, 127, 128, 8191, 8192, -8192, -8193,
        1048575, 1048576, 1073741823, 1073741824, -1073741824, -1073741825, 2147483647, 4294967296]
print(ints)
print(sum(ints), 0o777, 0b1011, 1_000_000)

floats = [0.1, 2.5, 1.5e300, -1.25e-5, 1e100, 3.0, 0.0, -0.0, 100.75]
print(floats)
print(float("inf"), float("-inf"), float("nan"), 1.5e300 * 1e10)
print("%.4f %.3e %g" % (3.14159265, 123456.789, 0.00001))

z = 2j
w = 1.5j
print(z, w, z * z, 3 + 4j, (1 + 2j).imag, abs(3 + 4j))

blobs = [b"", b"abc", b"\x00\xff\x80\x7f", b"quote'\"", b"tab\tnl\n"]
print(blobs, len(blobs[3]), blobs[3][1])

nested = (1, (2, "x"), b"", None, 2.5)
deep = (True, False, ..., (1, (2, (3, (4,)))), -7, 2**70, "tuple str", 1j)
empty = ()
print(nested, deep, empty, nested[1][1], deep[3][1][1][1][0])
print(len(deep), deep[2] is Ellipsis)

text = "héllo wörld"
cjk = "日本語テキスト"
emoji = "snake 🐍 and ☃"
long_ascii = "this is a fairly long string constant that is not a short qstr"
long_utf8 = "ünïcödé string long enough to be stored as a constant object, ✓"
print(text, len(text), text.replace("l", "L"))
print(cjk, len(cjk), cjk[2], cjk[1:3])
print(emoji, len(emoji), emoji[6])
print(long_ascii, len(long_ascii))
print(long_utf8, len(long_utf8), long_utf8[-1])
print("tab\there", 'single \'quoted\'', "back\\slash", r"raw\n", "a" "b" "c")
triple = """line one
line two
    indented"""
print(triple, triple.count("\n"))
print(len(text.encode("utf-8")), cjk.encode("utf-8")[:3], bytes([0xE6, 0x97, 0xA5]).decode("utf-8"))
print(None, True, False, ..., ())
