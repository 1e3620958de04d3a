# Covers: string constants that are not valid UTF-8 (lone surrogates, stored by mpy-cross as raw bytes) as qstrs and as str objects; output avoids depending on them.

LONE = "\ud800"
MIXED = "ab\udfffcd"
LONG = "a long string constant with a lone surrogate \udc80 inside it, stored as an object"
print("module loaded")
print(len(LONE) > 0, len(MIXED) >= 4, len(LONG) > 40)
print(type(LONE).__name__, MIXED[:2], LONG[:6])
